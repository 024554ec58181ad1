package ledger_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// The store's multi-row statements go in chunks (on SQLite, of power-of-two
// sizes) and IN lists are padded: batches of every size, below, at and
// above the largest chunk, give exactly the rows, ids and reads that one
// statement per batch gave.
func TestStoreWritesAndReadsBatchesOfAnySize(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := ledger.NewGormStore(db)
		now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
		const nAccounts = 601
		accounts := make([]*ledger.Account, nAccounts)
		for i := range accounts {
			a := &ledger.Account{Code: fmt.Sprintf("acct:%d", i), Type: "test", Currency: "CNY", AllowNegative: true, CreatedAt: now, UpdatedAt: now}
			if err := s.CreateAccount(ctx, a); err != nil {
				t.Fatal(err)
			}
			accounts[i] = a
		}
		var allRefs []string
		transferIDs := map[string]int64{}
		for _, size := range []int{1, 2, 3, 45, 255, 256, 257, 300} {
			ts := make([]ledger.NewTransfer, size)
			for i := range ts {
				ts[i] = ledger.NewTransfer{Reference: fmt.Sprintf("t-%d-%d", size, i), Kind: "test", Memo: fmt.Sprint(i),
					Digest: fmt.Sprintf("%064d", i), CreatedAt: now}
			}
			err := s.InTx(ctx, func(ctx context.Context) error {
				ids, err := s.InsertTransfers(ctx, ts)
				if err != nil {
					return err
				}
				if len(ids) != size {
					return fmt.Errorf("%d ids for %d transfers", len(ids), size)
				}
				// Ids in insert order, each that of its own reference.
				var rows []struct {
					ID        int64
					Reference string
				}
				db.Writer(ctx).Raw("SELECT id, reference FROM ledger_transfers WHERE reference LIKE ? ORDER BY id", fmt.Sprintf("t-%d-%%", size)).Scan(&rows)
				if len(rows) != size {
					return fmt.Errorf("%d transfers written of %d", len(rows), size)
				}
				for i, r := range rows {
					if r.ID != ids[i] || r.Reference != ts[i].Reference {
						return fmt.Errorf("transfer %d: id %d ref %s, InsertTransfers said id %d for %s", i, r.ID, r.Reference, ids[i], ts[i].Reference)
					}
					transferIDs[r.Reference] = r.ID
				}
				// Two entries per transfer, on accounts spread over all of them.
				es := make([]ledger.Entry, 0, 2*size)
				for i, id := range ids {
					src, dst := accounts[(2*i)%nAccounts], accounts[(2*i+1)%nAccounts]
					for _, e := range []struct {
						a   *ledger.Account
						amt paydesk.Amount
					}{{src, -paydesk.Amount(i + 1)}, {dst, paydesk.Amount(i + 1)}} {
						e.a.Seq++
						e.a.Balance += e.amt
						e.a.UpdatedAt = now
						es = append(es, ledger.Entry{TransferID: id, AccountID: e.a.ID, Seq: e.a.Seq, Amount: e.amt, BalanceAfter: e.a.Balance, CreatedAt: now})
					}
				}
				if err := s.InsertEntries(ctx, es); err != nil {
					return err
				}
				// The touched accounts, in id order as the ledger saves them.
				touched := map[ledger.AccountID]*ledger.Account{}
				for _, e := range es {
					touched[e.AccountID] = accounts[e.AccountID-accounts[0].ID]
				}
				save := make([]*ledger.Account, 0, len(touched))
				for _, a := range touched {
					save = append(save, a)
				}
				slices.SortFunc(save, func(a, b *ledger.Account) int { return int(a.ID - b.ID) })
				return s.SaveBalances(ctx, save)
			})
			if err != nil {
				t.Fatalf("batch of %d: %v", size, err)
			}
			for i := range ts {
				allRefs = append(allRefs, ts[i].Reference)
			}
		}

		// Balances and seqs are those saved, and the entries agree with them.
		var ids []ledger.AccountID
		for _, a := range accounts {
			ids = append(ids, a.ID)
		}
		got, err := s.Accounts(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range accounts {
			if g := got[a.ID]; g.Balance != a.Balance || g.Seq != a.Seq {
				t.Fatalf("account %s: balance %d seq %d, want %d %d", a.Code, g.Balance, g.Seq, a.Balance, a.Seq)
			}
			if g := got[a.ID]; g.Code != a.Code || g.Type != a.Type || g.Currency != a.Currency || !g.AllowNegative || !g.CreatedAt.Equal(a.CreatedAt) || !g.UpdatedAt.Equal(a.UpdatedAt) {
				t.Fatalf("account %s read as %+v, want %+v", a.Code, g, *a)
			}
		}
		// With duplicates and a miss, outside and inside a transaction; none.
		some := []ledger.AccountID{ids[3], ids[0], ids[3], ledger.AccountID(1 << 40)}
		for _, inTx := range []bool{false, true} {
			err := s.InTx(ctx, func(txCtx context.Context) error {
				c := ctx
				if inTx {
					c = txCtx
				}
				got, err := s.Accounts(c, some)
				if err != nil {
					return err
				}
				if len(got) != 2 || got[ids[0]].Code != accounts[0].Code || got[ids[3]].Code != accounts[3].Code {
					return fmt.Errorf("Accounts(%v) = %+v, want accounts 0 and 3", some, got)
				}
				return nil
			})
			if err != nil {
				t.Fatalf("in a transaction %v: %v", inTx, err)
			}
		}
		if got, err := s.Accounts(ctx, nil); err != nil || len(got) != 0 {
			t.Fatalf("Accounts(nil) = %v, %v; want none", got, err)
		}
		r, err := s.Check(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !r.OK() {
			t.Fatalf("book not sound: %+v", r)
		}
		if want := int64(2 * len(allRefs)); r.Entries != want {
			t.Fatalf("%d entries, want %d", r.Entries, want)
		}

		// Reads of every size, in any order, with duplicates and misses.
		for _, n := range []int{1, 3, 45, 256, 257, 600, len(allRefs)} {
			refs := slices.Clone(allRefs[len(allRefs)-n:])
			slices.Reverse(refs)
			refs = append(refs, "missing-1", refs[0], "missing-2")
			err := s.InTx(ctx, func(ctx context.Context) error {
				found, err := s.TransfersByReference(ctx, refs)
				if err != nil {
					return err
				}
				if len(found) != n {
					return fmt.Errorf("TransfersByReference of %d recorded refs found %d", n, len(found))
				}
				for _, ref := range refs[:n] {
					if f, ok := found[ref]; !ok || f.ID != transferIDs[ref] {
						return fmt.Errorf("TransfersByReference: %s = %+v, want id %d", ref, f, transferIDs[ref])
					}
				}
				lock := slices.Clone(ids[nAccounts-min(n, nAccounts):])
				slices.Reverse(lock)
				lock = append(lock, lock[0], ledger.AccountID(1<<40))
				locked, err := s.LockAccounts(ctx, lock)
				if err != nil {
					return err
				}
				if len(locked) != min(n, nAccounts) {
					return fmt.Errorf("LockAccounts of %d accounts locked %d", min(n, nAccounts), len(locked))
				}
				for _, id := range lock[:len(lock)-2] {
					a := accounts[id-accounts[0].ID]
					if l := locked[id]; l == nil || l.Code != a.Code || l.Balance != a.Balance || l.Seq != a.Seq {
						return fmt.Errorf("LockAccounts: %d = %+v, want %+v", id, l, a)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatalf("reads of %d: %v", n, err)
			}
		}
	})
}
