package mobileapi

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paydesk/paydesk/checkout"
	"github.com/paydesk/paydesk/internal/app/apptest"
	"github.com/paydesk/paydesk/webhook"
)

// browser is the customer's browser: it does not follow redirects, so the
// test sees where it is sent.
type browser struct{ client *http.Client }

func newBrowser() *browser {
	return &browser{client: &http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) get(t *testing.T, u string) (*http.Response, string) {
	t.Helper()
	res, err := b.client.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

func (b *browser) post(t *testing.T, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	res, err := b.client.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

// TestCheckoutEndToEnd: the merchant's server creates a checkout session
// with its API key; the customer opens the page (merchant and amount on
// it), types a wrong password (refused, the form is there again), then the
// right one; the page sends the customer to return_url with a result that
// verifies with the session's return secret; the merchant's site gets the
// signed payment.paid webhook; the key queries the order, paid.
func TestCheckoutEndToEnd(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		w := api.newWorld(t)
		site := newMerchantSite(t, api.Clock, 0)
		r := api.request(t, "POST", "/v1/webhook-endpoints", w.Owner.Access, map[string]any{"url": site.srv.URL + "/paydesk/webhooks"})
		wantStatus(t, r, http.StatusCreated)
		site.secret = str(t, r.JSON, "secret")
		key, _ := api.newKey(t, w.Owner, 0, "payments:write", "orders:read")

		returnURL := site.srv.URL + "/orders/1001/return?lang=en"
		cs := api.request(t, "POST", "/v1/checkout-sessions", key, map[string]any{"out_trade_no": "inv-1001", "amount": 12345,
			"subject": "Accounting licence", "return_url": returnURL, "expires_in": 900})
		wantStatus(t, cs, http.StatusCreated)
		pageURL, secret := str(t, cs.JSON, "url"), str(t, cs.JSON, "return_secret")
		orderID := num(t, cs.JSON["order"].(map[string]any), "id")
		// The same request again answers the same session.
		again := api.request(t, "POST", "/v1/checkout-sessions", key, map[string]any{"out_trade_no": "inv-1001", "amount": 12345,
			"subject": "Accounting licence", "return_url": returnURL, "expires_in": 900})
		if wantStatus(t, again, http.StatusCreated); str(t, again.JSON, "url") != pageURL {
			t.Fatalf("a retry made another session: %s", again.Raw)
		}
		wantError(t, api.request(t, "POST", "/v1/checkout-sessions", key, map[string]any{"out_trade_no": "inv-1001", "amount": 999,
			"subject": "Accounting licence", "return_url": returnURL}), http.StatusUnprocessableEntity, "IDEMPOTENCY_CONFLICT")

		page := api.URL + strings.TrimPrefix(pageURL, testPublicURL)
		b := newBrowser()
		res, html := b.get(t, page)
		if res.StatusCode != http.StatusOK || !strings.Contains(html, "Lotus") || !strings.Contains(html, "123.45") ||
			!strings.Contains(html, "Accounting licence") || !strings.Contains(html, "data:image/png;base64,") || strings.Contains(html, "<script") {
			t.Fatalf("page %d: %s", res.StatusCode, html)
		}
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
			t.Fatalf("CSP %q", csp)
		}

		res, html = b.post(t, page+"/pay", url.Values{"phone": {w.Customer.Phone}, "password": {"wrong-password"}})
		if res.StatusCode != http.StatusUnauthorized || !strings.Contains(html, `role="alert"`) || !strings.Contains(html, `name="password"`) {
			t.Fatalf("wrong password: %d %s", res.StatusCode, html)
		}
		res, _ = b.post(t, page+"/pay", url.Values{"phone": {w.Customer.Phone}, "password": {w.Customer.Password}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("pay: status %d", res.StatusCode)
		}
		back, err := url.Parse(res.Header.Get("Location"))
		if err != nil || !strings.HasPrefix(back.String(), site.srv.URL+"/orders/1001/return?") {
			t.Fatalf("sent to %q", res.Header.Get("Location"))
		}
		q := back.Query()
		if err := checkout.Verify(secret, q, api.Clock.Now(), 5*time.Minute); err != nil {
			t.Fatalf("result %v: %v", q, err)
		}
		if q.Get("state") != "paid" || q.Get("out_trade_no") != "inv-1001" || q.Get("amount") != "12345" || q.Get("lang") != "en" ||
			q.Get("order_id") != fmt.Sprint(orderID) {
			t.Fatalf("result %v", q)
		}
		forged := url.Values{}
		for k, v := range q {
			forged[k] = v
		}
		forged.Set("amount", "1")
		if checkout.Verify(secret, forged, api.Clock.Now(), 5*time.Minute) == nil {
			t.Fatal("a changed amount verifies")
		}
		// Opened again, the page sends the customer back at once.
		if res, _ := b.get(t, page); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("paid page: %d", res.StatusCode)
		}

		if _, err := api.Dispatcher.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		events, _ := site.received()
		if len(events) != 1 || events[0]["type"] != "payment.paid" || num(t, events[0], "order_id") != orderID {
			t.Fatalf("the site got %v", events)
		}
		o := api.request(t, "GET", fmt.Sprintf("/v1/orders/%d", orderID), key, nil)
		if wantStatus(t, o, http.StatusOK); o.JSON["state"] != "PAID" || num(t, o.JSON, "amount") != 12345 {
			t.Fatalf("order %s", o.Raw)
		}
	})
}

// TestCheckoutPaidByApp: the customer scans the page's QR with the wallet
// app instead; the page, reloading, sends them back paid. An expired
// session's page says it is closed and links back with state=closed.
func TestCheckoutPaidByApp(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		w := api.newWorld(t)
		key, _ := api.newKey(t, w.Owner, w.Stores[0].ID, "payments:write")
		cs := api.request(t, "POST", "/v1/checkout-sessions", key, map[string]any{"out_trade_no": "app-1", "amount": 500, "subject": "Tea",
			"return_url": "https://shop.example.com/back"})
		wantStatus(t, cs, http.StatusCreated)
		order := cs.JSON["order"].(map[string]any)
		wantStatus(t, api.request(t, "POST", "/v1/wallet/pay", w.Customer.Access, map[string]any{"qr_payload": str(t, order, "pay_url")}), http.StatusOK)
		b := newBrowser()
		page := api.URL + strings.TrimPrefix(str(t, cs.JSON, "url"), testPublicURL)
		if res, _ := b.get(t, page); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "https://shop.example.com/back?") {
			t.Fatalf("after the app paid: %d %q", res.StatusCode, res.Header.Get("Location"))
		}

		late := api.request(t, "POST", "/v1/checkout-sessions", key, map[string]any{"out_trade_no": "late-1", "amount": 500,
			"return_url": "https://shop.example.com/back", "expires_in": 60})
		wantStatus(t, late, http.StatusCreated)
		api.Clock.Advance(61 * time.Second)
		res, html := b.get(t, api.URL+strings.TrimPrefix(str(t, late.JSON, "url"), testPublicURL))
		if res.StatusCode != http.StatusOK || !strings.Contains(html, "closed") || !strings.Contains(html, "state=closed") || strings.Contains(html, `name="password"`) {
			t.Fatalf("expired page %d: %s", res.StatusCode, html)
		}
		if res, _ := b.get(t, api.URL+"/checkout/no-such-token"); res.StatusCode != http.StatusNotFound {
			t.Fatalf("unknown token: %d", res.StatusCode)
		}
	})
}

// TestCheckoutBadRequests: what a merchant's system sends wrong is a 400.
func TestCheckoutBadRequests(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		w := api.newWorld(t)
		key, _ := api.newKey(t, w.Owner, 0, "payments:write")
		base := func(k string, v any) map[string]any {
			b := map[string]any{"out_trade_no": api.outTradeNo("bad"), "amount": 100, "return_url": "https://shop.example.com/r"}
			b[k] = v
			return b
		}
		for _, c := range []struct {
			body map[string]any
			code string
		}{
			{base("return_url", "javascript:alert(1)"), "INVALID_RETURN_URL"},
			{base("return_url", ""), "INVALID_RETURN_URL"},
			{base("expires_in", 10), "INVALID_ARGUMENT"},
			{base("expires_in", 999999), "INVALID_ARGUMENT"},
			{base("notify_url", "ftp://shop.example.com/n"), "INVALID_NOTIFY_URL"},
			{base("notify_url", "https://user:pw@shop.example.com/n"), "INVALID_NOTIFY_URL"},
			{base("notify_url", "/relative"), "INVALID_NOTIFY_URL"},
			{base("amount", 0), "INVALID_AMOUNT"},
			{base("out_trade_no", "bad no"), "INVALID_OUT_TRADE_NO"},
		} {
			wantError(t, api.request(t, "POST", "/v1/checkout-sessions", key, c.body), http.StatusBadRequest, c.code)
		}
		// Orders-only keys may not open sessions.
		ro, _ := api.newKey(t, w.Owner, 0, "orders:read")
		wantError(t, api.request(t, "POST", "/v1/checkout-sessions", ro, base("amount", 100)), http.StatusForbidden, "FORBIDDEN")
	})
}

// TestCheckoutNotifyURL: a session's notify_url gets the session's result
// server to server, signed like a webhook with the session's return
// secret, through the webhook deliveries. The merchant's server fails 3
// times, then answers 2xx: it gets the event exactly once more and the
// log shows it delivered. Two instances dispatch at once and it is still
// sent once per attempt. It gets that order's outcome only, not the
// merchant's other orders, and the endpoint is not in the owner's list.
func TestCheckoutNotifyURL(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		w := api.newWorld(t)
		site := newMerchantSite(t, api.Clock, 3)
		key, _ := api.newKey(t, w.Owner, 0, "payments:write", "orders:read")
		notify := site.srv.URL + "/paydesk/webhooks"
		body := map[string]any{"out_trade_no": "n-1", "amount": 990, "subject": "Notified", "return_url": "https://shop.example.com/back", "notify_url": notify}
		cs := api.request(t, "POST", "/v1/checkout-sessions", key, body)
		wantStatus(t, cs, http.StatusCreated)
		site.secret = str(t, cs.JSON, "return_secret")
		endpointID := num(t, cs.JSON, "notify_endpoint_id")
		orderID := num(t, cs.JSON["order"].(map[string]any), "id")
		if cs.JSON["notify_url"] != notify {
			t.Fatalf("session %s", cs.Raw)
		}
		// The same request again: the same endpoint; another notify_url: refused.
		again := api.request(t, "POST", "/v1/checkout-sessions", key, body)
		if wantStatus(t, again, http.StatusCreated); num(t, again.JSON, "notify_endpoint_id") != endpointID {
			t.Fatalf("retry: %s", again.Raw)
		}
		other := map[string]any{}
		for k, v := range body {
			other[k] = v
		}
		other["notify_url"] = site.srv.URL + "/other"
		wantError(t, api.request(t, "POST", "/v1/checkout-sessions", key, other), http.StatusUnprocessableEntity, "IDEMPOTENCY_CONFLICT")
		// Another order of the merchant, paid too: not this endpoint's.
		api.payQR(t, w.Cashiers[0], w.Customer, 100)

		b := newBrowser()
		page := api.URL + strings.TrimPrefix(str(t, cs.JSON, "url"), testPublicURL)
		if res, _ := b.post(t, page+"/pay", url.Values{"phone": {w.Customer.Phone}, "password": {w.Customer.Password}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("pay: %d", res.StatusCode)
		}
		second := webhook.NewDispatcher(webhook.NewGormStorage(api.DB, apptest.Sealer()), api.Outbox, api.Clock.Now, webhook.Config{AllowPrivate: true}, nil)
		for attempt := 1; attempt <= 5; attempt++ {
			var wg sync.WaitGroup
			for _, d := range []*webhook.Dispatcher{api.Dispatcher, second} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := d.RunOnce(context.Background()); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			api.Clock.Advance(webhook.Backoff(attempt))
		}
		api.logIn(t, w.Owner) // minutes went by
		events, calls := site.received()
		if calls != 4 || len(events) != 1 || events[0]["type"] != "payment.paid" || num(t, events[0], "order_id") != orderID {
			t.Fatalf("notify_url got %v in %d calls", events, calls)
		}
		log := api.request(t, "GET", fmt.Sprintf("/v1/webhook-endpoints/%d/deliveries", endpointID), w.Owner.Access, nil)
		wantStatus(t, log, http.StatusOK)
		items := log.JSON["items"].([]any)
		if len(items) != 1 || items[0].(map[string]any)["state"] != "delivered" || num(t, items[0].(map[string]any), "attempts") != 4 {
			t.Fatalf("notify log: %s", log.Raw)
		}
		if l := api.request(t, "GET", "/v1/webhook-endpoints", w.Owner.Access, nil); strings.Contains(string(l.Raw), notify) {
			t.Fatalf("the owner's endpoint list shows the notify endpoint: %s", l.Raw)
		}
	})
}
