package mobileapi

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/rbac"
)

// The owner binds the payout account from the app, confirming with their
// own password; the number is never shown whole again, and the change is
// in the audit log.
func TestBindBankAccount(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		w := api.newWorld(t)
		owner := w.Owner.Access
		account := func(password string) map[string]string {
			return map[string]string{"number": "6222 0202 0011 2233", "holder": "Tea House Ltd", "bank_name": "ICBC", "password": password}
		}

		wantError(t, api.request(t, "GET", "/v1/bank-account", owner, nil), http.StatusUnprocessableEntity, "BANK_ACCOUNT_NOT_BOUND")
		wantError(t, api.request(t, "PUT", "/v1/bank-account", owner, account("not-my-password")), http.StatusUnprocessableEntity, "PASSWORD_INCORRECT")
		wantError(t, api.request(t, "PUT", "/v1/bank-account", w.Managers[0].Access, account(w.Managers[0].Password)), http.StatusForbidden, "FORBIDDEN")
		bad := account(w.Owner.Password)
		bad["number"] = "12-34"
		wantError(t, api.request(t, "PUT", "/v1/bank-account", owner, bad), http.StatusBadRequest, "BANK_ACCOUNT_INVALID")
		wantError(t, api.request(t, "GET", "/v1/bank-account", owner, nil), http.StatusUnprocessableEntity, "BANK_ACCOUNT_NOT_BOUND")

		r := api.request(t, "PUT", "/v1/bank-account", owner, account(w.Owner.Password))
		wantStatus(t, r, http.StatusOK)
		if r.JSON["number"] != "****2233" || r.JSON["holder"] != "Tea House Ltd" || strings.Contains(string(r.Raw), "62220202") {
			t.Fatalf("bound account: %s", r.Raw)
		}
		if got := api.request(t, "GET", "/v1/bank-account", owner, nil); got.Status != http.StatusOK || got.JSON["number"] != "****2233" {
			t.Fatalf("GET: %d %s", got.Status, got.Raw)
		}
		a, err := api.Settlement.BankAccount(context.Background(), w.Merchant.ID)
		if err != nil || a.Number != "6222020200112233" {
			t.Fatalf("stored account: %+v %v", a, err)
		}
		events, err := api.Staff.AuditEvents(context.Background(), cashier.Actor{MerchantID: w.Merchant.ID, Role: rbac.Owner}, 50)
		if err != nil {
			t.Fatal(err)
		}
		var changed, failed int
		for _, e := range events {
			switch {
			case e.Action == cashier.AuditBankAccountChanged && e.ActorID == w.Owner.ID && e.Detail == "****2233 at ICBC":
				changed++
			case e.Action == cashier.AuditLoginFailed && e.ActorID == w.Owner.ID:
				failed++
			}
		}
		if changed != 1 || failed != 1 {
			t.Fatalf("audit: %d changes, %d failed confirmations; want 1 and 1: %+v", changed, failed, events)
		}

		// Binding the same account again is fine (MySQL reports an update
		// that changes nothing as no rows).
		wantStatus(t, api.request(t, "PUT", "/v1/bank-account", owner, account(w.Owner.Password)), http.StatusOK)
		// Guessing through a live session is throttled like a login.
		for range 5 {
			wantError(t, api.request(t, "PUT", "/v1/bank-account", owner, account("guess-guess")), http.StatusUnprocessableEntity, "PASSWORD_INCORRECT")
		}
		wantError(t, api.request(t, "PUT", "/v1/bank-account", owner, account(w.Owner.Password)), http.StatusTooManyRequests, "TOO_MANY_ATTEMPTS")
	})
}
