package pos

import (
	"context"
	"time"

	"github.com/paydesk/paydesk"
)

// RefundStorage is what refunds, voids and order lists need from the
// database; Storage includes it.
type RefundStorage interface {
	// ListOrders runs an order list (see OrderQuery).
	ListOrders(ctx context.Context, q OrderQuery) ([]Order, error)
	// LockOrder reads one of a merchant's orders and locks its row until
	// the transaction in ctx ends.
	LockOrder(ctx context.Context, merchantID, id int64) (Order, error)
	// RefundByNo finds the refund of an order with a refund_no.
	RefundByNo(ctx context.Context, orderID int64, no string) (Refund, bool, error)
	// CreateRefund inserts r and sets its ID.
	CreateRefund(ctx context.Context, r *Refund) error
	// AddRefunded adds amount to the order's refunded total and writes its
	// new state, only if the order is still refundable, its total before
	// was next.Refunded-amount and the new total does not pass its amount.
	AddRefunded(ctx context.Context, next Order, amount paydesk.Amount) (bool, error)
	// RefundsOfOrder lists an order's refunds, oldest first.
	RefundsOfOrder(ctx context.Context, orderID int64) ([]Refund, error)
	// SetCardState records how the card's share of a refund ended.
	SetCardState(ctx context.Context, refundID int64, state CardState, at time.Time) error
	// PendingCardRefunds lists refunds whose card share is still PENDING.
	PendingCardRefunds(ctx context.Context, limit int) ([]Refund, error)
}
