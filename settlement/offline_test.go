package settlement_test

import (
	"context"
	"testing"
	"time"

	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/settlement"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// TestOfflinePayoutShowsItsTrueState is seed 004's FAQ 3: the finance team
// paid a merchant by online banking while the app still said "not due".
// Recording the payout makes the batch PAID, with the money out of pending,
// and the scheduler leaves it alone.
func TestOfflinePayoutShowsItsTrueState(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		cal := settlement.Calendar{Location: shanghai, SettlementDays: 3}
		s := w.openShop(t, "Tea", 3, "6222020200112233")
		day := cal.DayOf(w.clock.Now())
		w.pay(t, s, w.customer(t, 50_000), "sale", 20_000)
		w.clock.Set(cal.End(day).Add(3 * time.Minute))
		w.tick(t)
		b := w.batchOf(t, s, day)
		wantState(t, "a T+3 batch the next morning", b.State, settlement.NotDue)

		_, err := w.svc.RecordOfflinePayout(ctx, b.ID, bank.PayoutFailed, "")
		wantCode(t, err, "INVALID_ARGUMENT") // a failure needs a reason
		paid, err := w.svc.RecordOfflinePayout(ctx, b.ID, bank.PayoutPaid, "paid by online banking, voucher 8812")
		if err != nil || paid.State != settlement.Paid || !paid.Offline || paid.Attempt != 1 {
			t.Fatalf("recorded: %+v %v", paid, err)
		}
		if bal := w.agree(t, s); bal.Book != 0 {
			t.Fatalf("after the offline payout: %+v", bal)
		}
		// Recorded again: nothing changes. The due date passes: nothing is paid twice.
		if again, err := w.svc.RecordOfflinePayout(ctx, b.ID, bank.PayoutPaid, "again"); err != nil || again.Version != paid.Version {
			t.Fatalf("recorded twice: %+v %v", again, err)
		}
		w.clock.Set(cal.Due(day).Add(time.Hour))
		w.tick(t)
		if got := w.batchOf(t, s, day); got.State != settlement.Paid || got.Version != paid.Version {
			t.Fatalf("the scheduler touched an offline batch: %+v", got)
		}
		if got := w.events.states(settlement.EventSettlementUpdated, b.ID); len(got) != 2 || got[1] != "PAID" {
			t.Fatalf("events %v", got)
		}
		// An offline payout is not the bank's: reconciliation does not expect it.
		r, err := w.svc.Reconcile(ctx, settlement.DayOf(w.clock.Now().UTC()), time.UTC, nil)
		if err != nil || !r.OK() {
			t.Fatalf("reconcile: %+v %v", r, err)
		}
		_, err = w.svc.RecordOfflinePayout(ctx, b.ID, bank.PayoutFailed, "bounced")
		wantCode(t, err, "PAYOUT_STATE_CONFLICT")
		_, err = w.svc.RecordOfflinePayout(ctx, 999999, bank.PayoutPaid, "")
		wantCode(t, err, "SETTLEMENT_NOT_FOUND")
	})
}
