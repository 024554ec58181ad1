package ledger_test

import (
	"context"
	"errors"
	"testing"

	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// The chart of platform accounts is made once, with the codes, types and
// sign rules every package relies on, and the same chart is answered to
// every later caller, on this ledger or another over the same book.
func TestPlatformChart(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		l := ledger.New(ledger.NewGormStore(db))
		defer l.Close()
		p, err := l.Platform(ctx, "CNY")
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []struct {
			id       ledger.AccountID
			code     string
			typ      string
			negative bool
		}{
			{p.Clearing, ledger.ClearingAccount, ledger.TypeClearing, true},
			{p.Marketing, ledger.MarketingAccount, ledger.TypeMarketing, true},
			{p.CardRefunds, ledger.CardRefundsAccount, ledger.TypeCardRefunds, false},
			{p.Fees, ledger.FeeAccount, ledger.TypeFee, false},
		} {
			a, err := l.AccountByCode(ctx, want.code)
			if err != nil {
				t.Fatal(err)
			}
			if a.ID != want.id || a.Type != want.typ || a.AllowNegative != want.negative || a.Currency != "CNY" {
				t.Errorf("%s = %+v; want id %d, type %s, negative %v", want.code, a, want.id, want.typ, want.negative)
			}
		}
		if again, err := l.Platform(ctx, "CNY"); err != nil || again != p {
			t.Errorf("again = %+v, %v; want %+v", again, err, p)
		}
		other := ledger.New(ledger.NewGormStore(db))
		defer other.Close()
		if theirs, err := other.Platform(ctx, "CNY"); err != nil || theirs != p {
			t.Errorf("another ledger's chart = %+v, %v; want %+v", theirs, err, p)
		}
		// A book has one currency: its codes name none.
		fresh := ledger.New(ledger.NewGormStore(db))
		defer fresh.Close()
		for _, led := range []*ledger.Ledger{l, fresh} {
			if _, err := led.Platform(ctx, "USD"); !errors.Is(err, ledger.ErrAccountConflict) {
				t.Errorf("chart in USD: %v; want LEDGER_ACCOUNT_CONFLICT", err)
			}
		}
	})
}

// A chart first asked for inside a transaction that rolls back is not
// kept: the next caller makes it again rather than getting accounts that
// do not exist.
func TestPlatformChartRolledBack(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		l := ledger.New(ledger.NewGormStore(db))
		defer l.Close()
		rollback := errors.New("roll back")
		var inTx ledger.Platform
		err := db.InTx(ctx, func(ctx context.Context) error {
			var err error
			if inTx, err = l.Platform(ctx, "CNY"); err != nil {
				return err
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatal(err)
		}
		p, err := l.Platform(ctx, "CNY")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Account(ctx, p.Fees); err != nil {
			t.Fatalf("the chart names a fee account that does not exist: %v (inside the rolled back transaction: %+v)", err, inTx)
		}
	})
}
