package mobileapi

import (
	"bytes"
	"fmt"
	"image/png"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/merchant"
	"github.com/paydesk/paydesk/wallet"
)

// books is the money the tests watch: the merchant's pending balance and
// the platform's fees, to check each payment's split.
type books struct{ pending, fees int64 }

func (api *testAPI) books(t *testing.T, m merchant.Merchant) books {
	t.Helper()
	return books{pending: int64(api.pending(t, m)), fees: int64(api.balance(t, ledger.FeeAccount))}
}

// wantPaid checks that a payment of amount moved exactly that: the wallet
// paid amount, the merchant's pending grew by amount less the fee (0.38%
// half up), the platform got the fee, and the book is sound.
func (api *testAPI) wantPaid(t *testing.T, m merchant.Merchant, before books, c *customer, cashBefore, amount int64, o map[string]any) {
	t.Helper()
	if o["state"] != "PAID" || num(t, o, "amount") != amount || num(t, o, "fee") != fee(amount) || o["paid_at"] == nil {
		t.Fatalf("order %v: want PAID for %d with fee %d", o, amount, fee(amount))
	}
	if f := funding(t, o); num(t, f, "cash") != amount || num(t, f, "voucher")+num(t, f, "coupon")+num(t, f, "card") != 0 {
		t.Fatalf("funding %v, want all %d from cash", f, amount)
	}
	if got := api.cash(t, c); got != cashBefore-amount {
		t.Fatalf("wallet cash %d, want %d - %d", got, cashBefore, amount)
	}
	after := api.books(t, m)
	if got := after.pending - before.pending; got != amount-fee(amount) {
		t.Fatalf("merchant pending grew by %d, want %d - fee %d", got, amount, fee(amount))
	}
	if got := after.fees - before.fees; got != fee(amount) {
		t.Fatalf("platform fees grew by %d, want %d", got, fee(amount))
	}
	api.mustBeSound(t)
}

// wantNothingMoved checks that a refused attempt moved no money.
func (api *testAPI) wantNothingMoved(t *testing.T, m merchant.Merchant, before books, c *customer, cashBefore int64) {
	t.Helper()
	if got := api.cash(t, c); got != cashBefore {
		t.Fatalf("wallet cash %d after a refusal, want %d", got, cashBefore)
	}
	if after := api.books(t, m); after != before {
		t.Fatalf("books moved after a refusal: %+v, want %+v", after, before)
	}
	api.mustBeSound(t)
}

// wantPNG checks that r is a PNG picture nobody may cache, and returns its width.
func wantPNG(t *testing.T, r *response) int {
	t.Helper()
	wantStatus(t, r, http.StatusOK)
	if ct, cc := r.Header.Get("Content-Type"), r.Header.Get("Cache-Control"); ct != "image/png" || cc != "no-store" {
		t.Fatalf("Content-Type %q, Cache-Control %q; want image/png, no-store", ct, cc)
	}
	img, err := png.Decode(bytes.NewReader(r.Raw))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	return img.Bounds().Dx()
}

// TestFiveWaysToGetPaid takes one payment each way of SPEC §3, through the
// HTTP server, from a wallet registered and topped up over HTTP, and
// follows the money.
func TestFiveWaysToGetPaid(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		w := api.newWorld(t)
		cashier, manager := w.Cashiers[0], w.Managers[0]
		const topUp = 100_000 // 1,000.00

		t.Run("scan code", func(t *testing.T) {
			c := api.newCustomer(t)
			api.fund(t, c, topUp)
			before := api.books(t, w.Merchant)
			code := api.freshCode(t, c)
			if !strings.HasPrefix(code, wallet.PaymentCodePrefix) || len(code) != wallet.PaymentCodeLen {
				t.Fatalf("payment code %q", code)
			}
			o := order(t, api.request(t, "POST", "/v1/payments/scan", cashier.Access,
				map[string]any{"out_trade_no": "scan-1", "amount": 12345, "payment_code": code}))
			if o["method"] != "scan" || num(t, o, "cashier_id") != cashier.ID || num(t, o, "store_id") != w.Stores[0].ID {
				t.Fatalf("order %v", o)
			}
			api.wantPaid(t, w.Merchant, before, c, topUp, 12345, o)
		})

		t.Run("collection QR", func(t *testing.T) {
			c := api.newCustomer(t)
			api.fund(t, c, topUp)
			before := api.books(t, w.Merchant)
			r := api.request(t, "POST", "/v1/payments/qr", cashier.Access, map[string]any{"out_trade_no": "qr-1", "amount": 1250, "subject": "Oolong"})
			wantStatus(t, r, http.StatusCreated)
			created := r.JSON["order"].(map[string]any)
			payload := str(t, r.JSON, "qr_payload")
			if created["state"] != "CREATED" || created["pay_url"] != payload || !strings.HasPrefix(payload, testPublicURL+"/p/o/") {
				t.Fatalf("QR order %v, payload %q", created, payload)
			}
			id := num(t, created, "id")
			if got := wantPNG(t, api.request(t, "GET", fmt.Sprintf("/v1/orders/%d/qr.png?size=300", id), cashier.Access, nil)); got != 300 {
				t.Fatalf("qr.png is %d pixels wide, want 300", got)
			}
			p := api.request(t, "POST", "/v1/wallet/scan", c.Access, map[string]any{"qr_payload": payload})
			wantStatus(t, p, http.StatusOK)
			if p.JSON["merchant_name"] != "Lotus" || p.JSON["store_name"] != w.Stores[0].Name || num(t, p.JSON, "amount") != 1250 ||
				p.JSON["enter_amount"] != false || p.JSON["payable"] != true || p.JSON["subject"] != "Oolong" {
				t.Fatalf("preview %s", p.Raw)
			}
			r = api.request(t, "POST", "/v1/wallet/pay", c.Access, map[string]any{"qr_payload": payload, "amount": 1250})
			wantStatus(t, r, http.StatusOK)
			if r.JSON["state"] != "PAID" || num(t, r.JSON, "id") != id || r.JSON["merchant_name"] != "Lotus" || r.JSON["fee"] != nil {
				t.Fatalf("payment %s", r.Raw)
			}
			o := order(t, api.request(t, "GET", fmt.Sprintf("/v1/orders/%d", id), cashier.Access, nil))
			api.wantPaid(t, w.Merchant, before, c, topUp, 1250, o)
		})

		t.Run("dynamic password", func(t *testing.T) {
			c := api.newCustomer(t)
			api.fund(t, c, topUp)
			before := api.books(t, w.Merchant)
			o := order(t, api.request(t, "POST", "/v1/payments/dynamic-password", cashier.Access,
				map[string]any{"out_trade_no": "dp-1", "amount": 999, "phone": c.Phone, "password": api.freshPassword(t, c)}))
			if o["method"] != "dynamic_password" {
				t.Fatalf("order %v", o)
			}
			api.wantPaid(t, w.Merchant, before, c, topUp, 999, o)
		})

		t.Run("static store QR", func(t *testing.T) {
			c := api.newCustomer(t)
			api.fund(t, c, topUp)
			before := api.books(t, w.Merchant)
			wantPNG(t, api.request(t, "GET", fmt.Sprintf("/v1/stores/%d/qr.png", w.Stores[0].ID), cashier.Access, nil))
			payload := api.POS.StoreQRURL(w.Stores[0].QRToken)
			p := api.request(t, "POST", "/v1/wallet/scan", c.Access, map[string]any{"qr_payload": payload})
			wantStatus(t, p, http.StatusOK)
			if p.JSON["kind"] != "store" || p.JSON["enter_amount"] != true || p.JSON["amount"] != nil || p.JSON["store_name"] != w.Stores[0].Name {
				t.Fatalf("preview %s", p.Raw)
			}
			r := api.request(t, "POST", "/v1/wallet/pay", c.Access, map[string]any{"qr_payload": payload, "amount": 5555})
			wantStatus(t, r, http.StatusOK)
			// The store's manager sees it; it was taken by no cashier.
			o := order(t, api.request(t, "GET", fmt.Sprintf("/v1/orders/%d", num(t, r.JSON, "id")), manager.Access, nil))
			if o["method"] != "store_qr" || num(t, o, "cashier_id") != 0 || num(t, o, "store_id") != w.Stores[0].ID {
				t.Fatalf("order %v", o)
			}
			api.wantPaid(t, w.Merchant, before, c, topUp, 5555, o)
		})

		t.Run("payment link", func(t *testing.T) {
			c := api.newCustomer(t)
			api.fund(t, c, topUp)
			before := api.books(t, w.Merchant)
			r := api.request(t, "POST", "/v1/payment-links", manager.Access, map[string]any{"out_trade_no": "link-1", "amount": 88800, "subject": "Tea set"})
			wantStatus(t, r, http.StatusCreated)
			link := str(t, r.JSON, "url")
			id := num(t, r.JSON["order"].(map[string]any), "id")
			page := api.request(t, "GET", pathOf(t, link), "", nil)
			wantStatus(t, page, http.StatusOK)
			for _, want := range []string{"Lotus", "Tea set", "CNY 888.00", "Awaiting payment", "Pay with paydesk wallet"} {
				if !bytes.Contains(page.Raw, []byte(want)) {
					t.Fatalf("link page lacks %q:\n%s", want, page.Raw)
				}
			}
			r = api.request(t, "POST", "/v1/wallet/pay", c.Access, map[string]any{"qr_payload": link})
			wantStatus(t, r, http.StatusOK)
			o := order(t, api.request(t, "GET", fmt.Sprintf("/v1/orders/%d", id), manager.Access, nil))
			if o["method"] != "link" {
				t.Fatalf("order %v", o)
			}
			api.wantPaid(t, w.Merchant, before, c, topUp, 88800, o)
			page = api.request(t, "GET", pathOf(t, link), "", nil)
			if !bytes.Contains(page.Raw, []byte(">Paid<")) || bytes.Contains(page.Raw, []byte("Pay with paydesk wallet")) {
				t.Fatalf("the page of a paid link still offers to pay:\n%s", page.Raw)
			}
		})
	})
}

// TestPayerConfirmation: a scan-code payment above the no-password limit
// waits in PAYING; the payer confirms (PAID), declines (CLOSED) or lets it
// time out (CLOSED by the closer), and only a confirmation charges.
func TestPayerConfirmation(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		w := api.newWorld(t)
		c := w.Customer
		amount := int64(wallet.DefaultNoPasswordLimit) + 50_000
		scan := func(t *testing.T, otn string) map[string]any {
			t.Helper()
			o := order(t, api.request(t, "POST", "/v1/payments/scan", w.Cashiers[0].Access,
				map[string]any{"out_trade_no": otn, "amount": amount, "payment_code": api.freshCode(t, c)}))
			if o["state"] != "PAYING" || o["paid_at"] != nil {
				t.Fatalf("above the no-password limit: %v, want PAYING", o)
			}
			return o
		}
		payment := func(id int64, action string) string { return fmt.Sprintf("/v1/wallet/payments/%d/%s", id, action) }

		t.Run("confirm", func(t *testing.T) {
			before, cash := api.books(t, w.Merchant), api.cash(t, c)
			o := scan(t, "big-confirm")
			api.wantNothingMoved(t, w.Merchant, before, c, cash)
			// Nobody else's wallet can confirm it.
			other := api.newCustomer(t)
			wantError(t, api.request(t, "POST", payment(num(t, o, "id"), "confirm"), other.Access, nil), http.StatusNotFound, "ORDER_NOT_FOUND")
			r := api.request(t, "POST", payment(num(t, o, "id"), "confirm"), c.Access, nil)
			wantStatus(t, r, http.StatusOK)
			if r.JSON["state"] != "PAID" {
				t.Fatalf("confirmed: %s", r.Raw)
			}
			paid := order(t, api.request(t, "GET", fmt.Sprintf("/v1/orders/%d", num(t, o, "id")), w.Cashiers[0].Access, nil))
			api.wantPaid(t, w.Merchant, before, c, cash, amount, paid)
			wantError(t, api.request(t, "POST", payment(num(t, o, "id"), "decline"), c.Access, nil), http.StatusConflict, "ORDER_NOT_AWAITING_CONFIRMATION")
		})

		t.Run("decline", func(t *testing.T) {
			before, cash := api.books(t, w.Merchant), api.cash(t, c)
			o := scan(t, "big-decline")
			r := api.request(t, "POST", payment(num(t, o, "id"), "decline"), c.Access, nil)
			wantStatus(t, r, http.StatusOK)
			if r.JSON["state"] != "CLOSED" || r.JSON["close_reason"] != "DECLINED" {
				t.Fatalf("declined: %s", r.Raw)
			}
			api.wantNothingMoved(t, w.Merchant, before, c, cash)
			wantError(t, api.request(t, "POST", payment(num(t, o, "id"), "confirm"), c.Access, nil), http.StatusConflict, "ORDER_NOT_AWAITING_CONFIRMATION")
		})

		t.Run("timeout", func(t *testing.T) {
			before, cash := api.books(t, w.Merchant), api.cash(t, c)
			o := scan(t, "big-timeout")
			api.Clock.Advance(61 * time.Second)
			wantError(t, api.request(t, "POST", payment(num(t, o, "id"), "confirm"), c.Access, nil), http.StatusConflict, "ORDER_EXPIRED")
			if n, err := api.POS.CloseExpired(t.Context()); err != nil || n != 1 {
				t.Fatalf("CloseExpired = %d, %v; want the one payment", n, err)
			}
			closed := order(t, api.request(t, "GET", fmt.Sprintf("/v1/orders/%d", num(t, o, "id")), w.Cashiers[0].Access, nil))
			if closed["state"] != "CLOSED" || closed["close_reason"] != "EXPIRED" {
				t.Fatalf("after the timeout: %v", closed)
			}
			api.wantNothingMoved(t, w.Merchant, before, c, cash)
			wantError(t, api.request(t, "POST", payment(num(t, o, "id"), "confirm"), c.Access, nil), http.StatusConflict, "ORDER_NOT_AWAITING_CONFIRMATION")
		})
	})
}
