package settlement_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/settlement"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// TestStatement checks the statement's days (in the merchant's time zone),
// its opening and closing balances, and its references, on three days of
// trade with a settlement in between.
func TestStatement(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		s := w.openShop(t, "Tea", 1, "6222020200112233")
		c := w.customer(t, 500_000)
		d1 := calendar.DayOf(w.clock.Now())
		d2 := d1.AddDays(1)

		o1 := w.pay(t, s, c, "morning", 10_000)
		w.refund(t, s, o1, "morning-r1", 2_500)
		w.clock.Set(calendar.End(d1).Add(-20 * time.Second))
		late := w.pay(t, s, c, "last-minute", 3_000) // 23:59:50 local
		w.clock.Set(calendar.End(d1).Add(3 * time.Minute))
		w.tick(t) // d1 is cut and submitted
		b1 := w.batchOf(t, s, d1)
		if err := w.bank.Complete(b1.Reference, bank.PayoutPaid, ""); err != nil {
			t.Fatal(err)
		}
		w.clock.Set(calendar.Start(d2).Add(10 * time.Hour))
		o2 := w.pay(t, s, c, "next-day", 4_000)

		// Day 1 alone: opening 0, the payments, the refund and the fees on
		// pending, closing at the day's batch. The batch leaves pending
		// after midnight, on day 2.
		st := w.statement(t, s, d1, d1)
		p := st["pending"]
		if p.opening != 0 || p.closing != b1.Net || b1.Net != b1.Amount {
			t.Fatalf("day 1 pending: opening %s closing %s, batch %+v", p.opening, p.closing, b1)
		}
		kinds := map[string]string{} // out_trade_no → the kinds of its rows
		var refunds int
		for _, e := range p.entries {
			kinds[e[6]] += e[4] + " "
			if e[4] == "refund" && e[6] == "morning" {
				refunds++
			}
			if !strings.HasSuffix(e[2], "+08:00") {
				t.Fatalf("time %s is not in the merchant's zone", e[2])
			}
		}
		for memo, want := range map[string]string{o1.OutTradeNo: "payment payment refund refund ", late.OutTradeNo: "payment payment "} {
			if kinds[memo] != want {
				t.Errorf("day 1 rows of %s: %q, want %q (a payment's credit and fee, a refund's debit and returned fee)", memo, kinds[memo], want)
			}
		}
		if refunds == 0 || len(st["frozen"].entries) != 0 {
			t.Errorf("day 1: %d refund rows, frozen %+v", refunds, st["frozen"])
		}

		// Day 2 opens where day 1 closed: the batch leaves pending for
		// frozen and frozen pays it to the bank; then the next day's sale.
		st2 := w.statement(t, s, d2, d2)
		p2, f2 := st2["pending"], st2["frozen"]
		if p2.opening != b1.Amount || p2.closing != o2.Amount-o2.Fee || f2.opening != 0 || f2.credits != b1.Amount || f2.debits != b1.Amount || f2.closing != 0 {
			t.Fatalf("day 2: pending %+v frozen %+v", p2, f2)
		}
		if e := p2.entries[0]; e[4] != settlement.KindSettlement || e[5] != "payout:"+b1.Reference+":freeze" {
			t.Fatalf("day 2 starts with %v", e)
		}
		if e := f2.entries[1]; e[5] != "payout:"+b1.Reference+":paid" {
			t.Fatalf("frozen pays out with %v", e)
		}
		// Both days: the same totals end to end.
		both := w.statement(t, s, d1, d2)
		if both["pending"].credits != p.credits+p2.credits || both["pending"].debits != p.debits+p2.debits || both["pending"].closing != p2.closing {
			t.Fatalf("two days %+v, day 1 %+v, day 2 %+v", both["pending"], p, p2)
		}
		// A day without entries: opening = closing = the balance then.
		quiet := w.statement(t, s, d2.AddDays(5), d2.AddDays(5))
		if len(quiet["pending"].entries) != 0 || quiet["pending"].opening != o2.Amount-o2.Fee || quiet["pending"].closing != o2.Amount-o2.Fee {
			t.Fatalf("quiet day: %+v", quiet["pending"])
		}
		before := w.statement(t, s, d1.AddDays(-3), d1.AddDays(-1))
		if len(before["pending"].entries) != 0 || before["pending"].closing != 0 {
			t.Fatalf("before the merchant: %+v", before["pending"])
		}

		for _, c := range []struct {
			from, to settlement.Day
		}{{d2, d1}, {d1, d1.AddDays(settlement.MaxStatementDays)}, {settlement.Day{}, d1}} {
			if _, err := w.svc.OpenStatement(ctx, s.ID, c.from, c.to); paydesk.ErrorCode(err) != "INVALID_ARGUMENT" {
				t.Errorf("statement %s..%s: %v", c.from, c.to, err)
			}
		}
		if _, err := w.svc.OpenStatement(ctx, 999999, d1, d1); paydesk.ErrorCode(err) != "MERCHANT_NOT_FOUND" {
			t.Errorf("unknown merchant: %v", err)
		}
	})
}
