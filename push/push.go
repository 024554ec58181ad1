// Package push is real-time push (SPEC §6): the outbox every event is
// written to inside the transaction of the change it reports, with a
// per-merchant (and per-wallet) sequence number; the dispatcher that tails
// the outbox and wakes the other instances through Redis pub/sub; and the
// in-process hub that hands each event to the subscribers whose role may
// see it, with replay from the outbox on reconnect.
//
// It is its own package, beside the domain packages rather than inside
// mobile-api, because it is a domain of its own with its own storage (the
// events tables) that pos, merchant and settlement write to, and because
// nothing in it knows about websockets or HTTP: mobile-api turns a Stream
// into a socket, and a second transport (SSE, a test) could do the same.
//
// The guarantees, and where each comes from:
//   - nothing is lost: an event exists only if its change committed, and
//     delivery reads committed rows, so a crash between commit and send
//     only delays the event until the next poll or reconnect;
//   - in order, exactly once per connection: sequences are dense per
//     merchant (a rolled-back transaction gives its number back) and
//     commit in order (the sequence row is locked until commit), so the
//     dispatcher can tell a duplicate from a hole and fill holes from the
//     database; a Stream skips what its replay already sent;
//   - every instance: each instance tails the same table, Redis only
//     wakes them early, and a periodic poll repairs a lost wake-up;
//   - kept for a while, not forever: Outbox.Purge deletes old events, and a
//     client resuming from before what is kept is told to resync, which
//     it can tell because the numbers it would need are missing.
package push

import (
	"encoding/json"
	"time"

	"github.com/paydesk/paydesk/merchant"
	"github.com/paydesk/paydesk/rbac"
)

// Type names what an event reports.
type Type string

// The event types of SPEC §6. Payment and refund types are the pos.Change
// names, so a new order change is pushed under its own name.
const (
	PaymentPaying     Type = "payment.paying" // waiting for the payer to confirm
	PaymentPaid       Type = "payment.paid"
	PaymentClosed     Type = "payment.closed"
	RefundSucceeded   Type = "refund.succeeded"
	SettlementUpdated Type = "settlement.updated"
	WithdrawalUpdated Type = "withdrawal.updated"
	StaffDisabled     Type = "staff.disabled"
	// SessionEnded is for the hubs only, never sent to a client: a staff
	// member's login session ended (a logout), and every instance closes
	// the sockets opened with its tokens. It goes through the outbox, like
	// staff.disabled, so that it reaches every instance with nothing lost.
	SessionEnded Type = "session.ended"
	// MerchantUpdated is for the hubs only, never sent to a client: the
	// operator changed a merchant's terms (its fee rate, its settlement
	// cycle), and every instance drops the merchant from its read cache,
	// so the next payment is charged the new fee.
	MerchantUpdated Type = "merchant.updated"
)

// Event is one row of the outbox: something that happened to a merchant,
// numbered in the merchant's sequence.
type Event struct {
	ID         int64
	MerchantID int64
	// Seq is the event's place in the merchant's sequence, from 1, without
	// holes. Staff clients resume with it.
	Seq  int64
	Type Type
	// OrderID is the order the event is about, 0 for none.
	OrderID int64
	// StoreID is the store the event is about; 0 for the merchant as a
	// whole (settlements, withdrawals, an owner).
	StoreID int64
	// CashierID is the staff member the event is about: the order's cashier
	// (0 for the static store QR), or the staff member who was disabled or
	// whose session ended.
	CashierID int64
	// WalletID is the customer's wallet the event concerns, 0 for none.
	WalletID int64
	// WalletSeq is the event's place in the wallet's own sequence, set
	// when WalletID is: customers resume with it, since their events span
	// merchants.
	WalletSeq int64
	// Data is the event's payload, a JSON object.
	Data      json.RawMessage
	CreatedAt time.Time
}

// Audience is who a subscription is for: a staff member (MerchantID,
// StoreID, StaffID, Role) or a customer (WalletID).
type Audience struct {
	MerchantID int64
	StoreID    int64
	StaffID    int64
	Role       rbac.Role
	WalletID   int64
	// Session is the login session the subscriber authenticated with
	// (rbac.Session.ID); the stream ends when it does. Empty for a token
	// that names none.
	Session string
}

// Customer reports whether the audience is a wallet's owner.
func (a Audience) Customer() bool { return a.WalletID != 0 }

// seqOf is e's number in the audience's sequence: the wallet's for
// customers, the merchant's for staff.
func (a Audience) seqOf(e *Event) int64 {
	if a.Customer() {
		return e.WalletSeq
	}
	return e.Seq
}

// Visible reports whether a may see e. It is the one place the rules of
// SPEC §1 are applied to events, for live delivery and replay alike:
//   - a customer sees the events of their own wallet;
//   - payments and refunds: the owner sees the merchant's, a manager the
//     store's, a cashier their own orders and the store QR's (store = own
//     store, no cashier);
//   - settlements: owners and managers; withdrawals: owners;
//   - staff.disabled: the owners, and the managers of the store of the
//     person disabled;
//   - session.ended and merchant.updated: nobody (they are for the hubs);
//   - anything else: owners only.
func Visible(a Audience, e *Event) bool {
	if e.Type == SessionEnded || e.Type == MerchantUpdated {
		return false
	}
	if a.Customer() {
		return e.WalletID == a.WalletID
	}
	if e.MerchantID != a.MerchantID {
		return false
	}
	switch e.Type {
	case PaymentPaying, PaymentPaid, PaymentClosed, RefundSucceeded:
		// The same rule as the order queries' (pos/scope.go).
		return merchant.SeesOrder(a.Role, a.StaffID, a.StoreID, e.StoreID, e.CashierID)
	case SettlementUpdated:
		return a.Role == rbac.Owner || a.Role == rbac.Manager
	case StaffDisabled:
		return a.Role == rbac.Owner || (a.Role == rbac.Manager && e.StoreID != 0 && e.StoreID == a.StoreID)
	}
	return a.Role == rbac.Owner
}
