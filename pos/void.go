package pos

import (
	"context"
	"time"

	"github.com/paydesk/paydesk/cashier"
)

// SettlementCheck reports whether the money of a paid order has gone into
// a settlement batch. It is the hook between voids and settlement: the
// settlement engine installs one with CheckSettlementWith, and from then on
// a settled order cannot be voided, even on the day it was paid (a refund
// is still possible).
type SettlementCheck func(ctx context.Context, o Order) (bool, error)

// CheckSettlementWith installs the settlement check voids ask; call it
// before serving.
func (s *Service) CheckSettlementWith(f SettlementCheck) { s.cfg.Settled = f }

// VoidOrder (撤销) undoes an order in the caller's scope. An unpaid order
// closes. A paid order of today, in the merchant's time zone, whose money
// has not been settled, is refunded in full and becomes REVOKED. Anything
// else (an older order, one partly refunded, an instalment order) is
// VOID_NOT_ALLOWED or ORDER_NOT_REFUNDABLE: refund it instead. Voiding an
// order already closed or revoked answers it as it is.
//
// A void races a refund of the same order on the order's lock: whichever
// comes second finds the order no longer PAID (or no longer untouched) and
// is refused, so one consistent outcome remains.
func (s *Service) VoidOrder(ctx context.Context, c cashier.Actor, id int64) (Order, error) {
	o, err := s.OrderFor(ctx, c, id)
	if err != nil {
		return Order{}, err
	}
	if o.Kind != KindPOS {
		return o, ErrOrderNotRefundable.WithMessage("order %d is a %s order and cannot be voided", o.ID, o.Kind)
	}
	switch o.State {
	case Closed, Revoked:
		return o, nil
	case Created, Paying:
		closed, done, err := s.close(ctx, o, ReasonCancelled)
		if err != nil || done {
			return closed, err
		}
		// Someone got there first: the closer, or the payer.
		if o, err = s.OrderFor(ctx, c, id); err != nil || o.State == Closed {
			return o, err
		}
	}
	if o.State != Paid {
		return o, ErrVoidNotAllowed.WithMessage("order %d is %s; only a paid order with no refunds can be voided", o.ID, o.State)
	}
	check := func(ctx context.Context, o Order) error {
		if o.State != Paid || o.Refunded != 0 {
			return ErrVoidNotAllowed.WithMessage("order %d is %s with %s refunded; only a paid order with no refunds can be voided", o.ID, o.State, o.Refunded)
		}
		return s.voidable(ctx, o)
	}
	_, after, err := s.giveBack(ctx, c, id, moneyBack{no: voidRefundNo, kind: KindVoid, amount: o.Amount, reason: "void", check: check})
	if err != nil {
		return o, err
	}
	return after, nil
}

// voidable checks that a paid order is of today, in its merchant's time
// zone, and not settled.
func (s *Service) voidable(ctx context.Context, o Order) error {
	m, err := s.merchants.Merchant(ctx, o.MerchantID)
	if err != nil {
		return err
	}
	if !sameDay(o.PaidAt, s.clock(), m.Location()) {
		return ErrVoidNotAllowed.WithMessage("order %d was paid on %s, not today; refund it instead", o.ID, o.PaidAt.In(m.Location()).Format(time.DateOnly))
	}
	if s.cfg.Settled != nil {
		settled, err := s.cfg.Settled(ctx, o)
		if err != nil {
			return err
		}
		if settled {
			return ErrVoidNotAllowed.WithMessage("order %d has been settled; refund it instead", o.ID)
		}
	}
	return nil
}

// sameDay reports whether a and b fall on the same calendar day in loc.
func sameDay(a, b time.Time, loc *time.Location) bool {
	ya, ma, da := a.In(loc).Date()
	yb, mb, db := b.In(loc).Date()
	return ya == yb && ma == mb && da == db
}
