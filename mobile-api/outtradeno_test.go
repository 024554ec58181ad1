package mobileapi

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/paydesk/paydesk/wallet"
)

// TestOutTradeNoReplaysOnlyTheSameRequest: a used out_trade_no answers its
// order only to the very request that made it. Another payer's code,
// another cashier, another store's manager or another payment method under
// the number is 422 IDEMPOTENCY_CONFLICT, charges nobody and tells nothing
// of the order.
func TestOutTradeNoReplaysOnlyTheSameRequest(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		w := api.newWorld(t)
		payer, other := w.Customer, api.newCustomer(t)
		api.fund(t, other, 100_000)
		no := "ticket-0042"
		req := map[string]any{"out_trade_no": no, "amount": 1800, "payment_code": api.freshCode(t, payer)}
		first := order(t, api.request(t, "POST", "/v1/payments/scan", w.Cashiers[0].Access, req))
		if first["state"] != "PAID" {
			t.Fatalf("first payment %v", first)
		}
		// conflict checks that r is the conflict, that the body names the
		// number and nothing of the order, and that nothing moved.
		conflict := func(t *testing.T, before books, c *customer, cash int64, r *response) {
			t.Helper()
			wantError(t, r, http.StatusUnprocessableEntity, "IDEMPOTENCY_CONFLICT")
			body := string(r.Raw)
			for _, leak := range []string{`"order"`, `"state"`, "PAID", "1800", "18.00", fmt.Sprint(first["id"]), fmt.Sprint(w.Stores[0].ID) + `"`} {
				if strings.Contains(body, leak) {
					t.Fatalf("the conflict reveals %q of the other order: %s", leak, body)
				}
			}
			if !strings.Contains(body, no) {
				t.Fatalf("the conflict does not name out_trade_no: %s", body)
			}
			api.wantNothingMoved(t, w.Merchant, before, c, cash)
		}
		cases := []struct {
			name  string
			token string
			path  string
			body  func() map[string]any
		}{
			{"another payer's code", w.Cashiers[0].Access, "/v1/payments/scan", func() map[string]any {
				return map[string]any{"out_trade_no": no, "amount": 1800, "payment_code": api.freshCode(t, other)}
			}},
			{"the same payer's next code", w.Cashiers[0].Access, "/v1/payments/scan", func() map[string]any {
				return map[string]any{"out_trade_no": no, "amount": 1800, "payment_code": api.freshCode(t, payer)}
			}},
			{"another cashier of the store", w.Cashiers[1].Access, "/v1/payments/scan", func() map[string]any { return req }},
			{"another store's manager", w.Managers[1].Access, "/v1/payments/scan", func() map[string]any { return req }},
			{"another store's cashier with a fresh code", w.Cashiers[2].Access, "/v1/payments/scan", func() map[string]any {
				return map[string]any{"out_trade_no": no, "amount": 1800, "payment_code": api.freshCode(t, other)}
			}},
			{"the owner", w.Owner.Access, "/v1/payments/scan", func() map[string]any { return req }},
			{"another method", w.Cashiers[0].Access, "/v1/payments/dynamic-password", func() map[string]any {
				return map[string]any{"out_trade_no": no, "amount": 1800, "phone": other.Phone, "password": api.freshPassword(t, other)}
			}},
			{"a collection QR", w.Cashiers[0].Access, "/v1/payments/qr", func() map[string]any { return map[string]any{"out_trade_no": no, "amount": 1800} }},
			{"a payment link", w.Managers[0].Access, "/v1/payment-links", func() map[string]any { return map[string]any{"out_trade_no": no, "amount": 1800} }},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				body := tc.body()
				before, cashP, cashO := api.books(t, w.Merchant), api.cash(t, payer), api.cash(t, other)
				r := api.request(t, "POST", tc.path, tc.token, body)
				conflict(t, before, other, cashO, r)
				if got := api.cash(t, payer); got != cashP {
					t.Fatalf("the first payer's cash moved: %d, want %d", got, cashP)
				}
			})
		}
		// The very same request still answers the first order.
		if again := order(t, api.request(t, "POST", "/v1/payments/scan", w.Cashiers[0].Access, req)); again["id"] != first["id"] {
			t.Fatalf("the same request answered %v, want order %v", again["id"], first["id"])
		}

		t.Run("collection QR across cashiers", func(t *testing.T) {
			q := map[string]any{"out_trade_no": "qr-0042", "amount": 900}
			a := api.request(t, "POST", "/v1/payments/qr", w.Cashiers[0].Access, q)
			wantStatus(t, a, http.StatusCreated)
			wantError(t, api.request(t, "POST", "/v1/payments/qr", w.Cashiers[1].Access, q), http.StatusUnprocessableEntity, "IDEMPOTENCY_CONFLICT")
			wantError(t, api.request(t, "POST", "/v1/payments/qr", w.Managers[1].Access, q), http.StatusUnprocessableEntity, "IDEMPOTENCY_CONFLICT")
			wantStatus(t, api.request(t, "POST", "/v1/payments/qr", w.Cashiers[0].Access, map[string]any{"out_trade_no": "qr-0042", "amount": 900}), http.StatusCreated)
		})

		t.Run("two payers racing for one fresh number", func(t *testing.T) {
			payers := []*customer{payer, other}
			codes := []string{api.freshCode(t, payer), api.codeNow(other)}
			cash := []int64{api.cash(t, payer), api.cash(t, other)}
			before := api.books(t, w.Merchant)
			var wg sync.WaitGroup
			answers := make([]*response, 2)
			for i := range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r, err := api.send("POST", "/v1/payments/scan", w.Cashiers[0].Access, map[string]any{"out_trade_no": "race-0042", "amount": 500, "payment_code": codes[i]})
					if err != nil {
						t.Error(err)
						return
					}
					answers[i] = r
				}()
			}
			wg.Wait()
			paid := 0
			for i, r := range answers {
				switch {
				case r == nil:
					t.Fatal("no answer")
				case r.Status == http.StatusCreated:
					paid++
					if got := api.cash(t, payers[i]); got != cash[i]-500 {
						t.Fatalf("the winner paid %d, want 500", cash[i]-got)
					}
				default:
					wantError(t, r, http.StatusUnprocessableEntity, "IDEMPOTENCY_CONFLICT")
					if got := api.cash(t, payers[i]); got != cash[i] {
						t.Fatalf("the loser was charged %d", cash[i]-got)
					}
				}
			}
			if paid != 1 {
				t.Fatalf("%d payments under one number, want 1", paid)
			}
			if after := api.books(t, w.Merchant); after.pending-before.pending != 500-fee(500) {
				t.Fatalf("merchant pending grew %d, want one payment", after.pending-before.pending)
			}
			api.mustBeSound(t)
		})
	})
}

// TestStateChangesAnswerAgain: a repeated close, confirm or decline (a
// retry after a lost answer) answers the result again, 200, and moves no
// money; only a change the order's state forbids is 409.
func TestStateChangesAnswerAgain(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		w := api.newWorld(t)
		c := w.Customer
		qr, _ := api.newQROrder(w.Cashiers[0], 300)
		path := fmt.Sprintf("/v1/orders/%d/close", qr.ID)
		first := order(t, api.request(t, "POST", path, w.Cashiers[0].Access, nil))
		again := order(t, api.request(t, "POST", path, w.Cashiers[0].Access, nil))
		if first["state"] != "CLOSED" || again["state"] != "CLOSED" || again["closed_at"] != first["closed_at"] {
			t.Fatalf("close, close again: %v, %v", first, again)
		}

		confirmed := api.payingOrder(w.Cashiers[0], c)
		cash := api.cash(t, c)
		for i := range 2 {
			r := api.request(t, "POST", fmt.Sprintf("/v1/wallet/payments/%d/confirm", confirmed), c.Access, nil)
			wantStatus(t, r, http.StatusOK)
			o := r.JSON
			if o["state"] != "PAID" {
				t.Fatalf("confirm #%d: %v", i+1, o)
			}
		}
		if got := api.cash(t, c); got != cash-int64(wallet.DefaultNoPasswordLimit+1) {
			t.Fatalf("two confirmations charged %d", cash-got)
		}
		wantError(t, api.request(t, "POST", fmt.Sprintf("/v1/wallet/payments/%d/decline", confirmed), c.Access, nil), http.StatusConflict, "ORDER_NOT_AWAITING_CONFIRMATION")
		wantError(t, api.request(t, "POST", fmt.Sprintf("/v1/orders/%d/close", confirmed), w.Cashiers[0].Access, nil), http.StatusConflict, "ORDER_STATE_CONFLICT")

		declined := api.payingOrder(w.Cashiers[0], c)
		for i := range 2 {
			r := api.request(t, "POST", fmt.Sprintf("/v1/wallet/payments/%d/decline", declined), c.Access, nil)
			wantStatus(t, r, http.StatusOK)
			o := r.JSON
			if o["state"] != "CLOSED" || o["close_reason"] != "DECLINED" {
				t.Fatalf("decline #%d: %v", i+1, o)
			}
		}
		wantError(t, api.request(t, "POST", fmt.Sprintf("/v1/wallet/payments/%d/confirm", declined), c.Access, nil), http.StatusConflict, "ORDER_NOT_AWAITING_CONFIRMATION")
		api.mustBeSound(t)
	})
}
