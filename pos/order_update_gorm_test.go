package pos

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
	"github.com/paydesk/paydesk/wallet"
)

var updateAt = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// openOrders writes n orders of merchant 1 in state, named prefix-i.
func openOrders(t *testing.T, s *GormStorage, prefix string, n int, state State) []Order {
	t.Helper()
	out := make([]Order, n)
	for i := range out {
		o := Order{MerchantID: 1, StoreID: 2, OutTradeNo: fmt.Sprintf("%s-%d", prefix, i), Kind: "qr", Method: MethodQR,
			Amount: paydesk.Amount(100 + i), Currency: "CNY", State: state, ExpiresAt: updateAt.Add(5 * time.Minute),
			CreatedAt: updateAt, UpdatedAt: updateAt}
		if err := s.CreateOrder(context.Background(), &o); err != nil {
			t.Fatal(err)
		}
		out[i] = o
	}
	return out
}

// paidBy is o paid by wallet w, the way pay fills it in.
func paidBy(o Order, w wallet.WalletID) Order {
	at := updateAt.Add(time.Duration(w) * time.Second)
	o.State, o.WalletID, o.Fee, o.PaidAt, o.UpdatedAt = Paid, w, 1, at, at
	o.Funding = wallet.Funding{Amount: o.Amount, Currency: o.Currency, Cash: o.Amount - 10, Voucher: 10}
	return o
}

// updateInBulk runs the updates in one transaction with a Bulk, as a
// ledger batch does, and returns what each UpdateOrder reported and the
// error of the Flush.
func updateInBulk(t *testing.T, db *storage.DB, s *GormStorage, orders []Order, from ...State) ([]bool, error) {
	t.Helper()
	var applied []bool
	err := db.InTx(context.Background(), func(ctx context.Context) error {
		applied = nil
		ctx, b := db.WithBulk(ctx)
		for _, o := range orders {
			ok, err := s.UpdateOrder(ctx, o, from...)
			if err != nil {
				return err
			}
			applied = append(applied, ok)
		}
		return b.Flush(ctx)
	})
	return applied, err
}

func wantStored(t *testing.T, s *GormStorage, want Order) {
	t.Helper()
	got, err := s.Order(context.Background(), want.MerchantID, want.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != want.State || got.WalletID != want.WalletID || got.Fee != want.Fee || !reflect.DeepEqual(got.Funding, want.Funding) ||
		!got.PaidAt.Equal(want.PaidAt) || !got.UpdatedAt.Equal(want.UpdatedAt) || !got.ClosedAt.Equal(want.ClosedAt) ||
		got.CloseReason != want.CloseReason || got.Amount != want.Amount || got.OutTradeNo != want.OutTradeNo {
		t.Errorf("order %d stored as\n%+v\nwant\n%+v", want.ID, got, want)
	}
}

// A batch's conditional updates are written together, each with its own
// values, in statements of several chunks (45 orders: 32+8+4+1 on SQLite).
func TestGatheredOrderUpdates(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		s := NewGormStorage(db)
		orders := openOrders(t, s, "G", 45, Created)
		confirming := openOrders(t, s, "P", 3, Paying)
		var paid, confirmed []Order
		for i, o := range orders {
			paid = append(paid, paidBy(o, wallet.WalletID(i+1)))
		}
		for i, o := range confirming {
			confirmed = append(confirmed, paidBy(o, wallet.WalletID(100+i)))
		}
		err := db.InTx(context.Background(), func(ctx context.Context) error {
			ctx, b := db.WithBulk(ctx)
			for _, o := range paid {
				if ok, err := s.UpdateOrder(ctx, o, Created); err != nil || !ok {
					return fmt.Errorf("gather order %d: %v, %w", o.ID, ok, err)
				}
			}
			for _, o := range confirmed {
				if ok, err := s.UpdateOrder(ctx, o, Paying, Created); err != nil || !ok {
					return fmt.Errorf("gather order %d: %v, %w", o.ID, ok, err)
				}
			}
			// A second payer of an order the batch already paid is refused
			// at once, as it was when the first update had been written.
			if ok, err := s.UpdateOrder(ctx, paidBy(orders[7], 999), Created); err != nil || ok {
				return fmt.Errorf("second payer of order %d: %v, %v; want refused", orders[7].ID, ok, err)
			}
			// Nothing is written before the flush.
			if now, err := s.Order(ctx, 1, orders[0].ID); err != nil || now.State != Created {
				return fmt.Errorf("before the flush order %d is %s, %v", orders[0].ID, now.State, err)
			}
			return b.Flush(ctx)
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range append(paid, confirmed...) {
			wantStored(t, s, o)
		}
	})
}

// An order that left its from states before the batch writes fails the
// batch, which writes none of its orders; outside a batch the same update
// reports that it did not apply.
func TestGatheredOrderUpdateRefused(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := NewGormStorage(db)
		orders := openOrders(t, s, "R", 4, Created)
		closed := orders[2]
		closed.State, closed.CloseReason, closed.ClosedAt, closed.UpdatedAt = Closed, ReasonCancelled, updateAt, updateAt
		if ok, err := s.UpdateOrder(ctx, closed, Created, Paying); err != nil || !ok {
			t.Fatalf("close order %d: %v, %v", closed.ID, ok, err)
		}
		var paid []Order
		for i, o := range orders {
			paid = append(paid, paidBy(o, wallet.WalletID(i+1)))
		}
		applied, err := updateInBulk(t, db, s, paid, Created)
		if !errors.Is(err, errStateMoved) {
			t.Fatalf("flush with a closed order: %v; want errStateMoved", err)
		}
		for i, ok := range applied {
			if !ok {
				t.Errorf("gathered update %d reported refused; the refusal comes at the flush", i)
			}
		}
		for _, o := range orders {
			if o.ID == closed.ID {
				o = closed
			}
			wantStored(t, s, o)
		}
		// One by one, as the ledger retries: only the closed order is refused.
		for _, o := range paid {
			ok, err := s.UpdateOrder(ctx, o, Created)
			if err != nil || ok != (o.ID != closed.ID) {
				t.Errorf("update order %d alone: %v, %v", o.ID, ok, err)
			}
		}
	})
}
