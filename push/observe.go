package push

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/internal/view"
	"github.com/paydesk/paydesk/merchant"
	"github.com/paydesk/paydesk/pos"
	"github.com/paydesk/paydesk/settlement"
)

// The outbox observes the domain: pos calls OrderChanged and merchant calls
// StaffDisabled inside the transaction of the change, so the event commits
// or rolls back with it.
var (
	_ pos.Observer      = (*Outbox)(nil)
	_ cashier.Observer  = (*Outbox)(nil)
	_ merchant.Observer = (*Outbox)(nil)
)

// OrderChanged writes the event of an order change: payment.paying (to the
// payer too: the wallet app asks for confirmation), payment.paid,
// payment.closed, refund.* — the event type is the change's name, so a
// new change of those families is pushed without a change here.
func (o *Outbox) OrderChanged(ctx context.Context, ord pos.Order, c pos.Change) error {
	name := string(c)
	if !strings.HasPrefix(name, "payment.") && !strings.HasPrefix(name, "refund.") {
		return nil
	}
	data, err := json.Marshal(view.OrderEventOf(ord))
	if err != nil {
		return err
	}
	_, err = o.Emit(ctx, Event{MerchantID: ord.MerchantID, Type: Type(name), OrderID: ord.ID, StoreID: ord.StoreID,
		CashierID: ord.CashierID, WalletID: int64(ord.WalletID), Data: data})
	return err
}

// SettlementEvents is the settlement service's Emitter into the outbox:
// settlement.updated and withdrawal.updated carry the batch and the
// withdrawal in their one JSON shapes (view.Batch, view.Withdrawal).
func (o *Outbox) SettlementEvents() settlement.Emitter {
	return settlement.EmitterFunc(func(ctx context.Context, e settlement.Event) error {
		payload := e.Data
		switch d := e.Data.(type) {
		case settlement.Batch:
			payload = view.BatchOf(d)
		case settlement.Withdrawal:
			payload = view.WithdrawalOf(d)
		}
		data, err := json.Marshal(payload)
		if err != nil {
			return err
		}
		_, err = o.Emit(ctx, Event{MerchantID: e.MerchantID, Type: Type(e.Type), Data: data})
		return err
	})
}

// StaffDisabled writes staff.disabled. Every instance that receives it
// closes the person's sockets, and the owners and the person's managers
// are told.
func (o *Outbox) StaffDisabled(ctx context.Context, st cashier.Staff) error {
	data, err := json.Marshal(struct {
		StaffID int64  `json:"staff_id"`
		Role    string `json:"role"`
		Name    string `json:"name"`
		StoreID int64  `json:"store_id,omitempty"`
	}{st.ID, string(st.Role), st.Name, st.StoreID})
	if err != nil {
		return err
	}
	_, err = o.Emit(ctx, Event{MerchantID: st.MerchantID, Type: StaffDisabled, StoreID: st.StoreID, CashierID: st.ID, Data: data})
	return err
}

// sessionData is the payload of session.ended.
type sessionData struct {
	Session string `json:"session"`
}

// SessionEnded writes session.ended: staff member staffID of merchantID
// ended login session session (rbac.Session.ID). Every instance that
// receives it closes the sockets opened with that session's tokens, and
// no client sees it. Call it inside the transaction that revokes the
// session.
func (o *Outbox) SessionEnded(ctx context.Context, merchantID, staffID int64, session string) error {
	if staffID <= 0 || session == "" {
		return ErrInvalidEvent.WithMessage("session.ended needs a staff member and a session")
	}
	data, err := json.Marshal(sessionData{Session: session})
	if err != nil {
		return err
	}
	_, err = o.Emit(ctx, Event{MerchantID: merchantID, Type: SessionEnded, CashierID: staffID, Data: data})
	return err
}

// MerchantUpdated writes merchant.updated: the merchant's terms changed.
// No client sees it; every instance that receives it reads the merchant
// again (Config.Seen), instead of charging a cached fee until it expires.
func (o *Outbox) MerchantUpdated(ctx context.Context, m merchant.Merchant) error {
	_, err := o.Emit(ctx, Event{MerchantID: m.ID, Type: MerchantUpdated})
	return err
}
