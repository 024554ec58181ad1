package mobileapi

import (
	"net/http"
	"testing"
	"time"

	"github.com/paydesk/paydesk/wallet"
)

// TestPaymentCodeChangesOnceUsed: the code GET /v1/wallet/payment-code
// shows changes as soon as it paid, within the same 10-second step, and
// the answer says when the next one appears.
func TestPaymentCodeChangesOnceUsed(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		w := api.newWorld(t)
		c := w.Customer
		api.Clock.Advance(wallet.PaymentCodeStep)
		show := func() (string, bool, time.Time) {
			t.Helper()
			r := api.request(t, "GET", "/v1/wallet/payment-code", c.Access, nil)
			wantStatus(t, r, http.StatusOK)
			next, err := time.Parse(time.RFC3339, str(t, r.JSON, "next_at"))
			if err != nil {
				t.Fatal(err)
			}
			return str(t, r.JSON, "code"), r.JSON["used"] == true, next
		}
		scan := func(code string) *response {
			return api.request(t, "POST", "/v1/payments/scan", w.Cashiers[0].Access,
				map[string]any{"out_trade_no": api.outTradeNo("shown"), "amount": 100, "payment_code": code})
		}
		first, used, next := show()
		stepEnd := api.Clock.Now().Truncate(wallet.PaymentCodeStep).Add(wallet.PaymentCodeStep)
		if used || !next.Equal(stepEnd) {
			t.Fatalf("fresh code: used %v, next_at %v, want false, %v", used, next, stepEnd)
		}
		wantStatus(t, scan(first), http.StatusCreated)
		second, used, _ := show()
		if second == first || used {
			t.Fatalf("after paying, shown %s (used %v), want a new unused code", second, used)
		}
		wantStatus(t, scan(second), http.StatusCreated)
		third, used, next := show()
		if !used || !next.Equal(stepEnd.Add(wallet.PaymentCodeStep)) {
			t.Fatalf("both accepted codes paid: shown %s used %v next_at %v", third, used, next)
		}
		wantError(t, scan(third), http.StatusUnprocessableEntity, "PAYMENT_CODE_USED")
		api.Clock.Advance(2 * wallet.PaymentCodeStep)
		fourth, used, _ := show()
		if used || fourth == third {
			t.Fatalf("two steps later: shown %s used %v", fourth, used)
		}
		wantStatus(t, scan(fourth), http.StatusCreated)
	})
}
