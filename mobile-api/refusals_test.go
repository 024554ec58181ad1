package mobileapi

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/wallet"
)

// TestPaymentRefusals: every refusal answers its stable code and moves no
// money.
func TestPaymentRefusals(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		w := api.newWorld(t)
		cashier := w.Cashiers[0].Access
		c := w.Customer
		scan := func(otn string, amount any, code string) *response {
			return api.request(t, "POST", "/v1/payments/scan", cashier, map[string]any{"out_trade_no": otn, "amount": amount, "payment_code": code})
		}
		// refused checks that attempt answers status and code and moves nothing.
		refused := func(t *testing.T, status int, code string, attempt func() *response) {
			t.Helper()
			before, cash := api.books(t, w.Merchant), api.cash(t, c)
			wantError(t, attempt(), status, code)
			api.wantNothingMoved(t, w.Merchant, before, c, cash)
		}

		t.Run("insufficient funds", func(t *testing.T) {
			poor := api.newCustomer(t) // no card, no cash
			before := api.books(t, w.Merchant)
			r := scan("poor-1", 100, api.freshCode(t, poor))
			wantError(t, r, http.StatusUnprocessableEntity, "INSUFFICIENT_FUNDS")
			api.wantNothingMoved(t, w.Merchant, before, poor, 0)
			// The retry under the same out_trade_no gets the same answer.
			wantError(t, scan("poor-1", 100, api.freshCode(t, poor)), http.StatusUnprocessableEntity, "INSUFFICIENT_FUNDS")
			// The QR way too, and the QR stays open for another try.
			_, payload := api.newQROrder(w.Cashiers[0], 100)
			wantError(t, api.request(t, "POST", "/v1/wallet/pay", poor.Access, map[string]any{"qr_payload": payload}), http.StatusUnprocessableEntity, "INSUFFICIENT_FUNDS")
			wantStatus(t, api.request(t, "POST", "/v1/wallet/pay", c.Access, map[string]any{"qr_payload": payload}), http.StatusOK)
		})

		t.Run("used, expired and unknown payment codes", func(t *testing.T) {
			code := api.freshCode(t, c)
			wantStatus(t, scan("code-1", 100, code), http.StatusCreated)
			refused(t, http.StatusUnprocessableEntity, "PAYMENT_CODE_USED", func() *response { return scan("code-2", 100, code) })
			old := api.freshCode(t, c)
			api.Clock.Advance(wallet.PaymentCodeLifetime + wallet.PaymentCodeStep)
			refused(t, http.StatusUnprocessableEntity, "PAYMENT_CODE_EXPIRED", func() *response { return scan("code-3", 100, old) })
			for i, bad := range []string{"761234567800000000", old[:10] + "00000000", "12345", "281234567812345678", strings.Repeat("7", 40)} {
				refused(t, http.StatusUnprocessableEntity, "PAYMENT_CODE_INVALID", func() *response { return scan(fmt.Sprintf("code-bad-%d", i), 100, bad) })
			}
			// A refused attempt charged nobody and frees its number: the same
			// request is tried again (the code has expired by now), and with
			// a fresh code it pays, under the refused order's id.
			r := api.request(t, "POST", "/v1/payments/scan", cashier, map[string]any{"out_trade_no": "code-2", "amount": 100, "payment_code": code})
			wantError(t, r, http.StatusUnprocessableEntity, "PAYMENT_CODE_EXPIRED")
			before, cash := api.books(t, w.Merchant), api.cash(t, c)
			paid := order(t, scan("code-2", 100, api.freshCode(t, c)))
			if paid["state"] != "PAID" || paid["close_reason"] != nil && paid["close_reason"] != "" {
				t.Fatalf("retry after a refusal answered %v", paid)
			}
			api.wantPaid(t, w.Merchant, before, c, cash, 100, paid)
		})

		t.Run("wrong dynamic password and the lock-out", func(t *testing.T) {
			victim := api.newCustomer(t)
			api.fund(t, victim, 10_000)
			pay := func(otn, password string) *response {
				return api.request(t, "POST", "/v1/payments/dynamic-password", cashier,
					map[string]any{"out_trade_no": otn, "amount": 100, "phone": victim.Phone, "password": password})
			}
			good := api.freshPassword(t, victim)
			wrong := fmt.Sprintf("%06d", (atoi(good)+1)%1_000_000)
			for i := range 4 {
				wantError(t, pay(fmt.Sprintf("dp-wrong-%d", i), wrong), http.StatusUnprocessableEntity, "DYNAMIC_PASSWORD_WRONG")
			}
			r := pay("dp-wrong-4", wrong)
			wantError(t, r, http.StatusTooManyRequests, "TOO_MANY_ATTEMPTS")
			if r.Header.Get("Retry-After") == "" {
				t.Fatal("the lock-out answer has no Retry-After")
			}
			// Locked: even the right password is refused, for 15 minutes.
			wantError(t, pay("dp-right-1", good), http.StatusTooManyRequests, "TOO_MANY_ATTEMPTS")
			if got := api.cash(t, victim); got != 10_000 {
				t.Fatalf("the locked wallet paid: cash %d", got)
			}
			// An unknown phone is told apart from nothing.
			r = api.request(t, "POST", "/v1/payments/dynamic-password", cashier, map[string]any{"out_trade_no": "dp-nobody", "amount": 100, "phone": "13799999999", "password": "123456"})
			wantError(t, r, http.StatusUnprocessableEntity, "DYNAMIC_PASSWORD_WRONG")
		})

		t.Run("closed or already paid QR", func(t *testing.T) {
			o, payload := api.newQROrder(w.Cashiers[0], 300)
			wantStatus(t, api.request(t, "POST", fmt.Sprintf("/v1/orders/%d/close", o.ID), cashier, nil), http.StatusOK)
			refused(t, http.StatusConflict, "ORDER_CLOSED", func() *response {
				return api.request(t, "POST", "/v1/wallet/pay", c.Access, map[string]any{"qr_payload": payload})
			})
			_, payload = api.newQROrder(w.Cashiers[0], 300)
			other := api.newCustomer(t)
			api.fund(t, other, 1000)
			wantStatus(t, api.request(t, "POST", "/v1/wallet/pay", other.Access, map[string]any{"qr_payload": payload}), http.StatusOK)
			refused(t, http.StatusConflict, "ORDER_ALREADY_PAID", func() *response {
				return api.request(t, "POST", "/v1/wallet/pay", c.Access, map[string]any{"qr_payload": payload})
			})
			// The payer asking again gets the paid order, and pays nothing more.
			cash := api.cash(t, other)
			r := api.request(t, "POST", "/v1/wallet/pay", other.Access, map[string]any{"qr_payload": payload})
			if wantStatus(t, r, http.StatusOK); r.JSON["state"] != "PAID" || api.cash(t, other) != cash {
				t.Fatalf("paying own paid QR again: %s", r.Raw)
			}
			// An expired QR.
			_, payload = api.newQROrder(w.Cashiers[0], 300)
			api.Clock.Advance(5*time.Minute + time.Second)
			refused(t, http.StatusConflict, "ORDER_EXPIRED", func() *response {
				return api.request(t, "POST", "/v1/wallet/pay", c.Access, map[string]any{"qr_payload": payload})
			})
			// A payload that is no paydesk QR, and one whose order does not exist.
			refused(t, http.StatusBadRequest, "QR_PAYLOAD_INVALID", func() *response {
				return api.request(t, "POST", "/v1/wallet/pay", c.Access, map[string]any{"qr_payload": "weixin://wxpay/bizpayurl?pr=abc"})
			})
			refused(t, http.StatusNotFound, "ORDER_NOT_FOUND", func() *response {
				return api.request(t, "POST", "/v1/wallet/pay", c.Access, map[string]any{"qr_payload": testPublicURL + "/p/o/AAAAAAAAAAAAAAAAAAAAAAAA"})
			})
			refused(t, http.StatusNotFound, "ORDER_NOT_FOUND", func() *response {
				return api.request(t, "POST", "/v1/wallet/pay", c.Access, map[string]any{"qr_payload": testPublicURL + "/p/s/AAAAAAAAAAAAAAAAAAAAAAAA", "amount": 100})
			})
		})

		t.Run("amounts", func(t *testing.T) {
			code := api.freshCode(t, c)
			for _, tt := range []struct {
				amount any
				status int
				code   string
			}{
				{0, http.StatusBadRequest, "INVALID_AMOUNT"},
				{-100, http.StatusBadRequest, "INVALID_AMOUNT"},
				{100_000_001, http.StatusBadRequest, "AMOUNT_ABOVE_LIMIT"},
				{int64(1) << 62, http.StatusBadRequest, "INVALID_AMOUNT"},
				{"100", http.StatusBadRequest, "INVALID_FIELD_TYPE"},
				{12.5, http.StatusBadRequest, "INVALID_FIELD_TYPE"},
				{1e30, http.StatusBadRequest, "INVALID_FIELD_TYPE"},
				{nil, http.StatusBadRequest, "INVALID_AMOUNT"},
			} {
				refused(t, tt.status, tt.code, func() *response { return scan(api.outTradeNo("amt"), tt.amount, code) })
			}
			// None of them spent the code.
			wantStatus(t, scan("amt-ok", 100, code), http.StatusCreated)

			store := api.POS.StoreQRURL(w.Stores[0].QRToken)
			for _, amount := range []any{nil, 0, -1, 100_000_001} {
				r := api.request(t, "POST", "/v1/wallet/pay", c.Access, map[string]any{"qr_payload": store, "amount": amount})
				if r.Status != http.StatusBadRequest {
					t.Fatalf("store QR with amount %v: %d %s", amount, r.Status, r.Raw)
				}
			}
			_, payload := api.newQROrder(w.Cashiers[0], 300)
			refused(t, http.StatusUnprocessableEntity, "AMOUNT_MISMATCH", func() *response {
				return api.request(t, "POST", "/v1/wallet/pay", c.Access, map[string]any{"qr_payload": payload, "amount": 301})
			})
			for _, path := range []string{"/v1/payments/qr", "/v1/payment-links"} {
				wantError(t, api.request(t, "POST", path, w.Owner.Access, map[string]any{"out_trade_no": "amt-qr", "amount": 0}), http.StatusBadRequest, "INVALID_AMOUNT")
			}
		})

		t.Run("malformed requests", func(t *testing.T) {
			for _, tt := range []struct {
				body any
				code string
			}{
				{rawBody(`{"out_trade_no": "m-1", "amount": 100`), "MALFORMED_JSON"},
				{rawBody(`not json`), "MALFORMED_JSON"},
				{rawBody(`[1, 2]`), "MALFORMED_JSON"},
				{rawBody(`{"out_trade_no": "m-1", "amount": 100, "payment_code": 761234567812345678}`), "INVALID_FIELD_TYPE"},
				{rawBody(`{"out_trade_no": 7, "amount": 100, "payment_code": "761234567812345678"}`), "INVALID_FIELD_TYPE"},
				{map[string]any{"out_trade_no": "m-1", "amount": 100, "payment_code": "x", "tip": 5}, "UNKNOWN_FIELD"},
				{map[string]any{"out_trade_no": "m 1", "amount": 100, "payment_code": "761234567812345678"}, "INVALID_OUT_TRADE_NO"},
				{map[string]any{"out_trade_no": strings.Repeat("x", 65), "amount": 100, "payment_code": "761234567812345678"}, "INVALID_OUT_TRADE_NO"},
			} {
				refused(t, http.StatusBadRequest, tt.code, func() *response {
					return api.request(t, "POST", "/v1/payments/scan", cashier, tt.body)
				})
			}
			refused(t, http.StatusBadRequest, "INVALID_FIELD_TYPE", func() *response {
				return api.request(t, "POST", "/v1/wallet/topups", c.Access, rawBody(`{"amount": "1000", "request_no": "t-1"}`))
			})
			refused(t, http.StatusBadRequest, "INVALID_FIELD_TYPE", func() *response {
				return api.request(t, "POST", "/v1/wallet/pay", c.Access, rawBody(`{"qr_payload": "x", "amount": true}`))
			})
		})
	})
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}
