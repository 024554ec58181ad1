package mobileapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paydesk/paydesk/checkout"
	"github.com/paydesk/paydesk/webhook"
)

// newTestKey has owner create a test key over HTTP and returns its secret and id.
func (api *testAPI) newTestKey(t *testing.T, owner *member, scopes ...string) (string, int64) {
	t.Helper()
	r := api.request(t, "POST", "/v1/api-keys", owner.Access, map[string]any{"name": "integration tests", "kind": "test", "scopes": scopes})
	wantStatus(t, r, http.StatusCreated)
	if !strings.HasPrefix(str(t, r.JSON, "key"), "pdk_test_") || r.JSON["kind"] != "test" {
		t.Fatalf("test key: %s", r.Raw)
	}
	return str(t, r.JSON, "key"), num(t, r.JSON, "id")
}

// TestTestModeEndToEnd is seed 002's step 4: an integrator runs its test
// scenarios with a test key. The key creates a checkout session; the hosted
// page says test mode and offers the simulator's test wallet, not a login
// or a QR; a simulated decline is shown and retried from the same page; the
// test wallet pays at once; the return carries a verifiable result; the
// test webhook endpoint (a real HTTP server) gets the signed payment.paid,
// the live endpoint nothing. Test and live never meet: the live key does not
// see the test order nor the test key the live one, a real wallet cannot pay
// the test order, the simulator refuses a live session, and the live
// merchant's balance does not move. A revoked test key is refused at once.
func TestTestModeEndToEnd(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		w := api.newWorld(t)
		liveSite, testSite := newMerchantSite(t, api.Clock, 0), newMerchantSite(t, api.Clock, 0)
		r := api.request(t, "POST", "/v1/webhook-endpoints", w.Owner.Access, map[string]any{"url": liveSite.srv.URL + "/paydesk/webhooks"})
		wantStatus(t, r, http.StatusCreated)
		liveSite.secret = str(t, r.JSON, "secret")
		r = api.request(t, "POST", "/v1/webhook-endpoints", w.Owner.Access, map[string]any{"url": testSite.srv.URL + "/paydesk/webhooks", "mode": "test"})
		wantStatus(t, r, http.StatusCreated)
		testSite.secret = str(t, r.JSON, "secret")
		testHook := num(t, r.JSON, "id")
		// Each mode lists its own endpoints.
		if l := api.request(t, "GET", "/v1/webhook-endpoints?mode=test", w.Owner.Access, nil); len(l.JSON["items"].([]any)) != 1 {
			t.Fatalf("test endpoints: %s", l.Raw)
		}
		if l := api.request(t, "GET", "/v1/webhook-endpoints", w.Owner.Access, nil); strings.Contains(string(l.Raw), testSite.srv.URL) {
			t.Fatalf("the live list shows the test endpoint: %s", l.Raw)
		}

		liveKey, _ := api.newKey(t, w.Owner, 0, "payments:write", "orders:read", "statements:read")
		testKey, testKeyID := api.newTestKey(t, w.Owner, "payments:write", "orders:read", "statements:read")
		before := api.request(t, "GET", "/v1/balance", liveKey, nil)
		wantStatus(t, before, http.StatusOK)
		liveOrder := api.request(t, "POST", "/v1/checkout-sessions", liveKey, map[string]any{"out_trade_no": "same-no", "amount": 700,
			"return_url": "https://shop.example.com/back"})
		wantStatus(t, liveOrder, http.StatusCreated)
		liveOrderID := num(t, liveOrder.JSON["order"].(map[string]any), "id")

		returnURL := testSite.srv.URL + "/orders/7/return"
		cs := api.request(t, "POST", "/v1/checkout-sessions", testKey, map[string]any{"out_trade_no": "same-no", "amount": 4200,
			"subject": "Test licence", "return_url": returnURL})
		wantStatus(t, cs, http.StatusCreated)
		secret := str(t, cs.JSON, "return_secret")
		testOrderID := num(t, cs.JSON["order"].(map[string]any), "id")
		page := api.URL + strings.TrimPrefix(str(t, cs.JSON, "url"), testPublicURL)
		b := newBrowser()
		res, html := b.get(t, page)
		if res.StatusCode != http.StatusOK || !strings.Contains(html, "Test mode") || !strings.Contains(html, "42.00") ||
			!strings.Contains(html, "(test)") || strings.Contains(html, `name="password"`) || strings.Contains(html, "data:image/png") {
			t.Fatalf("test page %d: %s", res.StatusCode, html)
		}

		// A real wallet cannot pay a test order, from the page or the app.
		res, html = b.post(t, page+"/pay", url.Values{"phone": {w.Customer.Phone}, "password": {w.Customer.Password}})
		if res.StatusCode != http.StatusForbidden || !strings.Contains(html, "test wallet") {
			t.Fatalf("a real wallet on a test order: %d %s", res.StatusCode, html)
		}
		wantError(t, api.request(t, "POST", "/v1/wallet/pay", w.Customer.Access, map[string]any{"qr_payload": str(t, cs.JSON["order"].(map[string]any), "pay_url")}),
			http.StatusForbidden, "TEST_MODE_ORDER")

		// A simulated decline, then the retry from the same page.
		res, html = b.post(t, page+"/test-pay", url.Values{"outcome": {"decline"}})
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(html, `role="alert"`) || !strings.Contains(html, "test-pay") {
			t.Fatalf("decline: %d %s", res.StatusCode, html)
		}
		res, _ = b.post(t, page+"/test-pay", url.Values{"outcome": {"pay"}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("test pay: %d", res.StatusCode)
		}
		back, _ := url.Parse(res.Header.Get("Location"))
		if err := checkout.Verify(secret, back.Query(), api.Clock.Now(), 5*time.Minute); err != nil || back.Query().Get("state") != "paid" ||
			!strings.HasPrefix(back.String(), returnURL) {
			t.Fatalf("return %s: %v", back, err)
		}

		if _, err := api.Dispatcher.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		events, _ := testSite.received()
		if len(events) != 1 || events[0]["type"] != "payment.paid" || num(t, events[0], "order_id") != testOrderID {
			t.Fatalf("the test site got %v", events)
		}
		if events, _ := liveSite.received(); len(events) != 0 {
			t.Fatalf("the live site got test events: %v", events)
		}
		logs := api.request(t, "GET", fmt.Sprintf("/v1/webhook-endpoints/%d/deliveries?mode=test", testHook), w.Owner.Access, nil)
		if wantStatus(t, logs, http.StatusOK); !strings.Contains(string(logs.Raw), `"state":"delivered"`) {
			t.Fatalf("test delivery log: %s", logs.Raw)
		}
		wantError(t, api.request(t, "GET", fmt.Sprintf("/v1/webhook-endpoints/%d/deliveries", testHook), w.Owner.Access, nil),
			http.StatusNotFound, webhook.ErrEndpointNotFound.Code)

		// The order is the test key's; the live key cannot see it, nor the
		// test key the live order.
		o := api.request(t, "GET", fmt.Sprintf("/v1/orders/%d", testOrderID), testKey, nil)
		if wantStatus(t, o, http.StatusOK); o.JSON["state"] != "PAID" {
			t.Fatalf("test order %s", o.Raw)
		}
		wantStatus(t, api.request(t, "GET", fmt.Sprintf("/v1/orders/%d", testOrderID), liveKey, nil), http.StatusNotFound)
		wantStatus(t, api.request(t, "GET", fmt.Sprintf("/v1/orders/%d", liveOrderID), testKey, nil), http.StatusNotFound)
		wantStatus(t, api.request(t, "GET", fmt.Sprintf("/v1/orders/%d", testOrderID), w.Owner.Access, nil), http.StatusNotFound)
		for _, k := range []struct {
			key  string
			want int64
		}{{liveKey, liveOrderID}, {testKey, testOrderID}} {
			l := api.request(t, "GET", "/v1/orders", k.key, nil)
			items := l.JSON["items"].([]any)
			for _, it := range items {
				if id := num(t, it.(map[string]any), "id"); id == liveOrderID && k.want != liveOrderID || id == testOrderID && k.want != testOrderID {
					t.Fatalf("the list of one mode holds the other's order: %s", l.Raw)
				}
			}
		}
		// The simulator refuses a live session.
		livePage := api.URL + strings.TrimPrefix(str(t, liveOrder.JSON, "url"), testPublicURL)
		for _, outcome := range []string{"pay", "decline"} {
			if res, _ := b.post(t, livePage+"/test-pay", url.Values{"outcome": {outcome}}); res.StatusCode != http.StatusForbidden {
				t.Fatalf("simulator on a live session (%s): %d", outcome, res.StatusCode)
			}
		}
		// Live money did not move: the live balance is as it was.
		after := api.request(t, "GET", "/v1/balance", liveKey, nil)
		if string(after.Raw) != string(before.Raw) {
			t.Fatalf("live balance moved: %s → %s", before.Raw, after.Raw)
		}
		tb := api.request(t, "GET", "/v1/balance", testKey, nil)
		if wantStatus(t, tb, http.StatusOK); !strings.Contains(string(tb.Raw), "4200") {
			t.Fatalf("test balance %s", tb.Raw)
		}
		if _, err := api.Ledger.Check(context.Background()); err != nil {
			t.Fatalf("ledger: %v", err)
		}

		// Revoked, the test key is refused at once.
		wantStatus(t, api.request(t, "POST", fmt.Sprintf("/v1/api-keys/%d/revoke", testKeyID), w.Owner.Access, nil), http.StatusOK)
		wantError(t, api.request(t, "GET", "/v1/orders", testKey, nil), http.StatusUnauthorized, "API_KEY_REVOKED")
	})
}

// TestTestModeKeysOfTwoMerchants: the test keys of two merchants act on two
// sandboxes: neither sees the other's test orders.
func TestTestModeKeysOfTwoMerchants(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		w := api.newWorld(t)
		a, _ := api.newTestKey(t, w.Owner, "payments:write", "orders:read")
		b, _ := api.newTestKey(t, w.Rival.Owner, "payments:write", "orders:read")
		cs := api.request(t, "POST", "/v1/checkout-sessions", a, map[string]any{"out_trade_no": "a-1", "amount": 100, "return_url": "https://a.example.com/r"})
		wantStatus(t, cs, http.StatusCreated)
		id := num(t, cs.JSON["order"].(map[string]any), "id")
		wantStatus(t, api.request(t, "GET", fmt.Sprintf("/v1/orders/%d", id), a, nil), http.StatusOK)
		wantStatus(t, api.request(t, "GET", fmt.Sprintf("/v1/orders/%d", id), b, nil), http.StatusNotFound)
		if l := api.request(t, "GET", "/v1/orders", b, nil); len(l.JSON["items"].([]any)) != 0 {
			t.Fatalf("B's sandbox lists %s", l.Raw)
		}
		// A test key is for the merchant's sandbox as a whole.
		wantError(t, api.request(t, "POST", "/v1/api-keys", w.Owner.Access, map[string]any{"name": "x", "kind": "test", "store_id": w.Stores[0].ID,
			"scopes": []string{"orders:read"}}), http.StatusBadRequest, "INVALID_ARGUMENT")
	})
}

// TestTestModeSandboxOpenedOnce: the first requests of a merchant's test
// keys, at once, open one sandbox between them.
func TestTestModeSandboxOpenedOnce(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		w := api.newWorld(t)
		keys := make([]string, 4)
		for i := range keys {
			keys[i], _ = api.newTestKey(t, w.Owner, "payments:write", "orders:read")
		}
		var wg sync.WaitGroup
		for i, k := range keys {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := api.request(t, "POST", "/v1/payment-links", k, map[string]any{"out_trade_no": fmt.Sprintf("first-%d", i), "amount": 100})
				if r.Status != http.StatusCreated {
					t.Errorf("key %d: %d %s", i, r.Status, r.Raw)
				}
			}()
		}
		wg.Wait()
		var n int64
		api.DB.Writer(t.Context()).Raw("SELECT COUNT(*) FROM merchants WHERE marker = ?", fmt.Sprintf("sandbox:%d", w.Merchant.ID)).Scan(&n)
		if n != 1 {
			t.Fatalf("%d sandboxes", n)
		}
	})
}
