package pos_test

import (
	"context"
	"errors"
	"testing"

	"github.com/paydesk/paydesk/pos"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// TestPayOrderForChecksTheAmountSeen: a wallet that saw another amount than
// the order's is refused with AMOUNT_MISMATCH and charged nothing, and the
// order stays open to be paid for the amount it asks.
func TestPayOrderForChecksTheAmountSeen(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		w := s.customer(t, "13900000001", 10000)
		o, err := s.pos.CreateCollectionQR(ctx, s.cashier, pos.Collection{OutTradeNo: "Q1", Amount: 3000})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.pos.PayOrderFor(ctx, w, o.PayToken, 2999); !errors.Is(err, pos.ErrAmountMismatch) {
			t.Fatalf("paying 29.99 for a 30.00 order: %v, want AMOUNT_MISMATCH", err)
		}
		if got, err := s.pos.Order(ctx, o.MerchantID, o.ID); err != nil || got.State != pos.Created {
			t.Fatalf("after the refusal the order is %+v, %v; want still open", got, err)
		}
		if cash := s.cash(t, w); cash != 10000 {
			t.Errorf("cash = %d after a refused payment, want 10000", cash)
		}
		paid, err := s.pos.PayOrderFor(ctx, w, o.PayToken, 3000)
		if err != nil || paid.State != pos.Paid {
			t.Fatalf("paying the amount seen: %+v, %v", paid, err)
		}
	})
}
