package mobileapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paydesk/paydesk/internal/app/apptest"
	"github.com/paydesk/paydesk/internal/testkit"
	"github.com/paydesk/paydesk/push"
	"github.com/paydesk/paydesk/webhook"
)

// endpoint returns the id of a webhook endpoint of the world's merchant,
// made once. Its URL is never called: the matrix runs no dispatcher.
func (w *world) endpoint(api *testAPI) int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.hook == 0 {
		ep, err := api.Webhooks.CreateEndpoint(context.Background(), w.Owner.actor(), webhook.NewEndpoint{URL: "https://shop.example.com/hooks"})
		if err == nil {
			w.hook = ep.ID
		}
	}
	return w.hook
}

// delivery returns the id of a delivery of the world's endpoint, written
// straight to the queue (no dispatcher pass, which would call the URL).
func (w *world) delivery(api *testAPI) int64 {
	id := w.endpoint(api)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.hookDelivery == 0 {
		store := webhook.NewGormStorage(api.DB, apptest.Sealer())
		ep, err := store.Endpoint(context.Background(), w.Merchant.ID, id)
		if err != nil {
			return 0
		}
		now := api.Clock.Now()
		if _, err := store.Enqueue(context.Background(), id, ep.AfterSeq, ep.AfterSeq, []webhook.Delivery{{EndpointID: id, MerchantID: w.Merchant.ID,
			EventID: 1, EventSeq: 1, EventType: push.PaymentPaid, OrderKey: "order:1", Payload: []byte(`{}`), NextAttemptAt: now.Add(time.Hour), CreatedAt: now}}); err != nil {
			return 0
		}
		ds, err := store.Deliveries(context.Background(), w.Merchant.ID, id, 0, 1)
		if err != nil || len(ds) == 0 {
			return 0
		}
		w.hookDelivery = ds[0].ID
	}
	return w.hookDelivery
}

// merchantSite is a merchant's own web server: it receives webhooks,
// verifies their signatures with the endpoint's secret, and keeps the
// verified events; it answers 500 to the first failFirst of them.
type merchantSite struct {
	t         *testing.T
	clock     *testkit.Clock
	failFirst int
	srv       *httptest.Server

	mu     sync.Mutex
	secret string
	calls  int
	events []map[string]any
}

func newMerchantSite(t *testing.T, clock *testkit.Clock, failFirst int) *merchantSite {
	s := &merchantSite{t: t, clock: clock, failFirst: failFirst}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *merchantSite) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.URL.Path != "/paydesk/webhooks" {
		http.NotFound(w, r)
		return
	}
	if err := webhook.Verify(s.secret, r.Header.Get(webhook.SignatureHeader), body, s.clock.Now(), 5*time.Minute); err != nil {
		s.t.Errorf("webhook signature: %v", err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	s.calls++
	if s.calls <= s.failFirst {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	var ev map[string]any
	if err := json.Unmarshal(body, &ev); err != nil {
		s.t.Errorf("webhook body: %v", err)
	}
	s.events = append(s.events, ev)
	w.WriteHeader(http.StatusNoContent)
}

func (s *merchantSite) received() ([]map[string]any, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.events...), s.calls
}

// TestWebhookEndToEnd: the merchant's server creates a payment link with
// an API key; the owner has set up an endpoint on the merchant's site,
// which fails three times; the customer pays; the site gets payment.paid
// exactly once after the failures, signed; the log shows it delivered; the
// key queries the order, paid. Merchant B's endpoint gets nothing of A's.
func TestWebhookEndToEnd(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		w := api.newWorld(t)
		site := newMerchantSite(t, api.Clock, 3)
		r := api.request(t, "POST", "/v1/webhook-endpoints", w.Owner.Access, map[string]any{"url": site.srv.URL + "/paydesk/webhooks",
			"events": []string{"payment.paid", "refund.succeeded"}})
		wantStatus(t, r, http.StatusCreated)
		site.secret = str(t, r.JSON, "secret")
		endpointID := num(t, r.JSON, "id")
		if !strings.HasPrefix(site.secret, "whsec_") || r.Header.Get("Location") != fmt.Sprintf("/v1/webhook-endpoints/%d", endpointID) {
			t.Fatalf("create endpoint: %s", r.Raw)
		}
		list := api.request(t, "GET", "/v1/webhook-endpoints", w.Owner.Access, nil)
		if wantStatus(t, list, http.StatusOK); strings.Contains(string(list.Raw), site.secret) {
			t.Fatal("the endpoint list shows the secret")
		}
		rivalSite := newMerchantSite(t, api.Clock, 0)
		rr := api.request(t, "POST", "/v1/webhook-endpoints", w.Rival.Owner.Access, map[string]any{"url": rivalSite.srv.URL + "/paydesk/webhooks"})
		wantStatus(t, rr, http.StatusCreated)
		rivalSite.secret = str(t, rr.JSON, "secret")

		key, _ := api.newKey(t, w.Owner, 0, "payments:write", "orders:read")
		link := api.request(t, "POST", "/v1/payment-links", key, map[string]any{"out_trade_no": "shop-1001", "amount": 4200, "subject": "Invoice 1001"})
		wantStatus(t, link, http.StatusCreated)
		orderID := num(t, link.JSON["order"].(map[string]any), "id")
		paid := api.request(t, "POST", "/v1/wallet/pay", w.Customer.Access, map[string]any{"qr_payload": str(t, link.JSON, "url")})
		wantStatus(t, paid, http.StatusOK)

		for attempt := 1; attempt <= 4; attempt++ {
			if _, err := api.Dispatcher.RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			api.Clock.Advance(webhook.Backoff(attempt))
		}
		for range 3 { // nothing more, however long one waits
			api.Clock.Advance(webhook.MaxRetryGap)
			if _, err := api.Dispatcher.RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		// A day went by: the people log in again (the key needs no such thing).
		for _, m := range []*member{w.Owner, w.Rival.Owner, w.Cashiers[0]} {
			api.logIn(t, m)
		}
		relogin := api.request(t, "POST", "/v1/wallet/login", "", map[string]string{"phone": w.Customer.Phone, "password": w.Customer.Password})
		wantStatus(t, relogin, http.StatusOK)
		w.Customer.Access = str(t, relogin.JSON, "access_token")
		events, calls := site.received()
		if calls != 4 || len(events) != 1 || events[0]["type"] != "payment.paid" || int64(events[0]["order_id"].(float64)) != orderID {
			t.Fatalf("the merchant's site got %v in %d calls", events, calls)
		}
		if got, _ := rivalSite.received(); len(got) != 0 {
			t.Fatalf("merchant B's site got merchant A's events: %v", got)
		}
		log := api.request(t, "GET", fmt.Sprintf("/v1/webhook-endpoints/%d/deliveries", endpointID), w.Owner.Access, nil)
		wantStatus(t, log, http.StatusOK)
		items := log.JSON["items"].([]any)
		if len(items) != 1 {
			t.Fatalf("log: %s", log.Raw)
		}
		d := items[0].(map[string]any)
		if d["state"] != "delivered" || num(t, d, "attempts") != 4 || num(t, d, "last_status") != 204 || d["next_attempt_at"] != nil {
			t.Fatalf("log: %s", log.Raw)
		}
		wantError(t, api.request(t, "GET", fmt.Sprintf("/v1/webhook-endpoints/%d/deliveries", endpointID), w.Rival.Owner.Access, nil),
			http.StatusNotFound, "WEBHOOK_ENDPOINT_NOT_FOUND")
		wantError(t, api.request(t, "POST", fmt.Sprintf("/v1/webhook-deliveries/%d/redeliver", num(t, d, "id")), w.Rival.Owner.Access, nil),
			http.StatusNotFound, "WEBHOOK_DELIVERY_NOT_FOUND")

		// The key sees the order paid.
		o := api.request(t, "GET", fmt.Sprintf("/v1/orders/%d", orderID), key, nil)
		if wantStatus(t, o, http.StatusOK); o.JSON["state"] != "PAID" {
			t.Fatalf("order: %s", o.Raw)
		}

		// Redeliver on the owner's request: once more.
		rd := api.request(t, "POST", fmt.Sprintf("/v1/webhook-deliveries/%d/redeliver", num(t, d, "id")), w.Owner.Access, nil)
		wantStatus(t, rd, http.StatusAccepted)
		if _, err := api.Dispatcher.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		if events, _ := site.received(); len(events) != 2 || events[1]["id"] != events[0]["id"] {
			t.Fatalf("after redelivery the site has %v", events)
		}

		// Disabled: nothing more goes there.
		wantStatus(t, api.request(t, "POST", fmt.Sprintf("/v1/webhook-endpoints/%d/disable", endpointID), w.Owner.Access, nil), http.StatusOK)
		api.payQR(t, w.Cashiers[0], w.Customer, 100)
		if _, err := api.Dispatcher.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		if events, _ := site.received(); len(events) != 2 {
			t.Fatalf("a disabled endpoint got %v", events)
		}
	})
}

// TestWebhookBadRequests: a bad URL or event type is a 400 with a code.
func TestWebhookBadRequests(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		w := api.newWorld(t)
		wantError(t, api.request(t, "POST", "/v1/webhook-endpoints", w.Owner.Access, map[string]any{"url": "ftp://x"}), http.StatusBadRequest, "INVALID_WEBHOOK_URL")
		wantError(t, api.request(t, "POST", "/v1/webhook-endpoints", w.Owner.Access, map[string]any{"url": "https://x.example", "events": []string{"staff.disabled"}}),
			http.StatusBadRequest, "INVALID_ARGUMENT")
		wantError(t, api.request(t, "GET", fmt.Sprintf("/v1/webhook-endpoints/%d/deliveries?limit=0", w.endpoint(api)), w.Owner.Access, nil),
			http.StatusBadRequest, "INVALID_QUERY")
	})
}
