package settlement_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/pos"
	"github.com/paydesk/paydesk/settlement"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

var calendar = settlement.Calendar{Location: shanghai, SettlementDays: 1}

// TestWholeBusinessDay runs one business day of two T+1 merchants from the
// first payment to the money at the bank: payments and refunds through the
// POS, the cut-off, the batches, their payouts, a PAID callback for one
// merchant and, for the other, a FAILED one, a new bank account and a
// retry. At every step the balances, the batches and a statement agree to
// the cent.
func TestWholeBusinessDay(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		tea := w.openShop(t, "Tea", 1, "6222020200112233")
		noodle := w.openShop(t, "Noodle", 1, bank.SimAccountClosed)
		alice, bob := w.customer(t, 500_000), w.customer(t, 500_000)
		day := settlement.DayOf(w.clock.Now().In(shanghai))

		// The day's trade: payments, and refunds (which return the fee on
		// the refunded part).
		var orders []pos.Order
		var refunds []pos.Refund
		orders = append(orders, w.pay(t, tea, alice, "t-1", 12_345), w.pay(t, tea, bob, "t-2", 20_000))
		w.agree(t, tea)
		refunds = append(refunds, w.refund(t, tea, orders[1], "t-2-r1", 5_001))
		w.agree(t, tea)
		n1 := w.pay(t, noodle, alice, "n-1", 8_800)
		w.pay(t, noodle, bob, "n-2", 1_200)
		w.refund(t, noodle, n1, "n-1-r1", 800)
		w.agree(t, noodle)

		// A payment in the last seconds of the day is the day's; one just
		// after midnight is the next day's.
		end := calendar.End(day)
		w.clock.Set(end.Add(-15 * time.Second))
		orders = append(orders, w.pay(t, tea, alice, "t-late", 999))
		teaAtCut := w.agree(t, tea).Pending
		noodleAtCut := w.agree(t, noodle).Pending
		w.clock.Set(end.Add(30 * time.Second))
		next := w.pay(t, tea, bob, "t-next", 1_000)

		// Within the grace after the cut-off nothing is cut yet.
		w.tick(t)
		if bs, _, _ := w.svc.Batches(ctx, tea.ID, 0, 10); len(bs) != 0 {
			t.Fatalf("batches cut within the grace period: %+v", bs)
		}

		// After it, each merchant gets its batch. T+1 is due at once, so
		// the same tick submits it: pending → frozen.
		w.clock.Set(end.Add(3 * time.Minute))
		w.tick(t)
		tb := w.batchOf(t, tea, day)
		wantState(t, "tea's batch", tb.State, settlement.Submitted)
		var payments, fees paydesk.Amount
		for _, o := range orders {
			payments += o.Amount
			fees += o.Fee
		}
		for _, r := range refunds {
			fees -= r.FeeReturned
		}
		if tb.Payments != payments || tb.Refunds != 5_001 || tb.Fees != fees || tb.Net != payments-5_001-fees || tb.Amount != tb.Net || tb.Net != teaAtCut {
			t.Fatalf("tea's batch = %+v; want payments %s, refunds 50.01, fees %s, net = amount = pending at the cut-off %s", tb, payments, fees, teaAtCut)
		}
		nb := w.batchOf(t, noodle, day)
		if nb.Amount != noodleAtCut || nb.State != settlement.Submitted {
			t.Fatalf("noodle's batch = %+v, want %s SUBMITTED", nb, noodleAtCut)
		}
		b := w.agree(t, tea)
		if b.Frozen != tb.Amount || b.Pending != next.Amount-next.Fee || b.Available != 0 {
			t.Fatalf("tea after submission: %+v; want frozen %s and only the next day's payment pending", b, tb.Amount)
		}
		w.agree(t, noodle)

		// The day's statement: its pending entries, less settlement's own,
		// are the batch to the cent.
		st := w.statement(t, tea, day, day)
		var dayNet paydesk.Amount
		for _, e := range st["pending"].entries {
			if e[4] != settlement.KindSettlement {
				v, _ := parseMoney(e[8])
				d, _ := parseMoney(e[7])
				if e[8] == "" {
					v = 0
				}
				if e[7] == "" {
					d = 0
				}
				dayNet += v - d
			}
		}
		if dayNet != tb.Net || st["pending"].opening != 0 || st["pending"].closing != tb.Net {
			t.Fatalf("statement of %s: pending entries net %s, opening %s, closing %s; batch net %s", day, dayNet, st["pending"].opening, st["pending"].closing, tb.Net)
		}

		// The bank pays Tea (its callback arrives twice: once counts).
		if err := w.bank.Complete(tb.Reference, bank.PayoutPaid, ""); err != nil {
			t.Fatal(err)
		}
		tb = w.batchOf(t, tea, day)
		wantState(t, "tea's batch after the bank paid", tb.State, settlement.Paid)
		if b := w.agree(t, tea); b.Frozen != 0 || b.Book != next.Amount-next.Fee {
			t.Fatalf("tea after payout: %+v", b)
		}

		// Noodle's account is closed: FAILED with the bank's reason, and the
		// money is back in available.
		if err := w.bank.Complete(nb.Reference, bank.PayoutFailed, "account closed"); err != nil {
			t.Fatal(err)
		}
		nb = w.batchOf(t, noodle, day)
		if nb.State != settlement.Failed || nb.Reason != "account closed" {
			t.Fatalf("noodle's batch = %+v, want FAILED for account closed", nb)
		}
		if b := w.agree(t, noodle); b.Available != nb.Amount || b.Frozen != 0 {
			t.Fatalf("noodle after the failure: %+v, want %s available", b, nb.Amount)
		}
		w.tick(t) // nothing changed: it stays FAILED
		wantState(t, "noodle's batch before a new account", w.batchOf(t, noodle, day).State, settlement.Failed)

		// Noodle binds a working account; the scheduler retries under a new
		// reference, from available, and the bank pays.
		w.clock.Advance(time.Minute)
		if _, err := w.svc.SetBankAccount(ctx, noodle.ID, bank.BankAccount{Number: "6222020200445566", Holder: "Noodle Ltd"}); err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(time.Minute)
		w.tick(t)
		retried := w.batchOf(t, noodle, day)
		if retried.State != settlement.Submitted || retried.Attempt != 2 || retried.Reference == nb.Reference {
			t.Fatalf("retried batch = %+v", retried)
		}
		if b := w.agree(t, noodle); b.Available != 0 || b.Frozen != nb.Amount {
			t.Fatalf("noodle during the retry: %+v", b)
		}
		if err := w.bank.Complete(retried.Reference, bank.PayoutPaid, ""); err != nil {
			t.Fatal(err)
		}
		wantState(t, "noodle's retried batch", w.batchOf(t, noodle, day).State, settlement.Paid)
		if b := w.agree(t, noodle); b.Book != 0 {
			t.Fatalf("noodle after the retry: %+v, want everything paid out", b)
		}

		// Every change was pushed, in order.
		want := map[*shop][]string{
			tea:    {"NOT_DUE", "AWAITING_PAYMENT", "SUBMITTED", "PAID"},
			noodle: {"NOT_DUE", "AWAITING_PAYMENT", "SUBMITTED", "FAILED", "SUBMITTED", "PAID"},
		}
		for s, states := range want {
			if got := w.events.states(settlement.EventSettlementUpdated, w.batchOf(t, s, day).ID); !slices.Equal(got, states) {
				t.Errorf("%s's settlement.updated events: %v, want %v", s.Name, got, states)
			}
		}

		// The bank's day agrees with the ledger.
		bankDay := settlement.DayOf(w.clock.Now().UTC())
		r, err := w.svc.Reconcile(ctx, bankDay, time.UTC, w.bank.PaidPayouts(bankDay.String()))
		if err != nil || !r.OK() || r.Matched != 2 || r.LedgerTotal != tb.Amount+nb.Amount {
			t.Fatalf("reconciliation: %+v %v", r, err)
		}
	})
}

// TestNegativeDayIsNetted: a refund of an earlier day's payment can make a
// day net negative. Its deficit comes off the newest batch still in
// pending, and what no open batch covers is carried into the next batch.
// Balances and batches agree throughout.
func TestNegativeDayIsNetted(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		cal := settlement.Calendar{Location: shanghai, SettlementDays: 2}
		shop := w.openShop(t, "Dumplings", 2, "6222020200112233")
		alice := w.customer(t, 500_000)
		d0 := settlement.DayOf(w.clock.Now().In(shanghai))

		big := w.pay(t, shop, alice, "d0-1", 10_000)
		w.clock.Set(cal.Start(d0.AddDays(1)).Add(10 * time.Hour))
		w.tick(t)
		b0 := w.batchOf(t, shop, d0)
		wantState(t, "day 0 (T+2)", b0.State, settlement.NotDue)
		w.agree(t, shop)

		// Day 1: a small sale and a large refund of day 0's payment.
		w.pay(t, shop, alice, "d1-1", 1_000)
		w.refund(t, shop, big, "d0-1-r1", 6_000)
		w.agree(t, shop)
		w.clock.Set(cal.End(d0.AddDays(1)).Add(3 * time.Minute))
		w.tick(t)
		b1 := w.batchOf(t, shop, d0.AddDays(1))
		b0 = w.batchOf(t, shop, d0)
		if b1.Net >= 0 || b1.Amount != 0 || b1.Adjustment != -b1.Net || b0.Adjustment != b1.Net || b0.Amount != b0.Net+b1.Net {
			t.Fatalf("netting: day 0 %+v, day 1 %+v", b0, b1)
		}
		w.agree(t, shop)

		// Day 0 is due on day 2 and pays the netted amount; day 1 has
		// nothing to pay.
		if b0.State != settlement.Submitted {
			t.Fatalf("day 0 on day 2 = %s", b0.State)
		}
		if err := w.bank.Complete(b0.Reference, bank.PayoutPaid, ""); err != nil {
			t.Fatal(err)
		}
		w.clock.Set(cal.Due(d0.AddDays(1)).Add(time.Minute))
		w.tick(t)
		b1 = w.batchOf(t, shop, d0.AddDays(1))
		wantState(t, "the empty batch", b1.State, settlement.Paid)
		if b := w.agree(t, shop); b.Book != 0 {
			t.Fatalf("after both batches: %+v", b)
		}

		// A deficit no open batch can cover is carried. Day 3's sale is
		// refunded on day 4 from pending (day 3's money is still there);
		// on day 5, before day 4 is cut, day 3's batch falls due and is paid
		// with day 5's first sale. When day 4 is cut its deficit has no open
		// batch left, and comes off day 5's batch.
		d3 := d0.AddDays(3)
		w.clock.Set(cal.Start(d3).Add(9 * time.Hour))
		p3 := w.pay(t, shop, alice, "d3-1", 5_000)
		w.clock.Set(cal.Start(d3.AddDays(1)).Add(9 * time.Hour))
		w.tick(t)
		b3 := w.batchOf(t, shop, d3)
		w.pay(t, shop, alice, "d4-1", 3_000)
		w.refund(t, shop, p3, "d3-1-r1", 4_000)
		_, err := w.svc.RecordOfflinePayout(ctx, b3.ID, bank.PayoutPaid, "paid by online banking")
		wantCode(t, err, "MERCHANT_INSUFFICIENT_BALANCE") // pending no longer holds all of day 3
		w.agree(t, shop)
		d5 := d3.AddDays(2)
		w.clock.Set(cal.Start(d5).Add(20 * time.Second))
		w.pay(t, shop, alice, "d5-1", 2_000)
		w.clock.Set(cal.Start(d5).Add(time.Minute))
		w.tick(t) // within day 4's grace: day 3 is submitted, day 4 not cut
		wantState(t, "day 3 on day 5", w.batchOf(t, shop, d3).State, settlement.Submitted)
		w.agree(t, shop)
		w.clock.Set(cal.Start(d5).Add(3 * time.Minute))
		w.tick(t)
		b4 := w.batchOf(t, shop, d3.AddDays(1))
		r, err := w.svc.Check(ctx, shop.ID)
		if err != nil || b4.Net >= 0 || b4.Amount != 0 || b4.Adjustment != -b4.Net || r.Carry != -b4.Net {
			t.Fatalf("day 4 %+v, check %s %v", b4, r, err)
		}
		w.agree(t, shop)
		w.clock.Set(cal.End(d5).Add(3 * time.Minute))
		w.tick(t)
		b5 := w.batchOf(t, shop, d5)
		if b5.Adjustment != b4.Net || b5.Amount != b5.Net+b4.Net {
			t.Fatalf("day 5 %+v after day 4's deficit %s", b5, b4.Net)
		}
		if r, _ := w.svc.Check(ctx, shop.ID); r.Carry != 0 {
			t.Fatalf("carry after day 5: %s", r)
		}
		w.agree(t, shop)
	})
}
