package pos_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/pos"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

func TestVoid(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		w := s.customer(t, "13900000001", 10000)

		// Unpaid: it closes.
		qr, err := s.pos.CreateCollectionQR(ctx, s.cashier, pos.Collection{OutTradeNo: "V0", Amount: 500})
		if err != nil {
			t.Fatal(err)
		}
		if o, err := s.pos.VoidOrder(ctx, s.owner(), qr.ID); err != nil || o.State != pos.Closed {
			t.Fatalf("void of an unpaid order = %+v, %v", o, err)
		}

		// Paid today: refunded in full, REVOKED, and a second void is a no-op.
		o := s.paid(t, w, "V1", 1000)
		v, err := s.pos.VoidOrder(ctx, s.owner(), o.ID)
		if err != nil || v.State != pos.Revoked || v.Refunded != 1000 || s.cash(t, w) != 10000 || s.pending(t) != 0 {
			t.Fatalf("void = %+v, %v; cash %d, pending %d", v, err, s.cash(t, w), s.pending(t))
		}
		if again, err := s.pos.VoidOrder(ctx, s.owner(), o.ID); err != nil || again.State != pos.Revoked {
			t.Fatalf("second void = %+v, %v", again, err)
		}
		list, _ := s.pos.Refunds(ctx, s.owner(), o.ID)
		if len(list) != 1 || list[0].Kind != pos.KindVoid || list[0].Amount != 1000 {
			t.Fatalf("refunds of a voided order = %+v", list)
		}
		_, _, err = s.pos.RefundOrder(ctx, s.owner(), o.ID, pos.RefundRequest{RefundNo: "1", Amount: 1})
		wantCode(t, err, "ORDER_NOT_REFUNDABLE")

		// Partly refunded: no void.
		p := s.paid(t, w, "V2", 1000)
		if _, _, err := s.pos.RefundOrder(ctx, s.owner(), p.ID, pos.RefundRequest{RefundNo: "1", Amount: 100}); err != nil {
			t.Fatal(err)
		}
		_, err = s.pos.VoidOrder(ctx, s.owner(), p.ID)
		wantCode(t, err, "VOID_NOT_ALLOWED")

		// Settled: no void, even today.
		q := s.paid(t, w, "V3", 1000)
		s.pos.CheckSettlementWith(func(ctx context.Context, o pos.Order) (bool, error) { return o.ID == q.ID, nil })
		_, err = s.pos.VoidOrder(ctx, s.owner(), q.ID)
		wantCode(t, err, "VOID_NOT_ALLOWED")
		s.pos.CheckSettlementWith(nil)

		// Paid yesterday in Shanghai: the clock is at 18:00 there, and
		// seven hours later it is tomorrow.
		s.advance(7 * time.Hour)
		_, err = s.pos.VoidOrder(ctx, s.owner(), q.ID)
		wantCode(t, err, "VOID_NOT_ALLOWED")

		// Instalment orders are listed but never voided nor refunded.
		in, err := s.pos.RecordInstallmentOrder(ctx, s.cashier, pos.InstallmentOrder{OutTradeNo: "I1", Amount: 50000, Subject: "Phone"})
		if err != nil || in.Kind != pos.KindInstallment || in.State != pos.Paid {
			t.Fatalf("instalment order = %+v, %v", in, err)
		}
		if again, err := s.pos.RecordInstallmentOrder(ctx, s.cashier, pos.InstallmentOrder{OutTradeNo: "I1", Amount: 50000, Subject: "Phone"}); err != nil || again.ID != in.ID {
			t.Fatalf("instalment order again = %+v, %v", again, err)
		}
		_, err = s.pos.VoidOrder(ctx, s.owner(), in.ID)
		wantCode(t, err, "ORDER_NOT_REFUNDABLE")
		_, _, err = s.pos.RefundOrder(ctx, s.owner(), in.ID, pos.RefundRequest{RefundNo: "1", Amount: 1})
		wantCode(t, err, "ORDER_NOT_REFUNDABLE")
		page, err := s.pos.ListOrders(ctx, s.owner(), pos.OrderFilter{Kind: pos.KindInstallment})
		if err != nil || len(page.Orders) != 1 || page.Orders[0].ID != in.ID {
			t.Fatalf("instalment orders listed = %+v, %v", page, err)
		}
	})
}

// A void and a refund of the same order at once: exactly one wins, and the
// order, its refunds and the money agree.
func TestVoidRacingRefund(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		w := s.customer(t, "13900000001", 100000)
		for i := range 8 {
			o := s.paid(t, w, "VR"+string(rune('A'+i)), 1000)
			var wg sync.WaitGroup
			var voidErr, refundErr error
			wg.Go(func() { _, voidErr = s.pos.VoidOrder(ctx, s.owner(), o.ID) })
			wg.Go(func() {
				_, _, refundErr = s.pos.RefundOrder(ctx, s.owner(), o.ID, pos.RefundRequest{RefundNo: "R", Amount: 400})
			})
			wg.Wait()
			now, err := s.pos.OrderFor(ctx, s.owner(), o.ID)
			if err != nil {
				t.Fatal(err)
			}
			list, _ := s.pos.Refunds(ctx, s.owner(), o.ID)
			var sum paydesk.Amount
			for _, r := range list {
				sum += r.Amount
			}
			switch {
			case voidErr == nil && refundErr != nil:
				wantCode(t, refundErr, "ORDER_NOT_REFUNDABLE")
				if now.State != pos.Revoked || now.Refunded != 1000 || sum != 1000 || len(list) != 1 {
					t.Fatalf("void won, but order %+v has refunds %+v", now, list)
				}
			case refundErr == nil && voidErr != nil:
				wantCode(t, voidErr, "VOID_NOT_ALLOWED")
				if now.State != pos.PartiallyRefunded || now.Refunded != 400 || sum != 400 || len(list) != 1 {
					t.Fatalf("refund won, but order %+v has refunds %+v", now, list)
				}
			default:
				t.Fatalf("void: %v, refund: %v; want exactly one to succeed", voidErr, refundErr)
			}
		}
		r, err := s.ledger.Check(ctx)
		if err != nil || !r.OK() {
			t.Fatalf("ledger check: %+v, %v", r, err)
		}
	})
}
