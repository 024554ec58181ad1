package view

import (
	"time"

	"github.com/paydesk/paydesk/pos"
)

// Funding is how the payer paid: SPEC §2's draw order, in minor units.
type Funding struct {
	Voucher int64 `json:"voucher"`
	Coupon  int64 `json:"coupon"`
	Cash    int64 `json:"cash"`
	Card    int64 `json:"card"`
}

// FundingOf is o's funding.
func FundingOf(o pos.Order) Funding {
	f := o.Funding
	return Funding{Voucher: int64(f.Voucher), Coupon: int64(f.Coupon), Cash: int64(f.Cash), Card: int64(f.Card)}
}

// Order is an order as the merchant's staff see it (the OpenAPI's Order).
type Order struct {
	ID          int64   `json:"id"`
	OutTradeNo  string  `json:"out_trade_no"`
	State       string  `json:"state"`
	Method      string  `json:"method"`
	Kind        string  `json:"kind"`
	Subject     string  `json:"subject"`
	Amount      int64   `json:"amount"`
	Currency    string  `json:"currency"`
	Fee         int64   `json:"fee"`
	Refunded    int64   `json:"refunded"`
	Funding     Funding `json:"funding"`
	StoreID     int64   `json:"store_id"`
	CashierID   int64   `json:"cashier_id"`
	CloseReason string  `json:"close_reason"`
	// PayURL is the QR payload of a collection QR or the payment link, to
	// show or send again.
	PayURL    string     `json:"pay_url,omitempty"`
	PaidAt    *time.Time `json:"paid_at"`
	ClosedAt  *time.Time `json:"closed_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	CreatedAt time.Time  `json:"created_at"`
}

// OrderOf is o as staff see it; payURL is pos.Service.PayURL(o) ("" for
// the methods that have none).
func OrderOf(o pos.Order, payURL string) Order {
	return Order{ID: o.ID, OutTradeNo: o.OutTradeNo, State: string(o.State), Method: string(o.Method), Kind: string(o.Kind),
		Subject: o.Subject, Amount: int64(o.Amount), Currency: string(o.Currency), Fee: int64(o.Fee), Refunded: int64(o.Refunded),
		Funding: FundingOf(o), StoreID: o.StoreID, CashierID: o.CashierID, CloseReason: o.CloseReason, PayURL: payURL,
		PaidAt: OptionalTime(o.PaidAt), ClosedAt: OptionalTime(o.ClosedAt), ExpiresAt: o.ExpiresAt, CreatedAt: o.CreatedAt}
}

// OrderEvent is the order in the payload of payment.* and refund.*
// events: the part of Order the apps show without a second request. It is
// not the whole Order because one event goes to the payer's wallet app as
// well as to the staff (payment.paying), and the payer is not told the
// merchant's fee, store or cashier; the fields it has are Order's, under
// Order's names, with order_id for id (the event's own id is its seq).
type OrderEvent struct {
	OrderID     int64      `json:"order_id"`
	OutTradeNo  string     `json:"out_trade_no"`
	Method      string     `json:"method"`
	State       string     `json:"state"`
	Amount      int64      `json:"amount"`
	Currency    string     `json:"currency"`
	Refunded    int64      `json:"refunded,omitempty"`
	Subject     string     `json:"subject,omitempty"`
	Funding     *Funding   `json:"funding,omitempty"`
	CloseReason string     `json:"close_reason,omitempty"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
	PaidAt      *time.Time `json:"paid_at,omitempty"`
	ClosedAt    *time.Time `json:"closed_at,omitempty"`
}

// OrderEventOf is o as payment and refund events carry it: times in UTC,
// expires_at only while the order can still be paid, funding once paid.
func OrderEventOf(o pos.Order) OrderEvent {
	d := OrderEvent{OrderID: o.ID, OutTradeNo: o.OutTradeNo, Method: string(o.Method), State: string(o.State),
		Amount: int64(o.Amount), Currency: string(o.Currency), Refunded: int64(o.Refunded), Subject: o.Subject,
		CloseReason: o.CloseReason, PaidAt: utc(o.PaidAt), ClosedAt: utc(o.ClosedAt)}
	if o.State == pos.Paying || o.State == pos.Created {
		d.ExpiresAt = utc(o.ExpiresAt)
	}
	if f := FundingOf(o); f.Voucher+f.Coupon+f.Cash+f.Card > 0 {
		d.Funding = &f
	}
	return d
}

func utc(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}
