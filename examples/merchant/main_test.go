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
	"github.com/paydesk/paydesk/apikey"
	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/checkout"
	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/merchant"
	mobileapi "github.com/paydesk/paydesk/mobile-api"
	"github.com/paydesk/paydesk/pos"
	"github.com/paydesk/paydesk/push"
	"github.com/paydesk/paydesk/rbac"
	"github.com/paydesk/paydesk/sandbox"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
	"github.com/paydesk/paydesk/wallet"
	"github.com/paydesk/paydesk/webhook"
)

// TestShopAgainstPaydesk runs the sample shop against a real paydesk API
// (its services on a real database, served over HTTP): a customer buys in
// the shop, pays on the hosted checkout page, comes back to the shop with
// a result the shop verifies, and the shop's webhook, verified too, marks
// the order paid.
func TestShopAgainstPaydesk(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		cheap := paydesk.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}
		var handler http.Handler
		api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
		t.Cleanup(api.Close)

		enf, err := rbac.NewEnforcer("")
		if err != nil {
			t.Fatal(err)
		}
		tokens, err := rbac.NewTokens(rbac.NewGormSessionStore(db), []byte("example-test-secret-0123456789abcdef"), paydesk.SystemClock, rbac.TokenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		l := ledger.New(ledger.NewGormStore(db))
		t.Cleanup(l.Close)
		attempts := storage.NewAttempts(db, paydesk.SystemClock)
		sim := bank.NewSimulator(bank.SimulatorConfig{})
		t.Cleanup(sim.Close)
		wallets, err := wallet.New(ctx, wallet.Config{Store: wallet.NewGormStore(db, wallet.MustSealer(make([]byte, wallet.DataKeyLen))), Ledger: l,
			Bank: sim, Attempts: attempts, Clock: paydesk.SystemClock, Passwords: cheap})
		if err != nil {
			t.Fatal(err)
		}
		outbox := push.NewOutbox(db, nil)
		merchants := merchant.NewService(merchant.NewGormStorage(db), l,
			cashier.NewService(cashier.NewGormStorage(db), merchant.NewGormStorage(db), attempts, paydesk.SystemClock, cashier.WithPasswords(cheap)), paydesk.SystemClock)
		sb := sandbox.NewService(merchants, wallets, l)
		sales := pos.NewService(pos.NewGormStorage(db), l, wallets, merchants, paydesk.SystemClock, pos.Config{PublicURL: api.URL, Payable: sb.Payable})
		sales.Observe(outbox)
		hasher, _ := apikey.NewHasher([]byte("example-test-pepper-0123456789"))
		hooks := webhook.NewGormStorage(db)
		hookSvc := webhook.NewService(hooks, outbox, nil)
		dispatcher := webhook.NewDispatcher(hooks, outbox, nil, webhook.Config{AllowPrivate: true}, hookSvc)
		handler = mobileapi.New(mobileapi.Config{DB: db, Merchants: merchants, Tokens: tokens, Enforcer: enf, Wallets: wallets, POS: sales,
			Idempotency: storage.NewIdempotencyKeys(db, paydesk.SystemClock), APIKeys: apikey.NewService(apikey.NewGormStorage(db), hasher, merchants, nil),
			Webhooks: hookSvc, Checkout: checkout.NewService(checkout.NewGormStorage(db), sales, nil, api.URL), Sandbox: sb}).Handler()

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
				customer := call("POST", "/v1/wallet/register", "", map[string]string{"phone": "13700000001", "password": "wallet-pass-1"})["access_token"].(string)
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
