package push

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/pos"
)

// The outbox observes the domain: pos calls OrderChanged and merchant calls
// StaffDisabled inside the transaction of the change, so the event commits
// or rolls back with it.
var (
	_ pos.Observer     = (*Outbox)(nil)
	_ cashier.Observer = (*Outbox)(nil)
)

// orderData is the payload of payment and refund events: what the apps
// show without a second request.
type orderData struct {
	OrderID     int64      `json:"order_id"`
	OutTradeNo  string     `json:"out_trade_no"`
	Method      string     `json:"method"`
	State       string     `json:"state"`
	Amount      int64      `json:"amount"`
	Currency    string     `json:"currency"`
	Refunded    int64      `json:"refunded,omitempty"`
	Subject     string     `json:"subject,omitempty"`
	Funding     *funding   `json:"funding,omitempty"`
	CloseReason string     `json:"close_reason,omitempty"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
	PaidAt      *time.Time `json:"paid_at,omitempty"`
	ClosedAt    *time.Time `json:"closed_at,omitempty"`
}

type funding struct {
	Voucher int64 `json:"voucher"`
	Coupon  int64 `json:"coupon"`
	Cash    int64 `json:"cash"`
	Card    int64 `json:"card"`
}

func stamp(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// OrderChanged writes the event of an order change: payment.paying (to the
// payer too: the wallet app asks for confirmation), payment.paid,
// payment.closed, refund.* — the event type is the change's name, so a
// new change of those families is pushed without a change here.
func (o *Outbox) OrderChanged(ctx context.Context, ord pos.Order, c pos.Change) error {
	name := string(c)
	if !strings.HasPrefix(name, "payment.") && !strings.HasPrefix(name, "refund.") {
		return nil
	}
	d := orderData{OrderID: ord.ID, OutTradeNo: ord.OutTradeNo, Method: string(ord.Method), State: string(ord.State),
		Amount: int64(ord.Amount), Currency: string(ord.Currency), Refunded: int64(ord.Refunded), Subject: ord.Subject,
		CloseReason: ord.CloseReason, PaidAt: stamp(ord.PaidAt), ClosedAt: stamp(ord.ClosedAt)}
	if ord.State == pos.Paying || ord.State == pos.Created {
		d.ExpiresAt = stamp(ord.ExpiresAt)
	}
	if f := ord.Funding; f.Voucher+f.Coupon+f.Cash+f.Card > 0 {
		d.Funding = &funding{Voucher: int64(f.Voucher), Coupon: int64(f.Coupon), Cash: int64(f.Cash), Card: int64(f.Card)}
	}
	data, err := json.Marshal(d)
	if err != nil {
		return err
	}
	_, err = o.Emit(ctx, Event{MerchantID: ord.MerchantID, Type: Type(name), OrderID: ord.ID, StoreID: ord.StoreID,
		CashierID: ord.CashierID, WalletID: int64(ord.WalletID), Data: data})
	return err
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
