package settlement_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/settlement"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// overview reads s's overview and checks it against its balances.
func (w *world) overview(t testing.TB, s *shop) settlement.Overview {
	t.Helper()
	o, err := w.svc.Overview(context.Background(), s.ID)
	if err != nil {
		t.Fatal(err)
	}
	b := w.agree(t, s)
	if o.Balance != b || o.Withdrawable != b.Available {
		t.Fatalf("overview %+v disagrees with the balances %+v", o, b)
	}
	var reserved, frozen paydesk.Amount
	for _, f := range o.Failed {
		reserved += f.Amount
	}
	for _, x := range o.InFlightBatches {
		frozen += x.Amount
	}
	for _, x := range o.InFlightWithdrawals {
		frozen += x.Amount
	}
	if reserved != o.Reserved || frozen != b.Frozen {
		t.Fatalf("overview: reserved %s (failed batches %s), frozen %s (in flight %s)", o.Reserved, reserved, b.Frozen, frozen)
	}
	return o
}

// TestManualPayoutMode: over two business days, a manual-payout merchant's
// batches settle into available at their due dates (nothing goes to the
// bank), the owner sees what arrives when, and withdraws part of it.
func TestManualPayoutMode(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		w := newWorld(t, db, func(s *setup) { s.cfg.WithdrawalFee = 100 })
		s := w.openShop(t, "Manual Tea", 2, "6222020200112233")
		if m, _ := w.svc.PayoutMode(ctx, s.ID); m != settlement.PayoutAuto {
			t.Fatalf("a new merchant's payout mode is %q, want auto", m)
		}
		wantCode(t, w.svc.SetPayoutMode(ctx, s.ID, "weekly"), "INVALID_PAYOUT_MODE")
		if err := w.svc.SetPayoutMode(ctx, s.ID, settlement.PayoutManual); err != nil {
			t.Fatal(err)
		}
		c := w.customer(t, 100_000)
		day1 := calendar.DayOf(w.clock.Now())
		w.pay(t, s, c, "d1-a", 12_000)
		w.pay(t, s, c, "d1-b", 8_000)
		w.agree(t, s)

		// Cut-off of day 1: a batch, NOT_DUE, shown as upcoming with its due date.
		w.clock.Set(calendar.End(day1).Add(3 * time.Minute))
		w.tick(t)
		b1 := w.batchOf(t, s, day1)
		wantState(t, "day 1's batch after the cut-off", b1.State, settlement.NotDue)
		o := w.overview(t, s)
		if len(o.Upcoming) != 1 || o.Upcoming[0].ID != b1.ID || !o.Upcoming[0].DueAt.Equal(b1.DueAt) || o.Withdrawable != 0 || o.Mode != settlement.PayoutManual {
			t.Fatalf("overview after the cut-off: %+v", o)
		}
		day2 := day1.AddDays(1)
		w.pay(t, s, c, "d2-a", 30_000)
		// Day 2's cut-off is day 1's due date (T+2): day 1 settles into
		// available, not paid to the bank; day 2 is upcoming.
		if !b1.DueAt.Equal(calendar.End(day2)) {
			t.Fatalf("day 1's batch is due %s, want the end of day 2", b1.DueAt)
		}
		w.clock.Set(calendar.End(day2).Add(3 * time.Minute))
		w.tick(t)
		b2 := w.batchOf(t, s, day2)
		if o := w.overview(t, s); len(o.Upcoming) != 1 || o.Upcoming[0].ID != b2.ID || o.Upcoming[0].State != settlement.NotDue {
			t.Fatalf("day 2's batch is not upcoming: %+v", o)
		}
		b1 = w.batchOf(t, s, day1)
		wantState(t, "day 1's batch at its due date", b1.State, settlement.Settled)
		if b1.Reference != "" || !strings.Contains(b1.Reason, "manual") {
			t.Fatalf("settled batch: %+v", b1)
		}
		if got := w.events.states(settlement.EventSettlementUpdated, b1.ID); !slices.Equal(got, []string{"NOT_DUE", "AWAITING_PAYMENT", "SETTLED"}) {
			t.Fatalf("day 1's batch pushed %v", got)
		}
		o = w.overview(t, s)
		if o.Available != b1.Amount || o.Withdrawable != b1.Amount || o.Reserved != 0 {
			t.Fatalf("after settling day 1: %+v (batch %s)", o, b1.Amount)
		}

		// The owner withdraws part of it.
		wd, err := w.svc.Withdraw(ctx, s.owner, "m-1", 5_000)
		if err != nil || wd.State != settlement.Submitted {
			t.Fatalf("withdraw: %+v %v", wd, err)
		}
		if o := w.overview(t, s); o.Available != b1.Amount-5_100 || len(o.InFlightWithdrawals) != 1 {
			t.Fatalf("after withdrawing: %+v", o)
		}
		if again, err := w.svc.Withdraw(ctx, s.owner, "m-1", 5_000); err != nil || again.ID != wd.ID {
			t.Fatalf("the same request_no again: %+v %v", again, err)
		}
		if err := w.bank.Complete(wd.Reference, bank.PayoutPaid, ""); err != nil {
			t.Fatal(err)
		}
		if wd, _ = w.svc.Withdrawal(ctx, s.ID, wd.ID); wd.State != settlement.Paid {
			t.Fatalf("withdrawal after the bank paid: %+v", wd)
		}
		// More than is left is refused, and nothing moves.
		_, err = w.svc.Withdraw(ctx, s.owner, "m-2", b1.Amount)
		wantCode(t, err, "MERCHANT_INSUFFICIENT_BALANCE")

		// Day 2 settles too; the rest is withdrawable.
		w.clock.Set(b2.DueAt.Add(time.Minute))
		w.tick(t)
		wantState(t, "day 2's batch", w.batchOf(t, s, day2).State, settlement.Settled)
		o = w.overview(t, s)
		if o.Available != b1.Amount+b2.Amount-5_100 || o.Pending != 0 || len(o.Upcoming) != 0 {
			t.Fatalf("after day 2 settled: %+v", o)
		}
		for _, b := range []settlement.Batch{b1, b2} {
			if _, err := w.bank.PayoutStatus(ctx, fmt.Sprintf("stl-%d-1", b.ID)); !errors.Is(err, bank.ErrPayoutNotFound) {
				t.Fatalf("a manual merchant's batch %d went to the bank: %v", b.ID, err)
			}
		}
	})
}

// autoFailed opens an auto-mode shop whose one day's batch the bank refused.
func (w *world) autoFailed(t testing.TB, name string, sales paydesk.Amount) (*shop, settlement.Batch) {
	t.Helper()
	s := w.openShop(t, name, 1, "6222020200112233")
	day := calendar.DayOf(w.clock.Now())
	w.pay(t, s, w.customer(t, sales+100_000), strings.ReplaceAll(name, " ", "-")+"-d1", sales)
	w.clock.Set(calendar.End(day).Add(3 * time.Minute))
	w.tick(t)
	b := w.batchOf(t, s, day)
	wantState(t, name+"'s batch at its due date", b.State, settlement.Submitted)
	w.overview(t, s)
	if err := w.bank.Complete(b.Reference, bank.PayoutFailed, "account closed"); err != nil {
		t.Fatal(err)
	}
	b = w.batchOf(t, s, day)
	wantState(t, name+"'s batch after the bank refused", b.State, settlement.Failed)
	if o := w.overview(t, s); o.Reserved != b.Amount || o.Available != b.Amount || len(o.Failed) != 1 {
		t.Fatalf("after the failure: %+v", o)
	}
	return s, b
}

// TestAutoPayoutRecovers: a failed payout, then a changed bank account,
// then a successful retry; and a failed payout whose money the owner
// withdraws in part, which closes the batch (it is never retried).
func TestAutoPayoutRecovers(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		w := newWorld(t, db)

		s, b := w.autoFailed(t, "Retry Noodles", 40_000)
		w.clock.Advance(time.Minute)
		w.tick(t) // the account is unchanged: no retry
		wantState(t, "the failed batch before the account changed", w.batchOf(t, s, b.BusinessDay).State, settlement.Failed)
		if _, err := w.svc.SetBankAccount(ctx, s.ID, bank.BankAccount{Number: "6222020200445566", Holder: "Retry Noodles Ltd", BankName: "BOC"}); err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(time.Minute)
		w.tick(t)
		b = w.batchOf(t, s, b.BusinessDay)
		if b.State != settlement.Submitted || b.Attempt != 2 || b.Reason != "" {
			t.Fatalf("retried batch: %+v", b)
		}
		w.overview(t, s)
		if err := w.bank.Complete(b.Reference, bank.PayoutPaid, ""); err != nil {
			t.Fatal(err)
		}
		b = w.batchOf(t, s, b.BusinessDay)
		wantState(t, "the retried batch", b.State, settlement.Paid)
		if o := w.overview(t, s); o.Book != 0 || o.Reserved != 0 {
			t.Fatalf("after the retry paid: %+v", o)
		}

		// The owner takes part of a failed batch's money out.
		s2, f := w.autoFailed(t, "Withdraw Noodles", 40_000)
		w.clock.Advance(time.Minute)
		wd, err := w.svc.Withdraw(ctx, s2.owner, "part-1", 10_000)
		if err != nil || wd.State != settlement.Submitted {
			t.Fatalf("withdraw part of the failed batch: %+v %v", wd, err)
		}
		f = w.batchOf(t, s2, f.BusinessDay)
		if f.State != settlement.Settled || !strings.Contains(f.Reason, "part-1") {
			t.Fatalf("the failed batch after a withdrawal from its money: %+v", f)
		}
		if got := w.events.states(settlement.EventSettlementUpdated, f.ID); got[len(got)-1] != "SETTLED" {
			t.Fatalf("the batch pushed %v", got)
		}
		if o := w.overview(t, s2); o.Reserved != 0 || o.Available != f.Amount-10_000 || len(o.Failed) != 0 {
			t.Fatalf("after withdrawing part: %+v", o)
		}
		// A changed account no longer retries it: its money is the owner's.
		if _, err := w.svc.SetBankAccount(ctx, s2.ID, bank.BankAccount{Number: "6222020200778899", Holder: "Withdraw Noodles Ltd"}); err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(time.Minute)
		w.tick(t)
		wantState(t, "the closed batch after the account changed", w.batchOf(t, s2, f.BusinessDay).State, settlement.Settled)
		_, err = w.svc.RetryBatch(ctx, f.ID)
		wantCode(t, err, "PAYOUT_STATE_CONFLICT")
		if err := w.bank.Complete(wd.Reference, bank.PayoutPaid, ""); err != nil {
			t.Fatal(err)
		}
		// The rest, withdrawn in full.
		rest := w.overview(t, s2).Withdrawable
		if wd2, err := w.svc.Withdraw(ctx, s2.owner, "part-2", rest); err != nil || wd2.State != settlement.Submitted {
			t.Fatalf("withdraw the rest %s: %+v %v", rest, wd2, err)
		}
		if o := w.overview(t, s2); o.Available != 0 {
			t.Fatalf("after withdrawing the rest: %+v", o)
		}
	})
}

// TestImpossibleRetryIsShown: refunds take a failed batch's money out of
// available; its retry cannot be paid, and the batch says so instead of
// keeping the bank's stale reason.
func TestImpossibleRetryIsShown(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		s := w.openShop(t, "Refund Rice", 1, "6222020200112233")
		day := calendar.DayOf(w.clock.Now())
		o := w.pay(t, s, w.customer(t, 100_000), "rr-1", 30_000)
		w.clock.Set(calendar.End(day).Add(3 * time.Minute))
		w.tick(t)
		b := w.batchOf(t, s, day)
		if err := w.bank.Complete(b.Reference, bank.PayoutFailed, "account closed"); err != nil {
			t.Fatal(err)
		}
		w.refund(t, s, o, "rr-refund", 10_000)
		w.agree(t, s)
		w.clock.Advance(time.Minute)
		if _, err := w.svc.SetBankAccount(ctx, s.ID, bank.BankAccount{Number: "6222020200445566", Holder: "Refund Rice Ltd"}); err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(time.Minute)
		w.tick(t)
		b = w.batchOf(t, s, day)
		if b.State != settlement.Failed || !strings.HasPrefix(b.Reason, "retry impossible") {
			t.Fatalf("a retry available cannot cover: %+v", b)
		}
		_, err := w.svc.RetryBatch(ctx, b.ID)
		wantCode(t, err, "MERCHANT_INSUFFICIENT_BALANCE")
		// The owner takes what is left; the batch closes.
		left := w.overview(t, s).Withdrawable
		if _, err := w.svc.Withdraw(ctx, s.owner, "rr-w", left); err != nil {
			t.Fatal(err)
		}
		wantState(t, "the batch after the owner withdrew what was left", w.batchOf(t, s, day).State, settlement.Settled)
		w.overview(t, s)
	})
}

// TestWithdrawalsRaceThePayout: many withdrawals race the scheduler's
// retry of a failed batch, and the scheduler's settling of a manual batch:
// together they never pay out more than was settled.
func TestWithdrawalsRaceThePayout(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		const sales = 50_000
		s, b := w.autoFailed(t, "Race Dumplings", sales)
		w.clock.Advance(time.Minute)
		if _, err := w.svc.SetBankAccount(ctx, s.ID, bank.BankAccount{Number: "6222020200445566", Holder: "Race Dumplings Ltd"}); err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(time.Minute)
		withdrawn := raceWithdrawalsAndTicks(t, w, s, "race")
		b = w.batchOf(t, s, b.BusinessDay)
		retried := paydesk.Amount(0)
		if b.State == settlement.Submitted {
			retried = b.Amount
		} else if b.State != settlement.Settled && b.State != settlement.Failed {
			t.Fatalf("batch after the race: %+v", b)
		}
		if b.State == settlement.Failed && withdrawn > 0 {
			t.Fatalf("withdrawals took %s of a batch still FAILED", withdrawn)
		}
		out := withdrawn + retried
		if out > b.Amount {
			t.Fatalf("paid out %s (withdrawals %s, retry %s) of a batch of %s", out, withdrawn, retried, b.Amount)
		}
		o := w.overview(t, s)
		if o.Available+out != b.Amount {
			t.Fatalf("available %s + paid out %s != the batch's %s", o.Available, out, b.Amount)
		}

		// Manual mode: withdrawals race the settling of the batch.
		m := w.openShop(t, "Race Buns", 1, "6222020200112233")
		if err := w.svc.SetPayoutMode(ctx, m.ID, settlement.PayoutManual); err != nil {
			t.Fatal(err)
		}
		day := calendar.DayOf(w.clock.Now())
		w.pay(t, m, w.customer(t, 100_000), "buns", sales)
		w.clock.Set(calendar.End(day).Add(3 * time.Minute))
		withdrawn = raceWithdrawalsAndTicks(t, w, m, "buns")
		w.tick(t)
		mb := w.batchOf(t, m, day)
		wantState(t, "the manual batch", mb.State, settlement.Settled)
		if got := withdrawn; got > mb.Amount || w.overview(t, m).Available != mb.Amount-got {
			t.Fatalf("withdrew %s of a settled %s", got, mb.Amount)
		}
	})
}

// raceWithdrawalsAndTicks runs twelve withdrawals of 90.00 by shop's owner
// (request numbers prefix-N) against three settlement ticks, all at once,
// and returns what the withdrawals that went through took (amount and fee).
// A withdrawal may only be refused for a short balance.
func raceWithdrawalsAndTicks(t *testing.T, w *world, sh *shop, prefix string) paydesk.Amount {
	t.Helper()
	ctx := context.Background()
	var withdrawn atomic.Int64
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Go(func() {
			wd, err := w.svc.Withdraw(ctx, sh.owner, fmt.Sprintf("%s-%d", prefix, i), 9_000)
			switch {
			case err == nil:
				withdrawn.Add(int64(wd.Amount + wd.Fee))
			case paydesk.ErrorCode(err) != "MERCHANT_INSUFFICIENT_BALANCE":
				t.Errorf("withdraw: %v", err)
			}
		})
	}
	for range 3 {
		wg.Go(func() {
			if err := w.svc.Tick(ctx); err != nil {
				t.Errorf("tick: %v", err)
			}
		})
	}
	wg.Wait()
	return paydesk.Amount(withdrawn.Load())
}
