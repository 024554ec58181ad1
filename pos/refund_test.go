package pos_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/pos"
	"github.com/paydesk/paydesk/rbac"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
	"github.com/paydesk/paydesk/wallet"
)

// owner is the shop's merchant as its owner sees it.
func (s *shop) owner() cashier.Actor {
	return cashier.Actor{StaffID: 1, MerchantID: s.merchant.ID, Role: rbac.Owner}
}

// paid takes a scan-code payment of amount from w and fails the test unless it is PAID.
func (s *shop) paid(t testing.TB, w wallet.WalletID, no string, amount paydesk.Amount) pos.Order {
	t.Helper()
	o, err := s.pos.TakeScanPayment(context.Background(), s.cashier, pos.ScanPayment{OutTradeNo: no, Amount: amount, PaymentCode: s.code(t, w)})
	if err != nil || o.State != pos.Paid {
		t.Fatalf("pay %s: %+v, %v", no, o, err)
	}
	return o
}

func (s *shop) balance(t testing.TB, id ledger.AccountID) paydesk.Amount {
	t.Helper()
	b, err := s.ledger.Balance(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// settle moves amount of the merchant's pending balance to available, as a
// settlement would.
func (s *shop) settle(t testing.TB, ref string, amount paydesk.Amount) {
	t.Helper()
	_, err := s.ledger.Post(context.Background(), ledger.Transfer{Reference: ref, Kind: "settlement",
		Postings: []ledger.Posting{{Source: s.merchant.Accounts.Pending, Destination: s.merchant.Accounts.Available, Amount: amount}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
}

func TestRefundPartialRepeatedAndIdempotent(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		w := s.customer(t, "13900000001", 10000)
		o := s.paid(t, w, "R1", 1000) // fee 4 (0.38% of 10.00, half up)
		if o.Fee != 4 || s.pending(t) != 996 {
			t.Fatalf("paid order fee %d, pending %d", o.Fee, s.pending(t))
		}
		r1, after, err := s.pos.RefundOrder(ctx, s.owner(), o.ID, pos.RefundRequest{RefundNo: "RF-1", Amount: 300, Reason: "too sweet"})
		if err != nil || after.State != pos.PartiallyRefunded || after.Refunded != 300 || r1.ToCash != 300 || r1.FeeReturned != 1 || r1.Replayed {
			t.Fatalf("refund 1 = %+v, order %+v, %v", r1, after, err)
		}
		if got := s.cash(t, w); got != 9300 {
			t.Errorf("wallet cash = %d, want 9300", got)
		}
		if got := s.pending(t); got != 996-300+1 {
			t.Errorf("pending = %d, want 697 (the fee share of 300 comes back)", got)
		}
		again, _, err := s.pos.RefundOrder(ctx, s.owner(), o.ID, pos.RefundRequest{RefundNo: "RF-1", Amount: 300})
		if err != nil || again.ID != r1.ID || !again.Replayed || s.cash(t, w) != 9300 {
			t.Fatalf("retried refund = %+v, %v", again, err)
		}
		_, _, err = s.pos.RefundOrder(ctx, s.owner(), o.ID, pos.RefundRequest{RefundNo: "RF-1", Amount: 301})
		wantCode(t, err, "IDEMPOTENCY_CONFLICT")
		_, _, err = s.pos.RefundOrder(ctx, s.owner(), o.ID, pos.RefundRequest{RefundNo: "RF-2", Amount: 701})
		wantCode(t, err, "REFUND_EXCEEDS_PAID")
		for _, bad := range []pos.RefundRequest{{RefundNo: "", Amount: 1}, {RefundNo: "a b", Amount: 1}, {RefundNo: "#void", Amount: 1}} {
			_, _, err = s.pos.RefundOrder(ctx, s.owner(), o.ID, bad)
			wantCode(t, err, "INVALID_REFUND_NO")
		}
		_, _, err = s.pos.RefundOrder(ctx, s.owner(), o.ID, pos.RefundRequest{RefundNo: "RF-0", Amount: 0})
		wantCode(t, err, "INVALID_AMOUNT")

		r2, after, err := s.pos.RefundOrder(ctx, s.owner(), o.ID, pos.RefundRequest{RefundNo: "RF-2", Amount: 700})
		if err != nil || after.State != pos.Refunded || after.Refunded != 1000 {
			t.Fatalf("refund 2 = %+v, order %+v, %v", r2, after, err)
		}
		if r1.FeeReturned+r2.FeeReturned != o.Fee {
			t.Errorf("fee returned %d + %d, want the whole fee %d", r1.FeeReturned, r2.FeeReturned, o.Fee)
		}
		if s.cash(t, w) != 10000 || s.pending(t) != 0 {
			t.Errorf("after a full refund: cash %d, pending %d", s.cash(t, w), s.pending(t))
		}
		_, _, err = s.pos.RefundOrder(ctx, s.owner(), o.ID, pos.RefundRequest{RefundNo: "RF-3", Amount: 1})
		wantCode(t, err, "ORDER_NOT_REFUNDABLE")
		list, err := s.pos.Refunds(ctx, s.owner(), o.ID)
		if err != nil || len(list) != 2 || list[0].RefundNo != "RF-1" || list[1].RefundNo != "RF-2" {
			t.Fatalf("refunds = %+v, %v", list, err)
		}

		// Another cashier's order is not there for this one.
		other := cashier.Actor{StaffID: s.cashier.StaffID + 100, MerchantID: s.merchant.ID, StoreID: s.cashier.StoreID, Role: rbac.Cashier}
		_, _, err = s.pos.RefundOrder(ctx, other, o.ID, pos.RefundRequest{RefundNo: "X", Amount: 1})
		wantCode(t, err, "ORDER_NOT_FOUND")
		_, err = s.pos.Refunds(ctx, other, o.ID)
		wantCode(t, err, "ORDER_NOT_FOUND")
	})
}

// Pending first, then available; what neither covers is refused whole.
func TestRefundTakesPendingThenAvailable(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		w := s.customer(t, "13900000001", 100000)
		o := s.paid(t, w, "A1", 10000) // fee 38, pending 9962
		s.settle(t, "settle-1", 9000)  // pending 962, available 9000
		r, _, err := s.pos.RefundOrder(ctx, s.owner(), o.ID, pos.RefundRequest{RefundNo: "1", Amount: 2000})
		if err != nil {
			t.Fatal(err)
		}
		// The fee share (8) goes to pending first, so pending gives 970.
		if r.FeeReturned != 8 || r.FromPending != 970 || r.FromAvailable != 1030 {
			t.Fatalf("refund from pending %d, available %d, fee back %d", r.FromPending, r.FromAvailable, r.FeeReturned)
		}
		if s.pending(t) != 0 || s.balance(t, s.merchant.Accounts.Available) != 7970 {
			t.Fatalf("pending %d, available %d", s.pending(t), s.balance(t, s.merchant.Accounts.Available))
		}
		// The merchant withdraws almost everything: 8000 more cannot be covered.
		_, err = s.ledger.Post(ctx, ledger.Transfer{Reference: "withdraw-1", Kind: "withdrawal", Postings: []ledger.Posting{
			{Source: s.merchant.Accounts.Available, Destination: s.merchant.Accounts.Frozen, Amount: 7000}}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		cash := s.cash(t, w)
		_, _, err = s.pos.RefundOrder(ctx, s.owner(), o.ID, pos.RefundRequest{RefundNo: "2", Amount: 8000})
		wantCode(t, err, "MERCHANT_INSUFFICIENT_BALANCE")
		if s.cash(t, w) != cash || s.balance(t, s.merchant.Accounts.Available) != 970 {
			t.Fatal("a refused refund moved money")
		}
		now, err := s.pos.OrderFor(ctx, s.owner(), o.ID)
		if err != nil || now.Refunded != 2000 || now.State != pos.PartiallyRefunded {
			t.Fatalf("order after a refused refund = %+v, %v", now, err)
		}
	})
}

// A payment of voucher, coupon, cash and card goes back the same ways.
func TestRefundGoesBackToEverySource(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		w := s.customer(t, "13900000001", 300)
		v, err := s.wallets.IssueVoucher(ctx, wallet.VoucherRequest{Wallet: w, Amount: 100, ExpiresAt: s.clock().Add(72 * time.Hour), Reference: "v1"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.wallets.IssueCoupon(ctx, wallet.CouponRequest{Wallet: w, Amount: 200, ExpiresAt: s.clock().Add(72 * time.Hour), Reference: "c1"}); err != nil {
			t.Fatal(err)
		}
		o := s.paid(t, w, "F1", 1000)
		f := o.Funding
		if f.Voucher != 100 || f.Coupon != 200 || f.Cash != 300 || f.Card != 400 || o.Fee != 3 {
			t.Fatalf("funding %+v, fee %d", f, o.Fee)
		}
		r1, _, err := s.pos.RefundOrder(ctx, s.owner(), o.ID, pos.RefundRequest{RefundNo: "1", Amount: 500})
		if err != nil || r1.ToCard != 400 || r1.ToCash != 100 || r1.CardState != pos.CardDone {
			t.Fatalf("refund 1 = %+v, %v", r1, err)
		}
		r2, after, err := s.pos.RefundOrder(ctx, s.owner(), o.ID, pos.RefundRequest{RefundNo: "2", Amount: 500})
		if err != nil || r2.ToCash != 200 || r2.ToCoupon != 200 || r2.ToVoucher != 100 || r2.FromMarketing != 300 || after.State != pos.Refunded {
			t.Fatalf("refund 2 = %+v, %v", r2, err)
		}
		if r1.FeeReturned+r2.FeeReturned != 3 {
			t.Errorf("fee returned %d + %d, want 3", r1.FeeReturned, r2.FeeReturned)
		}
		view, err := s.wallets.Wallet(ctx, w)
		if err != nil {
			t.Fatal(err)
		}
		// The card's 400 went back to the card; cash, coupon and voucher are as before the payment.
		if view.Cash != 300 || view.Coupons != 200 || len(view.Vouchers) != 1 || view.Vouchers[0].ID != v.ID {
			t.Fatalf("wallet after the refunds: cash %d, coupons %d, vouchers %+v", view.Cash, view.Coupons, view.Vouchers)
		}
		if s.pending(t) != 0 || s.balance(t, s.merchant.Accounts.Marketing) != 0 {
			t.Errorf("merchant keeps pending %d, marketing %d", s.pending(t), s.balance(t, s.merchant.Accounts.Marketing))
		}
	})
}

func TestRefundWindow(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		w := s.customer(t, "13900000001", 10000)
		o := s.paid(t, w, "W1", 1000)
		s.advance(pos.DefaultRefundWindow - time.Minute)
		if _, _, err := s.pos.RefundOrder(ctx, s.owner(), o.ID, pos.RefundRequest{RefundNo: "1", Amount: 100}); err != nil {
			t.Fatalf("refund inside the window: %v", err)
		}
		s.advance(2 * time.Minute)
		_, _, err := s.pos.RefundOrder(ctx, s.owner(), o.ID, pos.RefundRequest{RefundNo: "2", Amount: 100})
		wantCode(t, err, "REFUND_WINDOW_EXPIRED")
	})
}

// 50 refunds of one order at once: the sum never passes what was paid.
func TestConcurrentRefundsNeverExceedThePayment(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		w := s.customer(t, "13900000001", 10000)
		o := s.paid(t, w, "C1", 1000)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var sum paydesk.Amount
		ok := 0
		for i := range 50 {
			wg.Go(func() {
				r, _, err := s.pos.RefundOrder(ctx, s.owner(), o.ID, pos.RefundRequest{RefundNo: fmt.Sprintf("P-%d", i), Amount: 30})
				if err != nil {
					if paydesk.ErrorCode(err) != "REFUND_EXCEEDS_PAID" && paydesk.ErrorCode(err) != "ORDER_NOT_REFUNDABLE" {
						t.Errorf("refund %d: %v", i, err)
					}
					return
				}
				mu.Lock()
				sum += r.Amount
				ok++
				mu.Unlock()
			})
		}
		wg.Wait()
		if ok != 33 || sum != 990 {
			t.Fatalf("%d refunds of 30 went through (sum %d), want 33 (990 of 1000)", ok, sum)
		}
		now, _ := s.pos.OrderFor(ctx, s.owner(), o.ID)
		list, _ := s.pos.Refunds(ctx, s.owner(), o.ID)
		if now.Refunded != 990 || len(list) != 33 || s.cash(t, w) != 10000-1000+990 {
			t.Fatalf("order refunded %d, %d refund rows, cash %d", now.Refunded, len(list), s.cash(t, w))
		}
		r, err := s.ledger.Check(ctx)
		if err != nil || !r.OK() {
			t.Fatalf("ledger check: %+v, %v", r, err)
		}
	})
}
