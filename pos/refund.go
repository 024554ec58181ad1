package pos

import (
	"context"
	"fmt"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/ledger"
)

// ChangeRefundSucceeded is told to observers for every refund and every
// void of a paid order, in the transaction that records it.
const ChangeRefundSucceeded Change = "refund.succeeded"

// RefundObserver is an Observer that wants the refund itself, not only the
// order it changed (the day's figures need the amount and the time). An
// observer that implements it gets RefundSucceeded instead of
// OrderChanged(ChangeRefundSucceeded); the others get OrderChanged.
type RefundObserver interface {
	RefundSucceeded(ctx context.Context, o Order, r Refund) error
}

// RefundKind says why money went back.
type RefundKind string

const (
	KindRefund RefundKind = "refund" // a refund the merchant asked for
	KindVoid   RefundKind = "void"   // a same-day void of a paid order: all of it
)

// CardState is where the card's share of a refund stands. The merchant's
// side of a refund is done when the refund is recorded; the card's share
// then waits in the platform's card-refunds account until the bank
// confirms it.
type CardState string

const (
	CardNone    CardState = ""        // nothing went back to a card
	CardPending CardState = "PENDING" // the bank has not confirmed yet; retried
	CardDone    CardState = "CARD"    // the bank credited the card
	// CardToBalance: the bank refused for good, and the card's share went
	// to the wallet's cash instead.
	CardToBalance CardState = "BALANCE"
)

// Refund is money of a paid order going back to the payer.
type Refund struct {
	ID         int64
	MerchantID int64
	StoreID    int64
	CashierID  int64 // the order's cashier, so refunds count in their figures
	OrderID    int64
	// RefundNo is the client's number for the refund, unique per order.
	RefundNo string
	Kind     RefundKind
	Amount   paydesk.Amount
	Currency paydesk.Currency
	Reason   string
	// Where the money went, in the reverse order of the payment's funding.
	ToCard, ToCash, ToCoupon, ToVoucher paydesk.Amount
	// FeeReturned is the fee on the refunded part, back to the merchant.
	FeeReturned paydesk.Amount
	// Where the merchant's side came from: its marketing account for the
	// voucher and coupon share, then pending, then available.
	FromMarketing, FromPending, FromAvailable paydesk.Amount
	CardState                                 CardState
	// RefundedBy is the staff member who asked.
	RefundedBy int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
	// Replayed is set when an earlier request with the same refund_no did it.
	Replayed bool
}

// RefundRequest is a merchant's request to give money back.
type RefundRequest struct {
	// RefundNo is the client's idempotency number: the same number and
	// amount again return the same refund; another amount is refused.
	RefundNo string
	Amount   paydesk.Amount
	Reason   string
}

// Errors of refunds and voids.
var (
	ErrRefundExceedsPaid           = &paydesk.Error{Kind: paydesk.KindUnprocessable, Code: "REFUND_EXCEEDS_PAID", Message: "the refunds would exceed what was paid"}
	ErrMerchantInsufficientBalance = ledger.ErrMerchantInsufficientBalance.WithMessage("the merchant's balances cannot cover the refund")
	ErrRefundWindowExpired         = &paydesk.Error{Kind: paydesk.KindUnprocessable, Code: "REFUND_WINDOW_EXPIRED", Message: "the order was paid too long ago to be refunded"}
	ErrOrderNotRefundable          = &paydesk.Error{Kind: paydesk.KindConflict, Code: "ORDER_NOT_REFUNDABLE", Message: "the order cannot be refunded"}
	ErrVoidNotAllowed              = &paydesk.Error{Kind: paydesk.KindConflict, Code: "VOID_NOT_ALLOWED", Message: "only unpaid orders and orders paid today and not settled can be voided; refund instead"}
	ErrInvalidRefundNo             = &paydesk.Error{Kind: paydesk.KindInvalid, Code: "INVALID_REFUND_NO", Message: "refund_no must be 1 to 64 characters of letters, digits, '-', '_' or '.'"}
)

// DefaultRefundWindow is how long after payment an order can be refunded
// unless Config.RefundWindow says otherwise.
const DefaultRefundWindow = 180 * 24 * time.Hour

// voidRefundNo numbers the refund a void makes; '#' is not allowed in a
// client's refund_no, so the two never collide.
const voidRefundNo = "#void"

// RefundOrder gives amount of a paid order in the caller's scope back to
// the payer (SPEC §4). Refunds may be partial and repeated; their sum never
// exceeds what was paid, however many run at once. The money goes back the
// way it came, in reverse (card, cash, coupons, vouchers), taken from the
// merchant's unsettled funds first and then its available balance, with
// the fee on the refunded part returned; if the merchant cannot cover it,
// nothing moves and the answer is MERCHANT_INSUFFICIENT_BALANCE.
func (s *Service) RefundOrder(ctx context.Context, c cashier.Actor, orderID int64, req RefundRequest) (Refund, Order, error) {
	if err := validOutTradeNo(req.RefundNo); err != nil {
		return Refund{}, Order{}, ErrInvalidRefundNo
	}
	if err := req.Amount.ValidPayment(); err != nil {
		return Refund{}, Order{}, err
	}
	if len(req.Reason) > 255 {
		return Refund{}, Order{}, paydesk.ErrInvalid.WithMessage("reason must be at most 255 bytes")
	}
	check := func(_ context.Context, o Order) error {
		if o.Kind != KindPOS || (o.State != Paid && o.State != PartiallyRefunded) {
			return ErrOrderNotRefundable.WithMessage("order %d is a %s order in state %s and cannot be refunded", o.ID, o.Kind, o.State)
		}
		if s.clock().Sub(o.PaidAt) > s.refundWindow() {
			return ErrRefundWindowExpired.WithMessage("order %d was paid on %s; refunds are possible for %s", o.ID, o.PaidAt.Format(time.DateOnly), s.refundWindow())
		}
		if req.Amount > o.Amount-o.Refunded {
			return ErrRefundExceedsPaid.WithMessage("order %d has %s left to refund, not %s", o.ID, o.Amount-o.Refunded, req.Amount)
		}
		return nil
	}
	return s.giveBack(ctx, c, orderID, moneyBack{no: req.RefundNo, kind: KindRefund, amount: req.Amount, reason: req.Reason, check: check})
}

// Refunds lists the refunds (and the void) of an order in the caller's scope, oldest first.
func (s *Service) Refunds(ctx context.Context, c cashier.Actor, orderID int64) ([]Refund, error) {
	if _, err := s.OrderFor(ctx, c, orderID); err != nil {
		return nil, err
	}
	return s.store.RefundsOfOrder(ctx, orderID)
}

func (s *Service) refundWindow() time.Duration {
	if s.cfg.RefundWindow > 0 {
		return s.cfg.RefundWindow
	}
	return DefaultRefundWindow
}

// refundReference is the ledger reference of a refund's transfer.
func refundReference(o Order, no string) string {
	return fmt.Sprintf("order:%d:refund:%s", o.ID, no)
}

// notifyRefund tells the observers of a refund, in its transaction.
func (s *Service) notifyRefund(ctx context.Context, o Order, r Refund) error {
	for _, ob := range s.observers {
		var err error
		if ro, ok := ob.(RefundObserver); ok {
			err = ro.RefundSucceeded(ctx, o, r)
		} else {
			err = ob.OrderChanged(ctx, o, ChangeRefundSucceeded)
		}
		if err != nil {
			return fmt.Errorf("observe refund %s of order %d: %w", r.RefundNo, o.ID, err)
		}
	}
	return nil
}
