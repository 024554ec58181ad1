package ledger_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// The reads other packages make of the book: statement edges and pages,
// a time range's totals by kind, movements of several accounts, and a
// balance read under lock.
func TestReads(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		var mu sync.Mutex
		now := day
		at := func(d time.Time) {
			mu.Lock()
			defer mu.Unlock()
			now = d
		}
		l := ledger.New(ledger.NewGormStore(db), ledger.WithClock(func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			return now
		}))
		t.Cleanup(l.Close)
		mk := func(code string, neg bool) ledger.AccountID {
			a, err := l.CreateAccount(ctx, ledger.Account{Code: code, Type: "t", Currency: "CNY", AllowNegative: neg})
			if err != nil {
				t.Fatal(err)
			}
			return a.ID
		}
		world, shop, cash, coupon, fees := mk("world", true), mk("shop", false), mk("cash", false), mk("coupon", false), mk("fees", false)
		post := func(ref, kind string, ps ...ledger.Posting) ledger.Transfer {
			tr, err := l.Post(ctx, ledger.Transfer{Reference: ref, Kind: kind, Memo: "memo " + ref, Postings: ps}, nil)
			if err != nil {
				t.Fatal(err)
			}
			return tr
		}
		at(day.Add(time.Hour))
		top := post("top", "topup", ledger.Posting{Source: world, Destination: cash, Amount: 10_000}, ledger.Posting{Source: world, Destination: coupon, Amount: 500})
		at(day.Add(2 * time.Hour))
		pay := post("pay", "payment", ledger.Posting{Source: cash, Destination: shop, Amount: 3_000}, ledger.Posting{Source: coupon, Destination: shop, Amount: 200},
			ledger.Posting{Source: shop, Destination: fees, Amount: 30})
		at(day.Add(3 * time.Hour))
		post("refund", "refund", ledger.Posting{Source: shop, Destination: cash, Amount: 1_000}, ledger.Posting{Source: fees, Destination: shop, Amount: 10})
		at(day.Add(25 * time.Hour))
		post("settle", "settlement", ledger.Posting{Source: shop, Destination: world, Amount: 500})

		// Edges: shop's entries are seq 1..5 over the first day, 6 the next.
		first, ok, err := l.FirstEntryFrom(ctx, shop, day)
		if err != nil || !ok || first.Seq != 1 || first.Amount != 3_000 || first.BalanceAfter != 3_000 {
			t.Errorf("first from the day = %+v, %v, %v", first, ok, err)
		}
		last, ok, err := l.LastEntryBefore(ctx, shop, day.Add(24*time.Hour))
		if err != nil || !ok || last.Seq != 5 || last.BalanceAfter != 3_000+200-30-1_000+10 {
			t.Errorf("last before the next day = %+v, %v, %v", last, ok, err)
		}
		if e, ok, err := l.LastEntryBefore(ctx, shop, day); err != nil || ok {
			t.Errorf("last before the first entry = %+v, %v, %v; want none", e, ok, err)
		}
		if e, ok, err := l.FirstEntryFrom(ctx, shop, day.Add(48*time.Hour)); err != nil || ok {
			t.Errorf("first after the last entry = %+v, %v, %v; want none", e, ok, err)
		}

		// Pages chain by seq and carry their transfers.
		var got []ledger.Line
		page := make([]ledger.Line, 0, 2)
		for after := int64(0); after < 6; {
			if page, err = l.Lines(ctx, shop, after, 6, 2, page); err != nil || len(page) == 0 {
				t.Fatalf("page after %d: %v, %v", after, page, err)
			}
			got = append(got, page...)
			after = page[len(page)-1].Seq
		}
		if len(got) != 6 || got[0].Kind != "payment" || got[0].Reference != "pay" || got[0].Memo != "memo pay" || got[0].TransferID != pay.ID ||
			got[5].Kind != "settlement" || got[5].BalanceAfter != 1_680 {
			t.Errorf("lines = %+v", got)
		}
		for i, g := range got {
			if g.Seq != int64(i+1) {
				t.Errorf("line %d has seq %d", i, g.Seq)
			}
		}

		// Totals of the first day, settlement left out, payments apart.
		tot, err := l.Totals(ctx, ledger.TotalsFilter{AccountID: shop, From: day, To: day.Add(48 * time.Hour), Kind: "payment", Except: "settlement"})
		want := ledger.Totals{Entries: 5, KindIn: 3_200, KindOut: 30, OtherIn: 10, OtherOut: 1_000}
		if err != nil || tot != want {
			t.Errorf("totals = %+v, %v; want %+v", tot, err, want)
		}

		// Movements: newest first, a net amount per account, paged by transfer id.
		ms, err := l.Movements(ctx, []ledger.AccountID{cash, coupon}, 0, 2)
		if err != nil || len(ms) != 2 || ms[0].Reference != "refund" || ms[0].Amounts[cash] != 1_000 || ms[0].Amounts[coupon] != 0 ||
			ms[1].Reference != "pay" || ms[1].Amounts[cash] != -3_000 || ms[1].Amounts[coupon] != -200 || ms[1].Kind != "payment" || ms[1].Memo != "memo pay" {
			t.Fatalf("movements = %+v, %v", ms, err)
		}
		ms, err = l.Movements(ctx, []ledger.AccountID{cash, coupon}, ms[1].TransferID, 10)
		if err != nil || len(ms) != 1 || ms[0].TransferID != top.ID || ms[0].Amounts[cash] != 10_000 || ms[0].Amounts[coupon] != 500 ||
			!ms[0].CreatedAt.Equal(day.Add(time.Hour)) {
			t.Fatalf("older movements = %+v, %v", ms, err)
		}

		// A locked balance needs a transaction.
		if _, err := l.LockedBalance(ctx, cash); err == nil {
			t.Error("LockedBalance outside a transaction: want an error")
		}
		var bal paydesk.Amount
		if err := db.InTx(ctx, func(ctx context.Context) error {
			bal, err = l.LockedBalance(ctx, cash)
			return err
		}); err != nil || bal != 10_000-3_000+1_000 {
			t.Errorf("locked balance = %s, %v", bal, err)
		}
	})
}
