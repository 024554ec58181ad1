package settlement_test

import (
	"context"
	"testing"
	"time"

	"github.com/paydesk/paydesk/pos"
	"github.com/paydesk/paydesk/settlement"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// A payment can be voided on the day it was paid until its business day is
// cut; after that, even on the same calendar day, only a refund undoes it.
func TestSettledPaymentCannotBeVoided(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		// The business day ends at 22:00, two hours before midnight.
		w := newWorld(t, db, func(s *setup) { s.cfg.Cutoff = -2 * time.Hour })
		tea := w.openShop(t, "Tea", 1, "6222020200112233")
		alice := w.customer(t, 100_000)
		early := w.pay(t, tea, alice, "v-1", 10_000)
		late := w.pay(t, tea, alice, "v-2", 20_000)

		if settled, err := w.svc.Settled(ctx, tea.ID, early.PaidAt); err != nil || settled {
			t.Fatalf("settled before the cut: %v %v", settled, err)
		}
		if o, err := w.pos.VoidOrder(ctx, tea.cashier, early.ID); err != nil || o.State != pos.Revoked {
			t.Fatalf("void before the cut: %+v %v", o, err)
		}

		w.clock.Set(time.Date(2026, 11, 25, 22, 5, 0, 0, shanghai)) // after the cut-off and its grace
		if _, err := w.svc.CutDays(ctx, tea.Merchant); err != nil {
			t.Fatal(err)
		}
		if settled, err := w.svc.Settled(ctx, tea.ID, late.PaidAt); err != nil || !settled {
			t.Fatalf("not settled after the cut: %v %v", settled, err)
		}
		if settled, _ := w.svc.Settled(ctx, tea.ID, w.clock.Now()); settled {
			t.Fatal("money of the next business day counts as settled")
		}
		_, err := w.pos.VoidOrder(ctx, tea.cashier, late.ID)
		wantCode(t, err, "VOID_NOT_ALLOWED")
		w.refund(t, tea, late, "r-1", 20_000)
		if b, _, err := w.svc.Batches(ctx, tea.ID, 0, 10); err != nil || len(b) != 1 || b[0].BusinessDay != settlement.DayOf(early.PaidAt.In(shanghai)) {
			t.Fatalf("batches: %+v %v", b, err)
		}
	})
}
