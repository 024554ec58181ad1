package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/internal/app/apptest"
	"github.com/paydesk/paydesk/merchant"
	mobileapi "github.com/paydesk/paydesk/mobile-api"
	"github.com/paydesk/paydesk/sms"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// TestShopAgainstPaydesk runs the sample shop against a real paydesk API
// (its services on a real database, served over HTTP): a customer buys in
// the shop, pays on the hosted checkout page, comes back to the shop with
// a result the shop verifies, and the shop's webhook, verified too, marks
// the order paid.
func TestShopAgainstPaydesk(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		var handler http.Handler
		api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
		t.Cleanup(api.Close)

		// The services as cmd/paydesk builds them (internal/app), on the
		// system clock; SMS codes go to a dev channel the test reads.
		codes := sms.NewDev(nil)
		s := apptest.Settings()
		s.PublicURL, s.SMS = api.URL, codes
		a := apptest.Build(t, db, s, nil)
		handler = mobileapi.NewServer(a, mobileapi.Config{}).Handler()
		merchants, dispatcher := a.Merchants, a.Dispatcher

		opened, err := merchants.CreateMerchant(ctx, merchant.NewMerchant{Name: "MISA", StoreName: "MISA online", OwnerName: "Owner",
			OwnerPhone: "13900000001", OwnerPassword: "owner-pass-1"})
		if err != nil {
			t.Fatal(err)
		}
		call := func(method, path, token string, body any) map[string]any {
			t.Helper()
			c := &Client{BaseURL: api.URL, Key: token, HTTP: api.Client()}
			var out map[string]any
			if err := c.do(method, path, body, &out, nil); err != nil {
				t.Fatal(err)
			}
			return out
		}
		owner := call("POST", "/v1/auth/login", "", map[string]string{"phone": opened.Owner.Phone, "password": "owner-pass-1"})["access_token"].(string)
		// Seed 002's way: the integration runs its scenarios in test mode
		// first (test key, test endpoint, the simulator pays), then live.
		for _, mode := range []string{"test", "live"} {
			key := call("POST", "/v1/api-keys", owner, map[string]any{"name": "shop " + mode, "kind": mode, "scopes": []string{"payments:write", "orders:read"}})["key"].(string)

			shop := &Shop{Paydesk: &Client{BaseURL: api.URL, Key: key, HTTP: api.Client()}}
			shopSrv := httptest.NewServer(shop.Handler())
			t.Cleanup(shopSrv.Close)
			shop.Self = shopSrv.URL
			shop.WebhookSecret = call("POST", "/v1/webhook-endpoints", owner, map[string]any{"url": shopSrv.URL + "/paydesk/webhooks", "mode": mode})["secret"].(string)

			if mode == "live" {
				call("POST", "/v1/wallet/register/code", "", map[string]string{"phone": "13700000001"})
				norm, _ := paydesk.NormalizePhone("13700000001")
				code := codes.LastCode(norm)
				customer := call("POST", "/v1/wallet/register", "", map[string]string{"phone": "13700000001", "password": "wallet-pass-1", "code": code})["access_token"].(string)
				call("POST", "/v1/wallet/cards", customer, map[string]any{"number": bank.SimCardOK, "holder": "Nguyen An", "expiry_month": 12, "expiry_year": 2030})
				call("POST", "/v1/wallet/topups", customer, map[string]any{"amount": 50000, "request_no": "fund-1"})
			}

			// The customer's browser, which follows redirects, as browsers do.
			browser := &http.Client{Timeout: 30 * time.Second}
			res, err := browser.Get(shopSrv.URL + "/buy")
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if !strings.Contains(string(page), "MISA") || !strings.Contains(string(page), "99.00") {
				t.Fatalf("checkout page %d: %s", res.StatusCode, page)
			}
			payURL, form := res.Request.URL.String()+"/pay", url.Values{"phone": {"13700000001"}, "password": {"wallet-pass-1"}}
			if mode == "test" {
				payURL, form = res.Request.URL.String()+"/test-pay", url.Values{"outcome": {"pay"}}
			}
			res, err = browser.PostForm(payURL, form)
			if err != nil {
				t.Fatal(err)
			}
			back, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK || !strings.Contains(string(back), "is PAID") || res.Request.URL.Path != "/return" {
				t.Fatalf("back at the shop: %d %s %s", res.StatusCode, res.Request.URL, back)
			}
			orderID := res.Request.URL.Query().Get("order_id")

			if _, err := dispatcher.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
			var id int64
			if err := json.Unmarshal([]byte(orderID), &id); err != nil || !shop.Paid(id) {
				t.Fatalf("the shop's webhook did not mark order %s paid", orderID)
			}
		}
	})
}
