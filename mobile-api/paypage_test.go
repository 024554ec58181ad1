package mobileapi

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/paydesk/paydesk/pos"
)

// TestPayPages: the pages a link or QR opens show the order or store,
// escaped, with a locked-down script, and offer to pay only while paying
// can succeed; a failed payment can be retried from the same link.
func TestPayPages(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		w := api.newWorld(t)
		const hostile = `<img src=x onerror="alert(1)">&'`
		o, err := api.POS.CreatePaymentLink(context.Background(), w.Managers[0].actor(), pos.Collection{OutTradeNo: "page-1", Amount: 123456, Subject: hostile})
		if err != nil {
			t.Fatal(err)
		}
		link := api.POS.PayURL(o)
		page := func(path string, status int) string {
			t.Helper()
			r := api.request(t, "GET", path, "", nil)
			if r.Status != status || r.Header.Get("Content-Type") != "text/html; charset=utf-8" {
				t.Fatalf("GET %s: %d %s, want %d HTML", path, r.Status, r.Header.Get("Content-Type"), status)
			}
			csp := r.Header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe-inline") ||
				strings.Contains(string(r.Raw), "<script") && !strings.Contains(csp, "script-src 'nonce-") {
				t.Fatalf("Content-Security-Policy %q", csp)
			}
			if r.Header.Get("Referrer-Policy") != "no-referrer" || r.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("headers %v", r.Header)
			}
			return string(r.Raw)
		}

		body := page(pathOf(t, link), http.StatusOK)
		// The link's page is the hosted checkout's page (checkout.html):
		// merchant, amount, a QR for the app and the wallet log-in form.
		for _, want := range []string{"CNY 1234.56", "Awaiting payment", "Lotus", w.Stores[0].Name, "Pay with paydesk wallet",
			`action="` + pathOf(t, link) + `/pay"`, "data:image/png;base64,", `&lt;img src=x onerror=&#34;alert(1)&#34;&gt;&amp;&#39;`} {
			if !strings.Contains(body, want) {
				t.Fatalf("link page lacks %q:\n%s", want, body)
			}
		}
		if strings.Contains(body, hostile) || strings.Contains(body, "<img src=x") {
			t.Fatalf("the subject reached the page unescaped:\n%s", body)
		}
		for _, secret := range []string{w.Customer.Access, w.Managers[0].Access, "access_token\":", o.OutTradeNo} {
			if strings.Contains(body, secret) {
				t.Fatalf("the page shows %q", secret)
			}
		}

		// A failed attempt from the page shows why and the form again.
		b := newBrowser()
		res, html := b.post(t, api.URL+pathOf(t, link)+"/pay", url.Values{"phone": {w.Customer.Phone}, "password": {"wrong-password"}})
		if res.StatusCode != http.StatusUnauthorized || !strings.Contains(html, `role="alert"`) || !strings.Contains(html, `name="password"`) {
			t.Fatalf("wrong password on the link page: %d %s", res.StatusCode, html)
		}
		// A failed payment leaves the link open; the retry from it pays.
		poor := api.newCustomer(t)
		wantError(t, api.request(t, "POST", "/v1/wallet/pay", poor.Access, map[string]any{"qr_payload": link}), http.StatusUnprocessableEntity, "INSUFFICIENT_FUNDS")
		if body := page(pathOf(t, link), http.StatusOK); !strings.Contains(body, "Pay with paydesk wallet") {
			t.Fatal("a failed payment closed the link")
		}
		api.fund(t, poor, 200_000)
		wantStatus(t, api.request(t, "POST", "/v1/wallet/pay", poor.Access, map[string]any{"qr_payload": link}), http.StatusOK)
		body = page(pathOf(t, link), http.StatusOK)
		if !strings.Contains(body, ">Paid<") || strings.Contains(body, "<script") {
			t.Fatalf("paid link page:\n%s", body)
		}

		// A closed order says so and offers nothing.
		closed, _ := api.newQROrder(w.Cashiers[0], 100)
		wantStatus(t, api.request(t, "POST", fmt.Sprintf("/v1/orders/%d/close", closed.ID), w.Cashiers[0].Access, nil), http.StatusOK)
		if body := page(pathOf(t, api.POS.PayURL(closed)), http.StatusOK); !strings.Contains(body, ">Closed<") || strings.Contains(body, "<form") {
			t.Fatalf("closed order page:\n%s", body)
		}

		// The store page asks the amount.
		body = page(pathOf(t, api.POS.StoreQRURL(w.Stores[1].QRToken)), http.StatusOK)
		for _, want := range []string{w.Stores[1].Name, "Enter the amount", `name="amount"`, `data-enter-amount="true"`} {
			if !strings.Contains(body, want) {
				t.Fatalf("store page lacks %q:\n%s", want, body)
			}
		}

		// Unknown and malformed tokens are a plain 404 page.
		for _, path := range []string{"/p/o/AAAAAAAAAAAAAAAAAAAAAAAA", "/p/s/AAAAAAAAAAAAAAAAAAAAAAAA", "/p/o/short", "/p/o/" + strings.Repeat("a", 65), "/p/o/%3Cscript%3E"} {
			if body := page(path, http.StatusNotFound); !strings.Contains(body, "Payment not found") || bytes.Contains([]byte(body), []byte("<script")) {
				t.Fatalf("%s:\n%s", path, body)
			}
		}
	})
}
