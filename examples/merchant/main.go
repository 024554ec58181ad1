// Command merchant is the sample code of a merchant's web shop integrating
// paydesk (issue 19; the "sample code" of seed 002): it creates a hosted
// checkout session with an API key, sends the customer to its page,
// receives the webhook and verifies its signature, verifies the signed
// result the customer brings back to return_url, and queries the order.
//
//	go run ./examples/merchant -paydesk http://localhost:8080 -listen 127.0.0.1:9090
//
// with PAYDESK_API_KEY (scopes payments:write and orders:read, from
// POST /v1/api-keys) and PAYDESK_WEBHOOK_SECRET (the secret of an endpoint
// pointing at http://127.0.0.1:9090/paydesk/webhooks, from
// POST /v1/webhook-endpoints) in the environment. Open
// http://127.0.0.1:9090/buy to buy something.
//
// It uses only the standard library and paydesk's two verification
// functions (webhook.Verify, checkout.Verify), which another language
// rewrites in a few lines: HMAC-SHA256 and a constant-time comparison.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/paydesk/paydesk/checkout"
	"github.com/paydesk/paydesk/webhook"
)

func main() {
	base := flag.String("paydesk", "http://localhost:8080", "paydesk's base URL")
	listen := flag.String("listen", "127.0.0.1:9090", "where this shop listens")
	flag.Parse()
	shop := &Shop{Paydesk: &Client{BaseURL: *base, Key: os.Getenv("PAYDESK_API_KEY"), HTTP: &http.Client{Timeout: 15 * time.Second}},
		WebhookSecret: os.Getenv("PAYDESK_WEBHOOK_SECRET"), Self: "http://" + *listen}
	if shop.Paydesk.Key == "" || shop.WebhookSecret == "" {
		log.Fatal("set PAYDESK_API_KEY and PAYDESK_WEBHOOK_SECRET")
	}
	log.Printf("shop on %s: open %s/buy", *listen, shop.Self)
	log.Fatal(http.ListenAndServe(*listen, shop.Handler()))
}

// Client calls paydesk's API with an API key.
type Client struct {
	BaseURL string
	Key     string
	HTTP    *http.Client
}

// Session is the answer of POST /v1/checkout-sessions.
type Session struct {
	ID           string `json:"id"`
	URL          string `json:"url"`
	ReturnSecret string `json:"return_secret"`
	Order        Order  `json:"order"`
}

// Order is what the shop reads of an order.
type Order struct {
	ID         int64  `json:"id"`
	OutTradeNo string `json:"out_trade_no"`
	State      string `json:"state"`
	Amount     int64  `json:"amount"`
	Currency   string `json:"currency"`
}

// apiError is paydesk's error envelope.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func (c *Client) do(method, path string, body, out any, header http.Header) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.BaseURL+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.Key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode/100 != 2 {
		var e apiError
		_ = json.Unmarshal(raw, &e)
		return fmt.Errorf("%s %s: %d %s: %s", method, path, res.StatusCode, e.Error.Code, e.Error.Message)
	}
	return json.Unmarshal(raw, out)
}

// CreateCheckout opens a hosted checkout for the shop's order. The
// Idempotency-Key makes a retry after a network failure safe.
func (c *Client) CreateCheckout(outTradeNo string, amount int64, subject, returnURL string) (Session, error) {
	var s Session
	err := c.do("POST", "/v1/checkout-sessions", map[string]any{"out_trade_no": outTradeNo, "amount": amount, "subject": subject,
		"return_url": returnURL, "expires_in": 1800}, &s, http.Header{"Idempotency-Key": {"checkout-" + outTradeNo}})
	return s, err
}

// Order queries one order.
func (c *Client) Order(id int64) (Order, error) {
	var o Order
	err := c.do("GET", "/v1/orders/"+strconv.FormatInt(id, 10), nil, &o, nil)
	return o, err
}

// Shop is the merchant's web shop.
type Shop struct {
	Paydesk       *Client
	WebhookSecret string
	Self          string // the shop's own base URL

	mu      sync.Mutex
	next    int
	secrets map[string]string // out_trade_no -> the session's return secret
	paid    map[int64]bool    // orders the shop has seen paid, by webhook or return
}

// Handler serves the shop.
func (s *Shop) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /buy", s.buy)
	mux.HandleFunc("GET /return", s.back)
	mux.HandleFunc("POST /paydesk/webhooks", s.webhook)
	return mux
}

// buy creates an order of the shop and sends the customer to pay it.
func (s *Shop) buy(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.next++
	no := fmt.Sprintf("shop-%d-%d", time.Now().Unix(), s.next)
	s.mu.Unlock()
	sess, err := s.Paydesk.CreateCheckout(no, 9900, "Accounting licence, 1 year", s.Self+"/return")
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	s.mu.Lock()
	if s.secrets == nil {
		s.secrets = map[string]string{}
	}
	s.secrets[no] = sess.ReturnSecret
	s.mu.Unlock()
	http.Redirect(w, r, sess.URL, http.StatusSeeOther)
}

// back is return_url: the customer is back with a signed result.
func (s *Shop) back(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	secret := s.secrets[q.Get("out_trade_no")]
	s.mu.Unlock()
	if secret == "" || checkout.Verify(secret, q, time.Now(), 5*time.Minute) != nil {
		http.Error(w, "this result is not from paydesk", http.StatusBadRequest)
		return
	}
	// The browser's word is verified, but the order's state is still
	// asked of paydesk before anything ships.
	id, _ := strconv.ParseInt(q.Get("order_id"), 10, 64)
	o, err := s.Paydesk.Order(id)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	fmt.Fprintf(w, "Order %s is %s. Thank you!\n", o.OutTradeNo, o.State)
}

// webhook receives paydesk's events: verify, then act once per event.
func (s *Shop) webhook(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	if err := webhook.Verify(s.WebhookSecret, r.Header.Get(webhook.SignatureHeader), body, time.Now(), 5*time.Minute); err != nil {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var ev struct {
		Type    string `json:"type"`
		OrderID int64  `json:"order_id"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		http.Error(w, "not an event", http.StatusBadRequest)
		return
	}
	if ev.Type == "payment.paid" {
		o, err := s.Paydesk.Order(ev.OrderID)
		if err != nil {
			// Not 2xx: paydesk sends it again later.
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		s.markPaid(o)
	}
	w.WriteHeader(http.StatusNoContent)
}

// markPaid is where a real shop sends the e-invoice and the licence key,
// once, however often the event arrives (deliveries may repeat).
func (s *Shop) markPaid(o Order) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.paid == nil {
		s.paid = map[int64]bool{}
	}
	if !s.paid[o.ID] && o.State == "PAID" {
		s.paid[o.ID] = true
		log.Printf("order %s paid: %d %s; sending the invoice and the licence key", o.OutTradeNo, o.Amount, o.Currency)
	}
}

// Paid reports whether the shop has seen order id paid.
func (s *Shop) Paid(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.paid[id]
}
