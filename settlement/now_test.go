package settlement_test

import (
	"context"
	"testing"
	"time"

	"github.com/paydesk/paydesk/settlement"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

func allowSettleNow(s *setup) { s.cfg.AllowSettleNow = true }

// Settle now cuts today at this moment and makes it due at once, whatever
// the merchant's T+N; the scheduler then pays it. What is collected later
// today goes into tomorrow's batch, which starts where the early one ended:
// every entry is in one batch, and the balances, batches and statement
// agree at each step.
func TestSettleNowCutsTodayEarly(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		w := newWorld(t, db, allowSettleNow)
		tea := w.openShop(t, "Tea", 1, "6222020200112233")
		alice := w.customer(t, 500_000)
		today := settlement.DayOf(w.clock.Now().In(shanghai))
		early := w.pay(t, tea, alice, "t-1", 10_000)

		w.clock.Advance(time.Minute)
		b, ok, err := w.svc.SettleNow(ctx, tea.ID)
		if err != nil || !ok {
			t.Fatalf("settle now: %v %v", ok, err)
		}
		if b.BusinessDay != today || b.Payments != 10_000 || !b.DueAt.Equal(w.clock.Now()) || !b.DayEnd.Equal(w.clock.Now()) {
			t.Fatalf("batch = %+v", b)
		}
		w.agree(t, tea)
		// Settled money can be refunded but no longer voided.
		if settled, err := w.svc.Settled(ctx, tea.ID, early.PaidAt); err != nil || !settled {
			t.Fatalf("the early payment settled = %v, %v", settled, err)
		}

		// Again: the day is cut, nothing changes.
		again, ok, err := w.svc.SettleNow(ctx, tea.ID)
		if err != nil || !ok || again.ID != b.ID || again.Payments != b.Payments {
			t.Fatalf("settle now again = %+v %v %v", again, ok, err)
		}

		w.clock.Advance(time.Minute)
		later := w.pay(t, tea, alice, "t-2", 3_000)
		if settled, err := w.svc.Settled(ctx, tea.ID, later.PaidAt); err != nil || settled {
			t.Fatalf("a payment after settle now settled = %v, %v; want it in tomorrow's batch", settled, err)
		}
		w.tick(t)
		if got := w.batchOf(t, tea, today); got.State != settlement.Submitted {
			t.Fatalf("after a tick the early batch is %s, want SUBMITTED", got.State)
		}
		w.agree(t, tea)

		// Tomorrow's cut takes the rest of today with it.
		w.clock.Set(calendar.End(today.AddDays(1)).Add(time.Hour))
		w.tick(t)
		next := w.batchOf(t, tea, today.AddDays(1))
		if next.Payments != 3_000 || !next.DayStart.Equal(b.DayEnd) {
			t.Fatalf("tomorrow's batch = %+v, want the 30.00 paid after settle now, starting at %s", next, b.DayEnd)
		}
		w.agree(t, tea)
	})
}

// Without AllowSettleNow (production), settle now is refused.
func TestSettleNowRefusedByDefault(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		w := newWorld(t, db)
		tea := w.openShop(t, "Tea", 1, "6222020200112233")
		_, _, err := w.svc.SettleNow(context.Background(), tea.ID)
		wantCode(t, err, "SETTLE_NOW_REFUSED")
	})
}
