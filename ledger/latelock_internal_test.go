package ledger

import (
	"cmp"
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// movingStore is a Store that takes its locks late, like MySQL's, and
// runs meanwhile once, just before a batch locks its accounts: another
// instance's transfer that commits between the batch's unlocked read of
// the balances and its lock.
type movingStore struct {
	Store
	mu        sync.Mutex
	meanwhile func()
	locks     int
}

func (s *movingStore) LocksRows() bool { return true }

func (s *movingStore) LockAccounts(ctx context.Context, ids []AccountID) (map[AccountID]*Account, error) {
	s.mu.Lock()
	f := s.meanwhile
	s.meanwhile = nil
	s.locks++
	s.mu.Unlock()
	if f != nil {
		f()
	}
	return s.Store.LockAccounts(ctx, ids)
}

// A batch that takes its locks late answers exactly as one that locked
// first (issue 20): when the balances it staged on moved before its lock,
// it re-stages on the locked ones, and runs again when an answer would
// change (a refusal that would now pass, a transfer that would now be
// refused). The book checks out after each.
func TestLateLockingAnswersAsLockingFirst(t *testing.T) {
	cases := []struct {
		name string
		move func(world, from, to Account) []Posting // what another instance posts meanwhile
		// want: the batch's answers (posted or refused), the balance left
		// on from, and the transactions it took.
		posted []bool
		left   paydesk.Amount
		txs    uint64
		amount paydesk.Amount // of each of the batch's two transfers (default 100)
	}{
		{name: "nothing moved", posted: []bool{true, false}, left: 50, txs: 1},
		{name: "the hot account was credited",
			move:   func(w, f, to Account) []Posting { return []Posting{{Source: w.ID, Destination: to.ID, Amount: 7}} },
			posted: []bool{true, false}, left: 50, txs: 1},
		{name: "the payer was topped up, so the refusal would pass",
			move:   func(w, f, to Account) []Posting { return []Posting{{Source: w.ID, Destination: f.ID, Amount: 100}} },
			posted: []bool{true, true}, left: 50, txs: 2},
		{name: "a batch of nothing but refusals, and the payer was topped up so both would pass",
			amount: 200,
			move:   func(w, f, to Account) []Posting { return []Posting{{Source: w.ID, Destination: f.ID, Amount: 300}} },
			posted: []bool{true, true}, left: 50, txs: 2},
		{name: "the payer spent elsewhere, so the first would be refused",
			move:   func(w, f, to Account) []Posting { return []Posting{{Source: f.ID, Destination: w.ID, Amount: 100}} },
			posted: []bool{false, false}, left: 50, txs: 2},
	}
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		for ci, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				if c.move != nil && db.Dialect == storage.SQLite {
					// SQLite's one writer: the other instance would wait for
					// the batch, which waits for it.
					t.Skip("another writer cannot commit inside a batch on SQLite")
				}
				tag := fmt.Sprintf("late%d", ci)
				ctx := context.Background()
				moving := &movingStore{Store: NewGormStore(db)}
				other, l, world, from, to := twoPosters(t, db, moving, tag, 150)
				if c.move != nil {
					moving.meanwhile = func() {
						if _, err := other.Post(ctx, Transfer{Reference: "move:" + tag, Kind: "test", Postings: c.move(world, from, to)}, nil); err != nil {
							t.Errorf("the other instance's transfer: %v", err)
						}
					}
				}
				batch := make([]*request, 2)
				amount := cmp.Or(c.amount, 100)
				for i := range batch {
					batch[i] = newRequest(Transfer{Reference: fmt.Sprintf("pay%d:%s", i, tag), Kind: "test", Postings: []Posting{{Source: from.ID, Destination: to.ID, Amount: amount}}})
				}
				before := l.Stats().Batches
				l.commit(batch)
				if moving.locks == 0 {
					t.Fatal("the batch locked nothing: the late path did not run")
				}
				if got := l.Stats().Batches - before; got != c.txs {
					t.Errorf("%d transactions, want %d", got, c.txs)
				}
				for i, r := range batch {
					got := <-r.done
					if posted := got.err == nil; posted != c.posted[i] {
						t.Errorf("request %d: %+v, %v; want posted %v", i, got.t, got.err, c.posted[i])
					}
					if got.err != nil && paydesk.ErrorCode(got.err) != ErrInsufficientFunds.Code {
						t.Errorf("request %d refused with %v, want LEDGER_INSUFFICIENT_FUNDS", i, got.err)
					}
				}
				bal, err := other.Balances(ctx, from.ID)
				if err != nil {
					t.Fatal(err)
				}
				if bal[from.ID] != c.left {
					t.Errorf("from has %d, want %d", bal[from.ID], c.left)
				}
				if r, err := other.Check(ctx); err != nil || !r.OK() {
					t.Errorf("check: %+v, %v", r, err)
				}
			})
		}
	})
}
