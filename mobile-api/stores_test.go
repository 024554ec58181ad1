package mobileapi

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// An owner lists, adds and edits stores; another merchant's store is 404;
// bad names are refused naming the field.
func TestOwnerManagesStores(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		w := api.newWorld(t)
		r := api.request(t, "GET", "/v1/stores", w.Owner.Access, nil)
		wantStatus(t, r, http.StatusOK)
		items, _ := r.JSON["items"].([]any)
		if len(items) != 2 || r.JSON["next_cursor"] != nil {
			t.Fatalf("GET /v1/stores = %s, want the shop's two stores and next_cursor null", r.Raw)
		}

		r = api.request(t, "POST", "/v1/stores", w.Owner.Access, map[string]string{"name": "  Lotus · Xintiandi ", "address": "18 Taicang Rd"})
		wantStatus(t, r, http.StatusCreated)
		id := int64(r.JSON["id"].(float64))
		if loc := r.Header.Get("Location"); loc != fmt.Sprintf("/v1/stores/%d", id) {
			t.Errorf("Location = %q", loc)
		}
		if r.JSON["name"] != "Lotus · Xintiandi" || r.JSON["address"] != "18 Taicang Rd" || r.JSON["qr_png"] != fmt.Sprintf("/v1/stores/%d/qr.png", id) {
			t.Errorf("created store = %s", r.Raw)
		}
		// The new store's static QR is served at once.
		wantStatus(t, api.request(t, "GET", fmt.Sprintf("/v1/stores/%d/qr.png", id), w.Owner.Access, nil), http.StatusOK)

		// PATCH changes only what it names.
		r = api.request(t, "PATCH", fmt.Sprintf("/v1/stores/%d", id), w.Owner.Access, map[string]string{"address": "20 Taicang Rd"})
		wantStatus(t, r, http.StatusOK)
		if r.JSON["name"] != "Lotus · Xintiandi" || r.JSON["address"] != "20 Taicang Rd" {
			t.Errorf("patched store = %s", r.Raw)
		}
		r = api.request(t, "PATCH", fmt.Sprintf("/v1/stores/%d", id), w.Owner.Access, map[string]string{"name": ""})
		wantError(t, r, http.StatusBadRequest, "INVALID_ARGUMENT")
		if !strings.Contains(string(r.Raw), "name must") {
			t.Errorf("the refusal does not name the field: %s", r.Raw)
		}
		r = api.request(t, "POST", "/v1/stores", w.Owner.Access, map[string]string{"name": "x", "address": strings.Repeat("a", 201)})
		wantError(t, r, http.StatusBadRequest, "INVALID_ARGUMENT")

		// Another merchant's owner: not found, and nothing changed.
		r = api.request(t, "PATCH", fmt.Sprintf("/v1/stores/%d", id), w.Rival.Owner.Access, map[string]string{"name": "Taken over"})
		wantError(t, r, http.StatusNotFound, "STORE_NOT_FOUND")
		r = api.request(t, "GET", "/v1/stores", w.Rival.Owner.Access, nil)
		if strings.Contains(string(r.Raw), "Lotus") {
			t.Errorf("the rival sees the shop's stores: %s", r.Raw)
		}

		// The audit log has both changes.
		events, err := api.Staff.AuditEvents(t.Context(), w.Owner.actor(), 10)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range events {
			actions = append(actions, e.Action)
		}
		if got := strings.Join(actions, " "); !strings.Contains(got, "store.updated") || !strings.Contains(got, "store.created") {
			t.Errorf("audit = %s", got)
		}
	})
}

// Every staff member reads who they are; an owner has no store (null).
func TestMe(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		w := api.newWorld(t)
		r := api.request(t, "GET", "/v1/me", w.Owner.Access, nil)
		wantStatus(t, r, http.StatusOK)
		staff, _ := r.JSON["staff"].(map[string]any)
		merch, _ := r.JSON["merchant"].(map[string]any)
		if staff["role"] != "owner" || staff["store_id"] != nil || r.JSON["store"] != nil || merch["name"] != "Lotus" || merch["currency"] != "CNY" {
			t.Errorf("owner's /v1/me = %s", r.Raw)
		}
		r = api.request(t, "GET", "/v1/me", w.Cashiers[2].Access, nil)
		wantStatus(t, r, http.StatusOK)
		staff, _ = r.JSON["staff"].(map[string]any)
		store, _ := r.JSON["store"].(map[string]any)
		if staff["role"] != "cashier" || staff["store_id"] != float64(w.Stores[1].ID) || store["id"] != float64(w.Stores[1].ID) || staff["phone"] != w.Cashiers[2].Phone {
			t.Errorf("cashier's /v1/me = %s", r.Raw)
		}
	})
}

// A staff member changes their own password with the current one: the old
// one stops working, other sessions end, this one carries on with the new
// tokens; wrong current passwords are refused, then throttled.
func TestChangeOwnPassword(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		w := api.newWorld(t)
		m := w.Managers[0]
		other := api.login(t, m.Phone, m.Password) // a second phone
		otherRefresh := str(t, other.JSON, "refresh_token")

		r := api.request(t, "POST", "/v1/me/password", m.Access, map[string]string{"current_password": "wrong-password", "new_password": "manager-new-pass"})
		wantError(t, r, http.StatusUnprocessableEntity, "PASSWORD_INCORRECT")
		r = api.request(t, "POST", "/v1/me/password", m.Access, map[string]string{"current_password": m.Password, "new_password": "short"})
		wantError(t, r, http.StatusBadRequest, "WEAK_PASSWORD")

		r = api.request(t, "POST", "/v1/me/password", m.Access, map[string]string{"current_password": m.Password, "new_password": "manager-new-pass"})
		wantStatus(t, r, http.StatusOK)
		access := str(t, r.JSON, "access_token")
		wantStatus(t, api.request(t, "GET", "/v1/me", access, nil), http.StatusOK)
		wantError(t, api.login(t, m.Phone, m.Password), http.StatusUnauthorized, "INVALID_CREDENTIALS")
		wantStatus(t, api.login(t, m.Phone, "manager-new-pass"), http.StatusOK)
		if r := api.request(t, "POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": otherRefresh}); r.Status != http.StatusUnauthorized {
			t.Errorf("the other phone's refresh token still works: %d %s", r.Status, r.Raw)
		}

		// Guessing through a stolen session is throttled like every password confirmation.
		c := w.Cashiers[0]
		var last *response
		for range 6 {
			last = api.request(t, "POST", "/v1/me/password", c.Access, map[string]string{"current_password": "guess-guess", "new_password": "cashier-new-pass"})
		}
		wantError(t, last, http.StatusTooManyRequests, "TOO_MANY_ATTEMPTS")
		r = api.request(t, "POST", "/v1/me/password", c.Access, map[string]string{"current_password": c.Password, "new_password": "cashier-new-pass"})
		wantError(t, r, http.StatusTooManyRequests, "TOO_MANY_ATTEMPTS")
	})
}
