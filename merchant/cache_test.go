package merchant_test

import (
	"context"
	"testing"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/internal/testkit"
	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/merchant"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// feeObserver records the merchant.updated of SetTerms, and whether it ran
// inside the change's transaction.
type feeObserver struct{ inTx []bool }

func (o *feeObserver) MerchantUpdated(ctx context.Context, m merchant.Merchant) error {
	o.inTx = append(o.inTx, storage.InTxContext(ctx))
	return nil
}

// With WithCache, Merchant serves a merchant from memory, but the fee
// SetTerms sets is read by the next Merchant, a transaction reads the
// database, and a change behind the service's back is read once the TTL
// has passed (or Forget is called).
func TestMerchantCache(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		clock := testkit.NewClock(time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC))
		l := ledger.New(ledger.NewGormStore(db), ledger.WithClock(clock.Now))
		t.Cleanup(l.Close)
		stores := merchant.NewGormStorage(db)
		staff := cashier.NewService(cashier.NewGormStorage(db), stores, storage.NewAttempts(db, clock.Now), clock.Now,
			cashier.WithPasswords(paydesk.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}))
		var obs feeObserver
		svc := merchant.NewService(stores, l, staff, clock.Now, merchant.WithCache(time.Second, 100), merchant.WithObserver(&obs))
		open, err := svc.CreateMerchant(ctx, merchant.NewMerchant{Name: "Lotus Tea", OwnerName: "Ms Li",
			OwnerPhone: "13800000001", OwnerPassword: "owner-pass-1"})
		if err != nil {
			t.Fatal(err)
		}
		id := open.Merchant.ID
		fee := func(ctx context.Context) paydesk.Rate {
			t.Helper()
			m, err := svc.Merchant(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return m.FeeRate
		}
		fee(ctx) // cached
		rate := paydesk.Rate(6_000)
		if _, err := svc.SetTerms(ctx, id, merchant.Terms{FeeRate: &rate}); err != nil {
			t.Fatal(err)
		}
		if got := fee(ctx); got != 6_000 {
			t.Fatalf("after SetTerms: %d", got)
		}
		if len(obs.inTx) != 1 || !obs.inTx[0] {
			t.Fatalf("observer calls (in a transaction?): %v, want one, inside", obs.inTx)
		}

		if err := db.Writer(ctx).Exec("UPDATE merchants SET fee_rate = 7000 WHERE id = ?", id).Error; err != nil {
			t.Fatal(err)
		}
		if got := fee(ctx); got != 6_000 {
			t.Fatalf("within the TTL: %d, want the cached 6000 (is the merchant cached at all?)", got)
		}
		err = db.InTx(ctx, func(ctx context.Context) error {
			if got := fee(ctx); got != 7_000 {
				t.Errorf("inside a transaction: %d, want the row's 7000", got)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		svc.Forget(id)
		if got := fee(ctx); got != 7_000 {
			t.Fatalf("after Forget: %d", got)
		}
		if err := db.Writer(ctx).Exec("UPDATE merchants SET fee_rate = 8000 WHERE id = ?", id).Error; err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Second)
		if got := fee(ctx); got != 8_000 {
			t.Fatalf("after the TTL: %d", got)
		}
	})
}
