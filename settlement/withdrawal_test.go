package settlement_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/rbac"
	"github.com/paydesk/paydesk/settlement"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// funded is a shop whose day of sales has been paid out and failed back
// into available: money an owner may withdraw.
func (w *world) funded(t testing.TB, name string, sales paydesk.Amount) *shop {
	t.Helper()
	s := w.openShop(t, name, 1, "6222020200112233")
	day := calendar.DayOf(w.clock.Now())
	w.pay(t, s, w.customer(t, sales), name+"-sale", sales)
	w.clock.Set(calendar.End(day).Add(3 * time.Minute))
	w.tick(t)
	b := w.batchOf(t, s, day)
	if _, err := w.svc.RecordOfflinePayout(context.Background(), b.ID, bank.PayoutFailed, "held back for the test"); err == nil {
		t.Fatal("an offline outcome was recorded over a SUBMITTED batch")
	}
	if err := w.bank.Complete(b.Reference, bank.PayoutFailed, "account frozen"); err != nil {
		t.Fatal(err)
	}
	if b := w.agree(t, s); b.Available != b.Book || b.Available == 0 {
		t.Fatalf("funded shop: %+v", b)
	}
	return s
}

func TestWithdrawal(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		w := newWorld(t, db, func(s *setup) {
			s.cfg.WithdrawalFee = 200
			s.cfg.WithdrawalDailyLimit = 60_000
		})
		s := w.funded(t, "Tea", 55_000)
		avail := w.agree(t, s).Available

		// Refused before anything moves.
		cash := cashier.Actor{StaffID: s.cashier.StaffID, MerchantID: s.ID, Role: rbac.Cashier}
		for _, c := range []struct {
			name  string
			actor cashier.Actor
			no    string
			amt   paydesk.Amount
			code  string
		}{
			{"a cashier", cash, "w-0", 1_000, "FORBIDDEN"},
			{"below the minimum", s.owner, "w-0", 99, "WITHDRAWAL_BELOW_MINIMUM"},
			{"zero", s.owner, "w-0", 0, "INVALID_AMOUNT"},
			{"a bad request_no", s.owner, "w 0", 1_000, "INVALID_REQUEST_NO"},
			{"above the daily limit", s.owner, "w-0", 60_001, "WITHDRAWAL_DAILY_LIMIT"},
			{"more than available with the fee", s.owner, "w-0", avail - 199, "MERCHANT_INSUFFICIENT_BALANCE"},
		} {
			_, err := w.svc.Withdraw(ctx, c.actor, c.no, c.amt)
			if paydesk.ErrorCode(err) != c.code {
				t.Errorf("%s: %v, want %s", c.name, err, c.code)
			}
		}
		if b := w.agree(t, s); b.Available != avail {
			t.Fatalf("refused withdrawals moved money: %+v", b)
		}

		// One goes through: amount frozen, fee to the platform.
		wd, err := w.svc.Withdraw(ctx, s.owner, "w-1", 30_000)
		if err != nil || wd.State != settlement.Submitted || wd.Fee != 200 || wd.Attempt != 1 {
			t.Fatalf("withdraw: %+v %v", wd, err)
		}
		if b := w.agree(t, s); b.Available != avail-30_200 || b.Frozen != 30_000 {
			t.Fatalf("during the withdrawal: %+v", b)
		}
		// The same request again is the same withdrawal; another amount is a conflict.
		if again, err := w.svc.Withdraw(ctx, s.owner, "w-1", 30_000); err != nil || again.ID != wd.ID {
			t.Fatalf("retried withdrawal: %+v %v", again, err)
		}
		_, err = w.svc.Withdraw(ctx, s.owner, "w-1", 30_001)
		wantCode(t, err, "IDEMPOTENCY_CONFLICT")
		// 300.00 of today's 600.00 are used.
		_, err = w.svc.Withdraw(ctx, s.owner, "w-2", 30_001)
		wantCode(t, err, "WITHDRAWAL_DAILY_LIMIT")

		// The bank pays.
		if err := w.bank.Complete(wd.Reference, bank.PayoutPaid, ""); err != nil {
			t.Fatal(err)
		}
		if got, _ := w.svc.Withdrawal(ctx, s.ID, wd.ID); got.State != settlement.Paid {
			t.Fatalf("paid withdrawal: %+v", got)
		}
		if b := w.agree(t, s); b.Frozen != 0 || b.Available != avail-30_200 {
			t.Fatalf("after the withdrawal: %+v", b)
		}

		// A failed one gives the money and the fee back, and frees the limit.
		w2, err := w.svc.Withdraw(ctx, s.owner, "w-3", 20_000)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.bank.Complete(w2.Reference, bank.PayoutFailed, "account frozen"); err != nil {
			t.Fatal(err)
		}
		got, _ := w.svc.Withdrawal(ctx, s.ID, w2.ID)
		if got.State != settlement.Failed || got.Reason != "account frozen" {
			t.Fatalf("failed withdrawal: %+v", got)
		}
		if b := w.agree(t, s); b.Available != avail-30_200 || b.Frozen != 0 {
			t.Fatalf("after the failed withdrawal: %+v", b)
		}
		if _, err := w.svc.Withdraw(ctx, s.owner, "w-4", 24_000); err != nil {
			t.Fatalf("the failed withdrawal still counts against the limit: %v", err)
		}
		if states := w.events.states(settlement.EventWithdrawalUpdated, w2.ID); !slices.Equal(states, []string{"SUBMITTED", "FAILED"}) {
			t.Fatalf("withdrawal events %v", states)
		}

		// The list, newest first, in pages.
		page, next, err := w.svc.Withdrawals(ctx, s.ID, 0, 2)
		if err != nil || len(page) != 2 || next == 0 || page[0].RequestNo != "w-4" {
			t.Fatalf("first page: %+v %d %v", page, next, err)
		}
		rest, next, err := w.svc.Withdrawals(ctx, s.ID, next, 2)
		if err != nil || len(rest) != 1 || next != 0 || rest[0].RequestNo != "w-1" {
			t.Fatalf("second page: %+v %d %v", rest, next, err)
		}
		// Another merchant's id is not found.
		other := w.openShop(t, "Other", 1, "")
		if _, err := w.svc.Withdrawal(ctx, other.ID, wd.ID); paydesk.ErrorCode(err) != "WITHDRAWAL_NOT_FOUND" {
			t.Fatalf("another merchant's withdrawal: %v", err)
		}
		_, err = w.svc.Withdraw(ctx, other.owner, "w-1", 1_000)
		wantCode(t, err, "BANK_ACCOUNT_NOT_BOUND")
	})
}

// TestConcurrentWithdrawals: owners pressing "withdraw" on several phones
// at once never take more than available, nor more than the daily limit,
// and a request_no sent many times makes one withdrawal.
func TestConcurrentWithdrawals(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		w := newWorld(t, db, func(s *setup) { s.cfg.WithdrawalDailyLimit = 45_000 })
		s := w.funded(t, "Tea", 100_000)

		var wg sync.WaitGroup
		var mu sync.Mutex
		ids := map[string]map[int64]bool{}
		for i := range 24 {
			wg.Go(func() {
				no := fmt.Sprintf("c-%d", i%8) // each number three times
				wd, err := w.svc.Withdraw(ctx, s.owner, no, 10_000)
				if err != nil {
					if c := paydesk.ErrorCode(err); c != "WITHDRAWAL_DAILY_LIMIT" {
						t.Errorf("withdraw %s: %v", no, err)
					}
					return
				}
				mu.Lock()
				defer mu.Unlock()
				if ids[no] == nil {
					ids[no] = map[int64]bool{}
				}
				ids[no][wd.ID] = true
			})
		}
		wg.Wait()
		for no, m := range ids {
			if len(m) != 1 {
				t.Errorf("request %s made %d withdrawals", no, len(m))
			}
		}
		if len(ids) != 4 {
			t.Errorf("%d withdrawals of 10,000 fit a limit of 45,000, want 4", len(ids))
		}
		if b := w.agree(t, s); b.Frozen != paydesk.Amount(len(ids))*10_000 {
			t.Fatalf("frozen %s for %d withdrawals", b.Frozen, len(ids))
		}
	})
}
