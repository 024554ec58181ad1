package mobileapi

import (
	"bytes"
	"fmt"
	"net/http"
	"sync"
	"testing"
)

// TestRetriesChargeOnce: a retry, by out_trade_no, request_no or
// Idempotency-Key, gets the first answer and never charges twice; reusing
// a number or key for another request is IDEMPOTENCY_CONFLICT.
func TestRetriesChargeOnce(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		w := api.newWorld(t)
		c, cashier := w.Customer, w.Cashiers[0]

		t.Run("out_trade_no", func(t *testing.T) {
			before, cash := api.books(t, w.Merchant), api.cash(t, c)
			req := map[string]any{"out_trade_no": "retry-1", "amount": 2000, "payment_code": api.freshCode(t, c)}
			first := order(t, api.request(t, "POST", "/v1/payments/scan", cashier.Access, req))
			again := order(t, api.request(t, "POST", "/v1/payments/scan", cashier.Access, req))
			if again["id"] != first["id"] || again["state"] != "PAID" {
				t.Fatalf("retry answered %v, want order %v", again, first["id"])
			}
			// Another code under the number is another payment, even the
			// same wallet's next code: the conflict, and nobody is charged.
			code := req["payment_code"]
			req["payment_code"] = api.freshCode(t, c)
			wantError(t, api.request(t, "POST", "/v1/payments/scan", cashier.Access, req), http.StatusUnprocessableEntity, "IDEMPOTENCY_CONFLICT")
			req["payment_code"] = code
			api.wantPaid(t, w.Merchant, before, c, cash, 2000, first)
			req["amount"] = 2001
			wantError(t, api.request(t, "POST", "/v1/payments/scan", cashier.Access, req), http.StatusUnprocessableEntity, "IDEMPOTENCY_CONFLICT")
			// Numbers are the merchant's: another cashier of it reusing one is the same conflict.
			req["amount"] = 2001
			wantError(t, api.request(t, "POST", "/v1/payments/scan", w.Cashiers[1].Access, req), http.StatusUnprocessableEntity, "IDEMPOTENCY_CONFLICT")
			for _, path := range []string{"/v1/payments/qr", "/v1/payment-links"} {
				q := map[string]any{"out_trade_no": api.outTradeNo("retry-qr"), "amount": 700, "subject": "Tea"}
				a := api.request(t, "POST", path, w.Owner.Access, q)
				b := api.request(t, "POST", path, w.Owner.Access, q)
				wantStatus(t, a, http.StatusCreated)
				if !bytes.Equal(a.Raw, b.Raw) {
					t.Fatalf("%s retry answered %s, want %s", path, b.Raw, a.Raw)
				}
				q["subject"] = "Coffee"
				wantError(t, api.request(t, "POST", path, w.Owner.Access, q), http.StatusUnprocessableEntity, "IDEMPOTENCY_CONFLICT")
			}
			if got := api.cash(t, c); got != cash-2000 {
				t.Fatalf("cash %d, want one charge of 2000 from %d", got, cash)
			}
		})

		t.Run("Idempotency-Key", func(t *testing.T) {
			_, payload := api.newQROrder(cashier, 1500)
			cash := api.cash(t, c)
			body := map[string]any{"qr_payload": payload}
			first := api.requestWith(t, "POST", "/v1/wallet/pay", c.Access, body, idemKey("pay-1"))
			wantStatus(t, first, http.StatusOK)
			again := api.requestWith(t, "POST", "/v1/wallet/pay", c.Access, body, idemKey("pay-1"))
			if again.Status != http.StatusOK || !bytes.Equal(again.Raw, first.Raw) || again.Header.Get(IdempotentReplayedHeader) != "true" {
				t.Fatalf("replay: %d %s (replayed %q), want %s", again.Status, again.Raw, again.Header.Get(IdempotentReplayedHeader), first.Raw)
			}
			if first.Header.Get(IdempotentReplayedHeader) != "" {
				t.Fatal("the first answer claims to be a replay")
			}
			_, other := api.newQROrder(cashier, 1500)
			wantError(t, api.requestWith(t, "POST", "/v1/wallet/pay", c.Access, map[string]any{"qr_payload": other}, idemKey("pay-1")),
				http.StatusUnprocessableEntity, "IDEMPOTENCY_CONFLICT")
			// The same key on another route is another request too.
			wantError(t, api.requestWith(t, "POST", "/v1/wallet/topups", c.Access, map[string]any{"amount": 100, "request_no": "t-9"}, idemKey("pay-1")),
				http.StatusUnprocessableEntity, "IDEMPOTENCY_CONFLICT")
			if got := api.cash(t, c); got != cash-1500 {
				t.Fatalf("cash %d, want one charge of 1500 from %d", got, cash)
			}
			// Keys are per caller: the cashier's "pay-1" is not the customer's.
			r := api.requestWith(t, "POST", "/v1/payments/qr", cashier.Access, map[string]any{"out_trade_no": "idem-qr", "amount": 100}, idemKey("pay-1"))
			wantStatus(t, r, http.StatusCreated)
			for _, bad := range []string{"", "has space", string(bytes.Repeat([]byte("k"), 129))} {
				wantError(t, api.requestWith(t, "POST", "/v1/payments/qr", cashier.Access, map[string]any{"out_trade_no": "idem-bad", "amount": 100},
					http.Header{IdempotencyKeyHeader: []string{bad}}), http.StatusBadRequest, "INVALID_IDEMPOTENCY_KEY")
			}
			// A top-up retried by key and by request_no credits once.
			cash = api.cash(t, c)
			top := map[string]any{"amount": 300, "request_no": "top-1"}
			a := api.requestWith(t, "POST", "/v1/wallet/topups", c.Access, top, idemKey("top-1"))
			b := api.requestWith(t, "POST", "/v1/wallet/topups", c.Access, top, idemKey("top-1"))
			d := api.requestWith(t, "POST", "/v1/wallet/topups", c.Access, top, idemKey("top-1-again"))
			if wantStatus(t, a, http.StatusOK); !bytes.Equal(a.Raw, b.Raw) || d.Status != http.StatusOK || api.cash(t, c) != cash+300 {
				t.Fatalf("top-up retries: %s / %s / %d %s; cash %d, want %d", a.Raw, b.Raw, d.Status, d.Raw, api.cash(t, c), cash+300)
			}
			api.mustBeSound(t)
		})

		t.Run("the same request twice at once", func(t *testing.T) {
			// The same payment code, presented by two cashiers at the same
			// moment under two numbers: one pays, the other is refused.
			before, cash := api.books(t, w.Merchant), api.cash(t, c)
			code := api.freshCode(t, c)
			res := make([]*response, 2)
			var wg sync.WaitGroup
			for i := range res {
				wg.Go(func() {
					r, err := api.send("POST", "/v1/payments/scan", w.Cashiers[i].Access,
						map[string]any{"out_trade_no": fmt.Sprintf("twice-%d", i), "amount": 400, "payment_code": code})
					if err != nil {
						t.Error(err)
						return
					}
					res[i] = r
				})
			}
			wg.Wait()
			if t.Failed() {
				return
			}
			paid := 0
			var o map[string]any
			for _, r := range res {
				switch {
				case r.Status == http.StatusCreated && r.JSON["state"] == "PAID":
					paid++
					o = r.JSON
				case r.Status == http.StatusUnprocessableEntity && r.errorCode(t) == "PAYMENT_CODE_USED":
				default:
					t.Fatalf("answer %d %s", r.Status, r.Raw)
				}
			}
			if paid != 1 {
				t.Fatalf("%d of two payments with one code paid, want 1", paid)
			}
			api.wantPaid(t, w.Merchant, before, c, cash, 400, o)

			// The same Idempotency-Key sent twice at once pays once; both
			// get the one answer (the second waits and replays it) or the
			// second is told to retry.
			_, payload := api.newQROrder(cashier, 600)
			cash = api.cash(t, c)
			for i := range res {
				wg.Go(func() {
					r, err := api.sendWith("POST", "/v1/wallet/pay", c.Access, map[string]any{"qr_payload": payload}, idemKey("at-once"))
					if err != nil {
						t.Error(err)
						return
					}
					res[i] = r
				})
			}
			wg.Wait()
			for _, r := range res {
				ok := r.Status == http.StatusOK && r.JSON["state"] == "PAID" ||
					r.Status == http.StatusConflict && r.errorCode(t) == "IDEMPOTENCY_IN_PROGRESS"
				if !ok {
					t.Fatalf("answer %d %s", r.Status, r.Raw)
				}
			}
			if res[0].Status == http.StatusOK && res[1].Status == http.StatusOK && !bytes.Equal(res[0].Raw, res[1].Raw) {
				t.Fatalf("two answers for one key: %s and %s", res[0].Raw, res[1].Raw)
			}
			if got := api.cash(t, c); got != cash-600 {
				t.Fatalf("cash %d, want one charge of 600 from %d", got, cash)
			}
			api.mustBeSound(t)
		})
	})
}
