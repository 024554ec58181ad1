package wallet_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
	"github.com/paydesk/paydesk/wallet"
)

func TestSplitRefundGoesBackInReverseOrder(t *testing.T) {
	f := wallet.Funding{Amount: 1000, Voucher: 100, Coupon: 300, Cash: 400, Card: 200,
		Vouchers: []wallet.VoucherUse{{ID: 7, Amount: 100}},
		Coupons:  []wallet.CouponUse{{ID: 1, Amount: 250}, {ID: 2, Amount: 50}}}
	tests := []struct {
		before, amount paydesk.Amount
		want           wallet.RefundSplit
	}{
		{0, 150, wallet.RefundSplit{Amount: 150, Card: 150}},
		{150, 100, wallet.RefundSplit{Amount: 100, Card: 50, Cash: 50}},
		{550, 100, wallet.RefundSplit{Amount: 100, Cash: 50, Coupon: 50, Coupons: []wallet.CouponUse{{ID: 2, Amount: 50}}}},
		{650, 300, wallet.RefundSplit{Amount: 300, Coupon: 250, Voucher: 50, Coupons: []wallet.CouponUse{{ID: 1, Amount: 250}}}},
		{950, 50, wallet.RefundSplit{Amount: 50, Voucher: 50, Vouchers: []wallet.VoucherID{7}}},
		{0, 1000, wallet.RefundSplit{Amount: 1000, Card: 200, Cash: 400, Coupon: 300, Voucher: 100,
			Coupons: []wallet.CouponUse{{ID: 2, Amount: 50}, {ID: 1, Amount: 250}}, Vouchers: []wallet.VoucherID{7}}},
	}
	for _, tt := range tests {
		got, err := wallet.SplitRefund(f, tt.before, tt.amount)
		if err != nil {
			t.Fatalf("split %d after %d: %v", tt.amount, tt.before, err)
		}
		if !equalSplit(got, tt.want) {
			t.Errorf("split %d after %d = %+v, want %+v", tt.amount, tt.before, got, tt.want)
		}
	}
	for _, bad := range [][2]paydesk.Amount{{0, 0}, {0, -1}, {900, 101}, {-1, 10}} {
		if _, err := wallet.SplitRefund(f, bad[0], bad[1]); err == nil {
			t.Errorf("split %d after %d: no error", bad[1], bad[0])
		}
	}
}

// Any sequence of partial refunds gives every source back exactly what it paid.
func TestSplitRefundsAddUpToTheFunding(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		f := wallet.Funding{Voucher: paydesk.Amount(rng.IntN(3) * 100), Cash: paydesk.Amount(rng.IntN(500)), Card: paydesk.Amount(rng.IntN(500))}
		if f.Voucher > 0 {
			f.Vouchers = []wallet.VoucherUse{{ID: 1, Amount: f.Voucher}}
		}
		for i := range rng.IntN(3) {
			a := paydesk.Amount(1 + rng.IntN(200))
			f.Coupons = append(f.Coupons, wallet.CouponUse{ID: wallet.CouponID(i + 1), Amount: a})
			f.Coupon += a
		}
		total := f.Voucher + f.Coupon + f.Cash + f.Card
		if total == 0 {
			continue
		}
		var sum wallet.RefundSplit
		perCoupon := map[wallet.CouponID]paydesk.Amount{}
		for done := paydesk.Amount(0); done < total; {
			amt := min(total-done, paydesk.Amount(1+rng.IntN(int(total))))
			s, err := wallet.SplitRefund(f, done, amt)
			if err != nil {
				t.Fatal(err)
			}
			if s.Card+s.Cash+s.Coupon+s.Voucher != amt {
				t.Fatalf("split %+v does not add up to %d", s, amt)
			}
			sum.Card, sum.Cash, sum.Coupon, sum.Voucher = sum.Card+s.Card, sum.Cash+s.Cash, sum.Coupon+s.Coupon, sum.Voucher+s.Voucher
			for _, c := range s.Coupons {
				perCoupon[c.ID] += c.Amount
			}
			done += amt
			if want := map[bool]int{true: len(f.Vouchers)}[done == total]; len(s.Vouchers) != want {
				t.Fatalf("%d vouchers restored at %d of %d, want %d", len(s.Vouchers), done, total, want)
			}
		}
		if sum.Card != f.Card || sum.Cash != f.Cash || sum.Coupon != f.Coupon || sum.Voucher != f.Voucher {
			t.Fatalf("refunds of %+v add up to %+v", f, sum)
		}
		for _, c := range f.Coupons {
			if perCoupon[c.ID] != c.Amount {
				t.Fatalf("coupon %d got back %d, paid %d", c.ID, perCoupon[c.ID], c.Amount)
			}
		}
	}
}

func equalSplit(a, b wallet.RefundSplit) bool {
	if a.Amount != b.Amount || a.Card != b.Card || a.Cash != b.Cash || a.Coupon != b.Coupon || a.Voucher != b.Voucher ||
		len(a.Coupons) != len(b.Coupons) || len(a.Vouchers) != len(b.Vouchers) {
		return false
	}
	for i := range a.Coupons {
		if a.Coupons[i] != b.Coupons[i] {
			return false
		}
	}
	for i := range a.Vouchers {
		if a.Vouchers[i] != b.Vouchers[i] {
			return false
		}
	}
	return true
}

// A payment of voucher, coupon, cash and card is refunded in two parts: the
// coupon and the voucher come back, and the card's share reaches the bank.
func TestRefundRestoresCouponsVouchersAndTheCard(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		id := f.register(t, "13800138001")
		f.fund(t, id, 300, "t-1")
		v := f.voucher(t, id, 100, 0, 10*day, "v-100")
		c := f.coupon(t, id, 200, 10*day, "c-200")
		fund, err := f.pay(ctx, id, 1, 1000, "order-9:pay")
		if err != nil {
			t.Fatal(err)
		}
		if fund.Voucher != 100 || fund.Coupon != 200 || fund.Cash != 300 || fund.Card != 400 {
			t.Fatalf("funding = %+v", fund)
		}
		// The merchant's side posts the refund the way the POS does.
		refund := func(ref string, before, amount paydesk.Amount) wallet.PreparedRefund {
			t.Helper()
			p, err := f.svc.PrepareRefund(ctx, wallet.RefundRequest{Wallet: id, PaymentReference: "order-9:pay", Funding: fund, Before: before, Amount: amount})
			if err != nil {
				t.Fatal(err)
			}
			var ps []ledger.Posting
			for _, leg := range []struct {
				from, to ledger.AccountID
				amt      paydesk.Amount
			}{{f.merchant.Pending, p.To.Card, p.Split.Card}, {f.merchant.Pending, p.To.Cash, p.Split.Cash},
				{f.merchant.Marketing, p.To.Coupon, p.Split.Coupon}, {f.merchant.Marketing, p.To.Voucher, p.Split.Voucher}} {
				if leg.amt > 0 {
					ps = append(ps, ledger.Posting{Source: leg.from, Destination: leg.to, Amount: leg.amt})
				}
			}
			if _, err := f.ledger.Post(ctx, ledger.Transfer{Reference: ref, Kind: "refund", Postings: ps}, p.Work); err != nil {
				t.Fatal(err)
			}
			return p
		}
		p := refund("order-9:refund:1", 0, 750)
		if p.Split.Card != 400 || p.Split.Cash != 300 || p.Split.Coupon != 50 || p.Split.Voucher != 0 || len(p.Split.Vouchers) != 0 {
			t.Fatalf("first split = %+v", p.Split)
		}
		out, err := f.svc.RefundCard(ctx, id, "order-9:refund:1:card", fund.CardDebit, p.Split.Card)
		if err != nil || out != wallet.CardRefunded {
			t.Fatalf("card refund = %v, %v", out, err)
		}
		if again, err := f.svc.RefundCard(ctx, id, "order-9:refund:1:card", fund.CardDebit, p.Split.Card); err != nil || again != wallet.CardRefunded {
			t.Fatalf("card refund again = %v, %v", again, err)
		}
		if rs := f.bank.Refunds(); len(rs) != 1 || rs[0].Amount != 400 {
			t.Fatalf("bank refunds = %+v", rs)
		}
		view, err := f.svc.Wallet(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if view.Cash != 300 || view.Coupons != 50 || len(view.Vouchers) != 0 {
			t.Fatalf("after a partial refund: cash %d, coupons %d, vouchers %v", view.Cash, view.Coupons, view.Vouchers)
		}
		p = refund("order-9:refund:2", 750, 250)
		if p.Split.Coupon != 150 || p.Split.Voucher != 100 || len(p.Split.Vouchers) != 1 || p.Split.Vouchers[0] != v.ID {
			t.Fatalf("second split = %+v", p.Split)
		}
		view, _ = f.svc.Wallet(ctx, id)
		if view.Coupons != 200 || len(view.Vouchers) != 1 || view.Vouchers[0].ID != v.ID || view.CouponList[0].ID != c.ID {
			t.Fatalf("after the full refund: coupons %d, vouchers %+v", view.Coupons, view.Vouchers)
		}
		if got := f.balance(t, ledger.CardRefundsAccount); got != 0 {
			t.Errorf("card-refunds account holds %d", got)
		}
	})
}

// A refund the bank refuses for good goes to the wallet's cash instead.
func TestRefundCardFallsBackToBalance(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		id := f.register(t, "13800138002")
		f.bindCard(t, id, bank.SimCardOK)
		// Money waiting for the card, for a debit the bank never made.
		plat, err := f.ledger.Platform(ctx, paydesk.DefaultCurrency)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.ledger.Post(ctx, ledger.Transfer{Reference: "seed", Kind: "test", Postings: []ledger.Posting{
			{Source: plat.Marketing, Destination: plat.CardRefunds, Amount: 500}}}, nil); err != nil {
			t.Fatal(err)
		}
		out, err := f.svc.RefundCard(ctx, id, "r-1:card", "never-debited", 500)
		if err != nil || out != wallet.CardRefundedToBalance {
			t.Fatalf("refund = %v, %v", out, err)
		}
		if got := f.cash(t, id); got != 500 {
			t.Fatalf("cash = %d, want the 500 the card could not take", got)
		}
	})
}
