package push

import (
	"encoding/json"
	"strconv"
	"sync"
	"time"
)

// Message is an event on its way to subscribers. It is encoded at most once
// per kind of audience however many connections it goes to, so fan-out
// costs a copy of a pointer per connection, not an encoding.
type Message struct {
	Event Event

	staffOnce, walletOnce sync.Once
	staff, wallet         []byte
}

func newMessage(e Event) *Message { return &Message{Event: e} }

// JSON returns the message as the audience receives it (see the wire
// format in docs of Encode).
func (m *Message) JSON(a Audience) []byte {
	if a.Customer() {
		m.walletOnce.Do(func() { m.wallet = Encode(m.Event, true) })
		return m.wallet
	}
	m.staffOnce.Do(func() { m.staff = Encode(m.Event, false) })
	return m.staff
}

// wireEvent is an event on the wire, one JSON text message each:
//
//	{"type":"payment.paid","seq":42,"id":1001,"merchant_id":7,"store_id":3,
//	 "cashier_id":12,"order_id":555,"created_at":"2026-11-25T02:00:00Z",
//	 "data":{...}}
//
// seq is the number the client resumes from: the merchant's sequence for
// staff, the wallet's for customers. Customers are not shown the cashier.
type wireEvent struct {
	Type       Type            `json:"type"`
	Seq        int64           `json:"seq"`
	ID         int64           `json:"id"`
	MerchantID int64           `json:"merchant_id"`
	StoreID    int64           `json:"store_id"`
	CashierID  int64           `json:"cashier_id,omitempty"`
	OrderID    int64           `json:"order_id,omitempty"`
	CreatedAt  time.Time       `json:"created_at"`
	Data       json.RawMessage `json:"data"`
}

// Encode returns e as a client receives it: as its wallet's owner
// (customer) or as staff.
func Encode(e Event, customer bool) []byte {
	w := wireEvent{Type: e.Type, Seq: e.Seq, ID: e.ID, MerchantID: e.MerchantID, StoreID: e.StoreID, CashierID: e.CashierID,
		OrderID: e.OrderID, CreatedAt: e.CreatedAt.UTC(), Data: e.Data}
	if customer {
		w.Seq, w.CashierID = e.WalletSeq, 0
	}
	if len(w.Data) == 0 {
		w.Data = json.RawMessage("{}")
	}
	b, err := json.Marshal(w)
	if err != nil {
		// Data was checked to be a JSON object when it was emitted.
		b, _ = json.Marshal(wireEvent{Type: e.Type, Seq: w.Seq, ID: e.ID, MerchantID: e.MerchantID, CreatedAt: w.CreatedAt, Data: json.RawMessage("{}")})
	}
	return b
}

// TypeReady is the control message that ends the replay:
//
//	{"type":"ready","seq":42}
//
// Everything up to seq has been sent (or was not the client's to see);
// live events follow. With "resync":true the client was further behind
// than the server replays (MaxReplay), or resumed from events the server
// no longer keeps (older than the retention, Outbox.Purge), or was ahead of
// it (the server's history was reset), and must reload its state through
// the API.
const TypeReady Type = "ready"

func readyJSON(seq int64, resync bool) []byte {
	b := []byte(`{"type":"ready","seq":` + strconv.FormatInt(seq, 10))
	if resync {
		b = append(b, `,"resync":true`...)
	}
	return append(b, '}')
}
