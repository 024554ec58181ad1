package mobileapi

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/paydesk/paydesk/apikey"
	"github.com/paydesk/paydesk/rbac"
)

// allScopes is every scope a key can have.
func allScopes() []string {
	var out []string
	for _, s := range apikey.Scopes() {
		out = append(out, string(s))
	}
	return out
}

// newKey has owner create a live key over HTTP and returns its secret and id.
func (api *testAPI) newKey(t *testing.T, owner *member, storeID int64, scopes ...string) (string, int64) {
	t.Helper()
	body := map[string]any{"name": "shop backend", "scopes": scopes}
	if storeID != 0 {
		body["store_id"] = storeID
	}
	r := api.request(t, "POST", "/v1/api-keys", owner.Access, body)
	wantStatus(t, r, http.StatusCreated)
	return str(t, r.JSON, "key"), num(t, r.JSON, "id")
}

// TestAPIKeyLifecycle: an owner creates a key (shown once, in the answer
// that creates it), lists it without its secret, uses it, revokes it, and
// the very next request with it is refused.
func TestAPIKeyLifecycle(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		w := api.newWorld(t)
		r := api.request(t, "POST", "/v1/api-keys", w.Owner.Access, map[string]any{"name": "web shop", "scopes": []string{"payments:write", "orders:read"}})
		wantStatus(t, r, http.StatusCreated)
		secret, id := str(t, r.JSON, "key"), num(t, r.JSON, "id")
		if !strings.HasPrefix(secret, "pdk_live_") || r.Header.Get("Location") != fmt.Sprintf("/v1/api-keys/%d", id) ||
			r.Header.Get("Cache-Control") != "no-store" || !strings.HasPrefix(secret, str(t, r.JSON, "prefix")) || r.JSON["store_id"] != nil {
			t.Fatalf("create answered %v, headers %v", r.JSON, r.Header)
		}
		var stored int64
		api.DB.Writer(t.Context()).Raw("SELECT COUNT(*) FROM api_keys WHERE hash = ? OR prefix = ?", secret, secret).Scan(&stored)
		if stored != 0 {
			t.Fatal("the key itself is in the database")
		}

		list := api.request(t, "GET", "/v1/api-keys", w.Owner.Access, nil)
		wantStatus(t, list, http.StatusOK)
		if strings.Contains(string(list.Raw), secret) || !strings.Contains(string(list.Raw), `"next_cursor":null`) {
			t.Fatalf("list shows the secret or is not a page: %s", list.Raw)
		}
		if items := list.JSON["items"].([]any); len(items) != 1 || num(t, items[0].(map[string]any), "id") != id {
			t.Fatalf("list: %s", list.Raw)
		}

		qr := api.request(t, "POST", "/v1/payments/qr", secret, map[string]any{"out_trade_no": "web-1", "amount": 990, "subject": "Tea"})
		wantStatus(t, qr, http.StatusCreated)
		orderID := num(t, qr.JSON["order"].(map[string]any), "id")
		wantStatus(t, api.request(t, "GET", fmt.Sprintf("/v1/orders/%d", orderID), secret, nil), http.StatusOK)
		// The owner sees what the key made.
		wantStatus(t, api.request(t, "GET", fmt.Sprintf("/v1/orders/%d", orderID), w.Owner.Access, nil), http.StatusOK)
		// Outside its scopes: close needs orders:write, keys need an owner.
		wantError(t, api.request(t, "POST", fmt.Sprintf("/v1/orders/%d/close", orderID), secret, nil), http.StatusForbidden, "FORBIDDEN")
		wantError(t, api.request(t, "GET", "/v1/api-keys", secret, nil), http.StatusForbidden, "FORBIDDEN")
		wantError(t, api.request(t, "GET", "/v1/wallet", secret, nil), http.StatusForbidden, "FORBIDDEN")

		// Managers neither create nor revoke keys.
		wantError(t, api.request(t, "POST", "/v1/api-keys", w.Managers[0].Access, map[string]any{"name": "x", "scopes": []string{"orders:read"}}),
			http.StatusForbidden, "FORBIDDEN")
		wantError(t, api.request(t, "POST", fmt.Sprintf("/v1/api-keys/%d/revoke", id), w.Rival.Owner.Access, nil), http.StatusNotFound, "API_KEY_NOT_FOUND")

		rv := api.request(t, "POST", fmt.Sprintf("/v1/api-keys/%d/revoke", id), w.Owner.Access, nil)
		wantStatus(t, rv, http.StatusOK)
		if rv.JSON["revoked_at"] == nil {
			t.Fatalf("revoke answered %s", rv.Raw)
		}
		wantError(t, api.request(t, "GET", fmt.Sprintf("/v1/orders/%d", orderID), secret, nil), http.StatusUnauthorized, "API_KEY_REVOKED")
		// Revoking again answers the key as it is.
		wantStatus(t, api.request(t, "POST", fmt.Sprintf("/v1/api-keys/%d/revoke", id), w.Owner.Access, nil), http.StatusOK)

		// A key-shaped string that is no key, and a tampered key.
		wantError(t, api.request(t, "GET", "/v1/orders", "pdk_live_nonsense", nil), http.StatusUnauthorized, "API_KEY_INVALID")
		other, _ := api.newKey(t, w.Owner, 0, "orders:read")
		tampered := other[:len(other)-1] + map[bool]string{true: "A", false: "B"}[other[len(other)-1] != 'A']
		wantError(t, api.request(t, "GET", "/v1/orders", tampered, nil), http.StatusUnauthorized, "API_KEY_INVALID")
		wantStatus(t, api.request(t, "GET", "/v1/orders", other, nil), http.StatusOK)
	})
}

// TestAPIKeyBadRequests: what an owner sends wrong is a 400 with a code.
func TestAPIKeyBadRequests(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		w := api.newWorld(t)
		for name, body := range map[string]map[string]any{
			"no name":       {"scopes": []string{"orders:read"}},
			"no scopes":     {"name": "x"},
			"unknown scope": {"name": "x", "scopes": []string{"orders:delete"}},
			"unknown kind":  {"name": "x", "kind": "sandbox", "scopes": []string{"orders:read"}},
		} {
			wantError(t, api.request(t, "POST", "/v1/api-keys", w.Owner.Access, body), http.StatusBadRequest, "INVALID_ARGUMENT")
			_ = name
		}
		wantError(t, api.request(t, "POST", "/v1/api-keys", w.Owner.Access, map[string]any{"name": "x", "store_id": w.Rival.Store.ID,
			"scopes": []string{"orders:read"}}), http.StatusNotFound, "STORE_NOT_FOUND")
		// A test key acts on the merchant's sandbox, empty at first
		// (testmode_test.go).
		r := api.request(t, "POST", "/v1/api-keys", w.Owner.Access, map[string]any{"name": "x", "kind": "test", "scopes": []string{"orders:read"}})
		wantStatus(t, r, http.StatusCreated)
		if l := api.request(t, "GET", "/v1/orders", str(t, r.JSON, "key"), nil); l.Status != http.StatusOK || len(l.JSON["items"].([]any)) != 0 {
			t.Fatalf("a new sandbox's orders: %d %s", l.Status, l.Raw)
		}
	})
}

// TestAPIKeyScopedToItsMerchant: a key of merchant A sees nothing of
// merchant B (ids of B are 404, lists hold only A's), and a key bound to a
// store sees only that store's orders and makes orders of that store.
func TestAPIKeyScopedToItsMerchant(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		w := api.newWorld(t)
		keyA, _ := api.newKey(t, w.Owner, 0, allScopes()...)
		keyB, _ := api.newKey(t, w.Rival.Owner, 0, allScopes()...)
		paidA := api.payQR(t, w.Cashiers[0], w.Customer, 700)
		rb := api.request(t, "POST", "/v1/payments/qr", keyB, map[string]any{"out_trade_no": "b-1", "amount": 100})
		wantStatus(t, rb, http.StatusCreated)
		orderB := num(t, rb.JSON["order"].(map[string]any), "id")

		for _, path := range []string{fmt.Sprintf("/v1/orders/%d", orderB), fmt.Sprintf("/v1/orders/%d/refunds", orderB), fmt.Sprintf("/v1/orders/%d/qr.png", orderB)} {
			wantError(t, api.request(t, "GET", path, keyA, nil), http.StatusNotFound, "ORDER_NOT_FOUND")
		}
		wantError(t, api.request(t, "POST", fmt.Sprintf("/v1/orders/%d/close", orderB), keyA, nil), http.StatusNotFound, "ORDER_NOT_FOUND")
		wantError(t, api.request(t, "POST", fmt.Sprintf("/v1/orders/%d/refunds", paidA), keyB, map[string]any{"refund_no": "rb", "amount": 1}),
			http.StatusNotFound, "ORDER_NOT_FOUND")
		list := api.request(t, "GET", "/v1/orders", keyB, nil)
		wantStatus(t, list, http.StatusOK)
		if items := list.JSON["items"].([]any); len(items) != 1 || num(t, items[0].(map[string]any), "id") != orderB {
			t.Fatalf("merchant B's key lists %s", list.Raw)
		}
		if leakPattern(w).Match(list.Raw) {
			t.Fatalf("merchant B's key sees merchant A: %s", list.Raw)
		}

		// A's key refunds A's order, through the same service.
		wantStatus(t, api.request(t, "POST", fmt.Sprintf("/v1/orders/%d/refunds", paidA), keyA, map[string]any{"refund_no": "ra", "amount": 100}),
			http.StatusCreated)

		// Bound to store 2: store 1's orders are not its own.
		store2, _ := api.newKey(t, w.Owner, w.Stores[1].ID, "payments:write", "orders:read")
		wantError(t, api.request(t, "GET", fmt.Sprintf("/v1/orders/%d", paidA), store2, nil), http.StatusNotFound, "ORDER_NOT_FOUND")
		r := api.request(t, "POST", "/v1/payment-links", store2, map[string]any{"out_trade_no": "s2-1", "amount": 100, "subject": "Cake"})
		wantStatus(t, r, http.StatusCreated)
		if o := r.JSON["order"].(map[string]any); num(t, o, "store_id") != w.Stores[1].ID {
			t.Fatalf("the store key's order: %v", o)
		}
		// The store's manager sees it; the other store's does not.
		id := num(t, r.JSON["order"].(map[string]any), "id")
		wantStatus(t, api.request(t, "GET", fmt.Sprintf("/v1/orders/%d", id), w.Managers[1].Access, nil), http.StatusOK)
		wantError(t, api.request(t, "GET", fmt.Sprintf("/v1/orders/%d", id), w.Managers[0].Access, nil), http.StatusNotFound, "ORDER_NOT_FOUND")
	})
}

// TestAPIKeyMatrix walks every route that needs a token with a key that
// has every scope: the routes the policy opens to one of its scopes are
// past the door (neither 401 nor 403), every other route is 403.
func TestAPIKeyMatrix(t *testing.T) {
	enforcer, err := rbac.NewEnforcer("")
	if err != nil {
		t.Fatal(err)
	}
	var subjects []rbac.Role
	for _, s := range allScopes() {
		subjects = append(subjects, rbac.ScopeSubject(s))
	}
	// The scopes open exactly what a merchant's system calls.
	opened := []string{}
	private, _ := servedRoutes(New(Config{}))
	for _, route := range private {
		method, tmpl, _ := strings.Cut(route, " ")
		if enforcer.AllowedAny(subjects, tmpl, method) {
			opened = append(opened, route)
		}
	}
	want := []string{"GET /v1/balance", "GET /v1/orders", "GET /v1/orders/:id", "GET /v1/orders/:id/qr.png", "GET /v1/orders/:id/refunds",
		"GET /v1/settlements", "GET /v1/settlements/:id", "GET /v1/statements.csv", "POST /v1/orders/:id/close", "POST /v1/orders/:id/refunds",
		"POST /v1/payment-links", "POST /v1/payments/dynamic-password", "POST /v1/payments/qr", "POST /v1/payments/scan"}
	want = append(want, keyRoutesBeyondPayments...)
	slices.Sort(want)
	if !slices.Equal(opened, want) {
		t.Fatalf("the scopes open %v\nwant %v", opened, want)
	}
	eachAPI(t, func(t *testing.T, api *testAPI) {
		w := api.newWorld(t)
		key, _ := api.newKey(t, w.Owner, 0, allScopes()...)
		for _, route := range private {
			method, _, _ := strings.Cut(route, " ")
			path, body := accessRoutes[route].sample(api, w)
			r := api.request(t, method, path, key, body)
			switch {
			case !slices.Contains(opened, route):
				if r.Status != http.StatusForbidden {
					t.Errorf("%s with a key: status %d, want 403; body %s", route, r.Status, r.Raw)
				}
			case r.Status == http.StatusUnauthorized || r.Status == http.StatusForbidden || r.Status >= 500:
				t.Errorf("%s with a key may be called but got %d; body %s", route, r.Status, r.Raw)
			}
		}
	})
}

// keyRoutesBeyondPayments are the routes after issue 19's first step that
// the scopes open (checkout sessions).
var keyRoutesBeyondPayments = []string{"POST /v1/checkout-sessions"}
