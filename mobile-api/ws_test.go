package mobileapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// wsClient is a real websocket client of the test server: a goroutine
// reads every message into msgs until the connection ends.
type wsClient struct {
	conn *websocket.Conn
	msgs chan wsMessage
	// closed receives the error that ended the reading.
	closed chan error
}

// wsMessage is one message received, decoded.
type wsMessage struct {
	Type       string         `json:"type"`
	Seq        int64          `json:"seq"`
	ID         int64          `json:"id"`
	MerchantID int64          `json:"merchant_id"`
	StoreID    int64          `json:"store_id"`
	CashierID  int64          `json:"cashier_id"`
	OrderID    int64          `json:"order_id"`
	Resync     bool           `json:"resync"`
	Data       map[string]any `json:"data"`
}

// wsDial is how dialWS authenticates.
type wsDial int

const (
	viaHeader   wsDial = iota // Authorization: Bearer
	viaProtocol               // the "bearer.<token>" subprotocol
)

// dialWS opens /v1/ws as the holder of token; query is "" or "last_seq=N".
func (api *testAPI) dialWS(t *testing.T, token, query string, how wsDial) *wsClient {
	t.Helper()
	c, res, err := api.tryDialWS(token, query, how)
	if err != nil {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		t.Fatalf("dial /v1/ws?%s: %v (status %d)", query, err, status)
	}
	if got := res.Header.Get("Sec-WebSocket-Protocol"); got != WSProtocol {
		t.Fatalf("the server chose subprotocol %q, want %q", got, WSProtocol)
	}
	t.Cleanup(func() { c.conn.Close() })
	return c
}

func (api *testAPI) tryDialWS(token, query string, how wsDial) (*wsClient, *http.Response, error) {
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second, Subprotocols: []string{WSProtocol}}
	h := http.Header{}
	switch how {
	case viaHeader:
		h.Set("Authorization", "Bearer "+token)
	case viaProtocol:
		d.Subprotocols = append(d.Subprotocols, "bearer."+token)
	}
	u := "ws" + strings.TrimPrefix(api.URL, "http") + "/v1/ws"
	if query != "" {
		u += "?" + query
	}
	conn, res, err := d.Dial(u, h)
	if err != nil {
		return nil, res, err
	}
	c := &wsClient{conn: conn, msgs: make(chan wsMessage, 256), closed: make(chan error, 1)}
	go func() {
		defer close(c.msgs)
		for {
			_, raw, err := conn.ReadMessage()
			if err != nil {
				c.closed <- err
				return
			}
			var m wsMessage
			if err := json.Unmarshal(raw, &m); err != nil {
				c.closed <- fmt.Errorf("message %s: %w", raw, err)
				return
			}
			c.msgs <- m
		}
	}()
	return c, res, nil
}

// next returns the next message, failing after a few seconds.
func (c *wsClient) next(t *testing.T) wsMessage {
	t.Helper()
	select {
	case m, ok := <-c.msgs:
		if !ok {
			t.Fatalf("the socket ended: %v", <-c.closed)
		}
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no message in 5 s")
	}
	return wsMessage{}
}

// ready reads the ready message that ends a replay and returns its seq.
func (c *wsClient) ready(t *testing.T) int64 {
	t.Helper()
	m := c.next(t)
	if m.Type != "ready" {
		t.Fatalf("got %+v, want the ready message", m)
	}
	return m.Seq
}

// none fails if a message arrives within a short while.
func (c *wsClient) none(t *testing.T) {
	t.Helper()
	select {
	case m, ok := <-c.msgs:
		if ok {
			t.Fatalf("unexpected message %+v", m)
		}
	case <-time.After(300 * time.Millisecond):
	}
}

// closedWith waits for the server to close the socket with code.
func (c *wsClient) closedWith(t *testing.T, code int) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-c.msgs:
			if ok {
				continue // what was sent before the close
			}
			err := <-c.closed
			if !websocket.IsCloseError(err, code) {
				t.Fatalf("the socket ended with %v, want close code %d", err, code)
			}
			return
		case <-deadline:
			t.Fatalf("the socket is still open; want close code %d", code)
		}
	}
}

// payQR has cashier m open a collection QR of amount over HTTP and the
// customer pay it over HTTP; it returns the order id.
func (api *testAPI) payQR(t *testing.T, m *member, c *customer, amount int64) int64 {
	t.Helper()
	r := api.request(t, "POST", "/v1/payments/qr", m.Access, map[string]any{"out_trade_no": api.outTradeNo("ws"), "amount": amount})
	wantStatus(t, r, http.StatusCreated)
	id := num(t, r.JSON["order"].(map[string]any), "id")
	paid := api.request(t, "POST", "/v1/wallet/pay", c.Access, map[string]any{"qr_payload": str(t, r.JSON, "qr_payload")})
	wantStatus(t, paid, http.StatusOK)
	return id
}

// TestWSPaymentReachesTheRightSockets: a collection QR paid by the wallet
// reaches the cashier's socket as payment.paid, and the owner's, the
// store manager's and the payer's; not the colleague's, nor the other
// store's manager's, nor the other merchant's.
func TestWSPaymentReachesTheRightSockets(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		w := api.newWorld(t)
		cashier := api.dialWS(t, w.Cashiers[0].Access, "", viaProtocol)
		colleague := api.dialWS(t, w.Cashiers[1].Access, "", viaHeader)
		owner := api.dialWS(t, w.Owner.Access, "", viaHeader)
		manager := api.dialWS(t, w.Managers[0].Access, "", viaProtocol)
		otherManager := api.dialWS(t, w.Managers[1].Access, "", viaHeader)
		rival := api.dialWS(t, w.Rival.Owner.Access, "", viaHeader)
		payer := api.dialWS(t, w.Customer.Access, "", viaProtocol)
		for _, c := range []*wsClient{cashier, colleague, owner, manager, otherManager, rival, payer} {
			c.ready(t)
		}

		id := api.payQR(t, w.Cashiers[0], w.Customer, 1250)
		for name, c := range map[string]*wsClient{"cashier": cashier, "owner": owner, "manager": manager, "payer": payer} {
			m := c.next(t)
			if m.Type != "payment.paid" || m.OrderID != id || m.Seq != 1 || m.Data["state"] != "PAID" || m.Data["amount"] != 1250.0 {
				t.Errorf("%s got %+v, want payment.paid of order %d as seq 1", name, m, id)
			}
			if name == "payer" && m.CashierID != 0 {
				t.Errorf("the payer is shown the cashier: %+v", m)
			}
		}
		for _, c := range []*wsClient{colleague, otherManager, rival} {
			c.none(t)
		}

		// Tokens travel in headers and subprotocols, never in the logs.
		for _, tok := range []string{w.Cashiers[0].Access, w.Customer.Access} {
			if strings.Contains(api.Logs.String(), tok) {
				t.Fatal("an access token is in the server's logs")
			}
		}
	})
}

// TestWSResume: a cashier who reconnects with the seq of the last event
// received gets exactly the events missed meanwhile, in order, then the
// ready message, then live events.
func TestWSResume(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		w := api.newWorld(t)
		cashier, other := w.Cashiers[0], w.Cashiers[2] // another store: its events are not the cashier's
		c := api.dialWS(t, cashier.Access, "", viaHeader)
		c.ready(t)
		first := api.payQR(t, cashier, w.Customer, 100)
		got := c.next(t)
		if got.OrderID != first {
			t.Fatalf("got %+v", got)
		}
		c.conn.Close()

		var missed []int64
		for i := range 3 {
			missed = append(missed, api.payQR(t, cashier, w.Customer, int64(200+i)))
			api.payQR(t, other, w.Customer, 300)
		}
		again := api.dialWS(t, cashier.Access, fmt.Sprintf("last_seq=%d", got.Seq), viaProtocol)
		last := got.Seq
		for _, id := range missed {
			m := again.next(t)
			if m.Type != "payment.paid" || m.OrderID != id || m.Seq <= last {
				t.Fatalf("replayed %+v, want order %d after seq %d", m, id, last)
			}
			last = m.Seq
		}
		if seq := again.ready(t); seq != 7 {
			t.Fatalf("ready at %d, want 7 (the merchant's last, the other store's included)", seq)
		}
		live := api.payQR(t, cashier, w.Customer, 400)
		if m := again.next(t); m.OrderID != live || m.Seq != 8 {
			t.Fatalf("live %+v, want order %d as seq 8", m, live)
		}
		again.none(t)

		// The customer resumes on the wallet's own sequence.
		p := api.dialWS(t, w.Customer.Access, "last_seq=5", viaHeader)
		for _, want := range []int64{6, 7, 8} {
			if m := p.next(t); m.Seq != want {
				t.Fatalf("the payer got %+v, want wallet seq %d", m, want)
			}
		}
		if seq := p.ready(t); seq != 8 {
			t.Fatalf("payer ready at %d", seq)
		}

		wantStatus(t, api.request(t, "GET", "/v1/ws", cashier.Access, nil), http.StatusBadRequest)
		if _, res, err := api.tryDialWS(cashier.Access, "last_seq=-1", viaHeader); err == nil || res.StatusCode != http.StatusBadRequest {
			t.Fatalf("last_seq=-1: %v %v", err, res)
		}
		if _, res, err := api.tryDialWS("not.a.token", "", viaProtocol); err == nil || res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("a bad token: %v %v", err, res)
		}
	})
}

// TestWSDisableClosesSockets: disabling a cashier closes their sockets at
// once with 4001, and tells the owner and the store's manager.
func TestWSDisableClosesSockets(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		w := api.newWorld(t)
		victim := w.Cashiers[1]
		a := api.dialWS(t, victim.Access, "", viaHeader)
		b := api.dialWS(t, victim.Access, "", viaProtocol)
		manager := api.dialWS(t, w.Managers[0].Access, "", viaHeader)
		otherManager := api.dialWS(t, w.Managers[1].Access, "", viaHeader)
		for _, c := range []*wsClient{a, b, manager, otherManager} {
			c.ready(t)
		}
		wantStatus(t, api.request(t, "POST", fmt.Sprintf("/v1/staff/%d/disable", victim.ID), w.Owner.Access, nil), http.StatusOK)
		a.closedWith(t, CloseStaffDisabled)
		b.closedWith(t, CloseStaffDisabled)
		api.waitMetrics(t, `paydesk_websockets_closed_total{reason="staff_disabled"} 2`, "paydesk_websockets_open 2")
		if m := manager.next(t); m.Type != "staff.disabled" || m.CashierID != victim.ID || m.Data["staff_id"] != float64(victim.ID) {
			t.Fatalf("manager got %+v", m)
		}
		otherManager.none(t)
		if _, res, err := api.tryDialWS(victim.Access, "", viaHeader); err == nil || res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("the disabled cashier dialled again: %v %v", err, res)
		}
	})
}

// setWSTiming shortens the heartbeat of sockets opened from now on and
// returns the function that restores it.
func setWSTiming(ping, pong time.Duration) func() {
	old := wsTiming.Swap(&wsTimes{ping: ping, pong: pong})
	return func() { wsTiming.Store(old) }
}

// TestWSHeartbeat: a peer that answers pings stays; one that reads nothing
// (so answers no ping) is dropped after the pong wait.
func TestWSHeartbeat(t *testing.T) {
	defer setWSTiming(50*time.Millisecond, 300*time.Millisecond)()
	api := newTestAPI(t, "sqlite")
	w := api.newWorld(t)
	alive := api.dialWS(t, w.Owner.Access, "", viaHeader)
	alive.ready(t)
	d := websocket.Dialer{Subprotocols: []string{WSProtocol, "bearer." + w.Managers[0].Access}}
	dead, _, err := d.Dial("ws"+strings.TrimPrefix(api.URL, "http")+"/v1/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	waitUntil(t, func() bool { return api.Push.Subscribers() == 2 })
	waitUntil(t, func() bool { return api.Push.Subscribers() == 1 })
	api.waitMetrics(t, `paydesk_websockets_closed_total{reason="peer_timeout"} 1`, "paydesk_websockets_open 1")
	time.Sleep(time.Second) // three pong waits: the live one stays
	if n := api.Push.Subscribers(); n != 1 {
		t.Fatalf("%d subscribers, want the live one", n)
	}
	api.payQR(t, w.Cashiers[0], w.Customer, 100)
	if m := alive.next(t); m.Type != "payment.paid" {
		t.Fatalf("got %+v", m)
	}
}

func waitUntil(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !ok(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5 s")
		}
	}
}
