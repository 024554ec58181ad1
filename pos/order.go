// Package pos is the point of sale: orders, the ways a cashier gets paid,
// and what happens to an order after it is paid (refunds, voids, the day's
// figures). It decides; the ledger moves the money and the wallet says
// whose money it is.
package pos

import (
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/wallet"
)

// State is where an order is in its life.
type State string

// The order states of SPEC §4.
const (
	Created           State = "CREATED"            // QR or link shown, nobody has paid yet
	Paying            State = "PAYING"             // waiting for the payer to confirm
	Paid              State = "PAID"               // money collected
	Closed            State = "CLOSED"             // expired, cancelled, declined or refused; nothing moved
	PartiallyRefunded State = "PARTIALLY_REFUNDED" // some money went back
	Refunded          State = "REFUNDED"           // all money went back
	Revoked           State = "REVOKED"            // voided the same day: fully refunded
)

// transitions lists every allowed move. Nothing else changes an order's
// state: Order.moveTo is the only writer of State.
var transitions = map[State][]State{
	Created:           {Paying, Paid, Closed},
	Paying:            {Paid, Closed},
	Paid:              {PartiallyRefunded, Refunded, Revoked},
	PartiallyRefunded: {PartiallyRefunded, Refunded},
}

// CanMove reports whether an order may go from one state to another.
func CanMove(from, to State) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Final reports whether no transition leaves s.
func (s State) Final() bool { return len(transitions[s]) == 0 }

// Method is how an order is (to be) paid.
type Method string

// The ways to get paid (SPEC §3).
const (
	MethodScan            Method = "scan"             // cashier scans the payment code
	MethodQR              Method = "qr"               // customer scans the collection QR
	MethodDynamicPassword Method = "dynamic_password" // customer reads a one-time password
	MethodStoreQR         Method = "store_qr"         // customer scans the static store QR
	MethodLink            Method = "link"             // customer opens a payment link
)

// Kind separates the POS's own orders from read-only ones.
type Kind string

const (
	KindPOS         Kind = "pos"
	KindInstallment Kind = "installment" // credit instalments: listed, never voided or refunded
)

// Order is one collection of money from one payer.
type Order struct {
	ID         int64
	MerchantID int64
	StoreID    int64
	CashierID  int64 // the staff member who took it; 0 for the static store QR
	OutTradeNo string
	Kind       Kind
	Method     Method
	Subject    string
	Amount     paydesk.Amount
	Currency   paydesk.Currency
	State      State
	WalletID   wallet.WalletID // the payer, once known
	Funding    wallet.Funding  // how the payer paid, in draw order
	Fee        paydesk.Amount
	Refunded   paydesk.Amount
	// CloseReason is the stable code of why an order closed: EXPIRED,
	// CANCELLED, DECLINED, or the refusal (INSUFFICIENT_FUNDS, ...).
	CloseReason string
	// PayToken is the unguessable part of the order's QR payload or link.
	PayToken string
	// RequestDigest fingerprints the request that created the order, so a
	// retry with the same out_trade_no but another amount is refused.
	RequestDigest string
	ExpiresAt     time.Time
	PaidAt        time.Time
	ClosedAt      time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// ErrInvalidTransition is a move the state machine forbids.
var ErrInvalidTransition = &paydesk.Error{Kind: paydesk.KindConflict, Code: "ORDER_STATE_CONFLICT", Message: "the order is not in a state that allows this"}

// moveTo changes the order's state if the state machine allows it.
func (o *Order) moveTo(to State, at time.Time) error {
	if !CanMove(o.State, to) {
		return ErrInvalidTransition.WithMessage("order %d is %s and cannot become %s", o.ID, o.State, to)
	}
	o.State, o.UpdatedAt = to, at
	switch to {
	case Paid:
		o.PaidAt = at
	case Closed:
		o.ClosedAt = at
	}
	return nil
}

// Refundable returns how much of the order may still be refunded.
func (o *Order) Refundable() paydesk.Amount {
	if o.Kind != KindPOS || (o.State != Paid && o.State != PartiallyRefunded) {
		return 0
	}
	return o.Amount - o.Refunded
}
