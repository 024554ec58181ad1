package mobileapi

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/paydesk/paydesk/apikey"
	"github.com/paydesk/paydesk/rbac"
	"github.com/paydesk/paydesk/settlement"
	"github.com/paydesk/paydesk/wallet"
)

// accessRoute is how the access matrix calls one route.
type accessRoute struct {
	// roles are the roles the default policy lets call the route, as SPEC
	// §1 gives them. The matrix fails when policy.csv disagrees, so that a
	// policy edit that widens or narrows a role is made here too, on purpose.
	roles []rbac.Role
	// sample returns a request the roles may make on w's first merchant:
	// the concrete path, with that merchant's ids in it, and the body (nil
	// for none). Routes that act on a staff member act on w.Cashiers[1],
	// whom no caller of the matrix is.
	sample func(api *testAPI, w *world) (path string, body any)
}

var (
	staffRoles    = []rbac.Role{rbac.Owner, rbac.Manager, rbac.Cashier}
	managingRoles = []rbac.Role{rbac.Owner, rbac.Manager}
	customerRole  = []rbac.Role{rbac.Customer}
)

// A card the matrix binds, and a body a wallet route takes.
var sampleCard = map[string]any{"number": "4242 4242 4242 4242", "holder": "Chen Jing", "expiry_month": 12, "expiry_year": 2030}

// customerPath returns the path of a route that needs nothing but the
// world's customer.
func customerPath(path string) func(*testAPI, *world) (string, any) {
	return func(*testAPI, *world) (string, any) { return path, nil }
}

// accessRoutes has a row for every route that needs a token, keyed by
// "METHOD /gin/route". A route that is served without a row here fails
// TestAccessMatrix: whoever adds a route adds its row.
var accessRoutes = map[string]accessRoute{
	"POST /v1/auth/logout": {staffRoles, func(api *testAPI, w *world) (string, any) {
		// An unknown refresh token: logging it out succeeds and ends no
		// session the matrix still needs.
		return "/v1/auth/logout", map[string]string{"refresh_token": "not-a-refresh-token"}
	}},
	"GET /v1/staff": {managingRoles, func(api *testAPI, w *world) (string, any) {
		return "/v1/staff", nil
	}},
	"POST /v1/staff": {managingRoles, func(api *testAPI, w *world) (string, any) {
		return "/v1/staff", map[string]any{"name": "New cashier", "phone": api.nextPhone(), "password": "cashier-pass-1",
			"role": "cashier", "store_id": w.Stores[0].ID}
	}},
	"POST /v1/staff/:id/disable": {managingRoles, func(api *testAPI, w *world) (string, any) {
		return fmt.Sprintf("/v1/staff/%d/disable", w.Cashiers[1].ID), nil
	}},
	"POST /v1/staff/:id/enable": {managingRoles, func(api *testAPI, w *world) (string, any) {
		return fmt.Sprintf("/v1/staff/%d/enable", w.Cashiers[1].ID), nil
	}},
	"POST /v1/staff/:id/reset-password": {managingRoles, func(api *testAPI, w *world) (string, any) {
		return fmt.Sprintf("/v1/staff/%d/reset-password", w.Cashiers[1].ID), map[string]string{"password": "new-pass-123"}
	}},
	// The merchant's API keys are the owner's (apikeys_test.go).
	"POST /v1/api-keys": {[]rbac.Role{rbac.Owner}, func(api *testAPI, w *world) (string, any) {
		return "/v1/api-keys", map[string]any{"name": "matrix", "scopes": []string{"orders:read"}}
	}},
	"GET /v1/api-keys": {[]rbac.Role{rbac.Owner}, func(api *testAPI, w *world) (string, any) { return "/v1/api-keys", nil }},
	"POST /v1/api-keys/:id/revoke": {[]rbac.Role{rbac.Owner}, func(api *testAPI, w *world) (string, any) {
		k, _, err := api.APIKeys.Create(context.Background(), w.Owner.actor(), apikey.NewKey{Name: "matrix", Scopes: []apikey.Scope{apikey.OrdersRead}})
		if err != nil {
			return "/v1/api-keys/0/revoke", nil
		}
		return fmt.Sprintf("/v1/api-keys/%d/revoke", k.ID), nil
	}},
	// Webhook endpoints and their logs are the owner's (webhooks_test.go).
	"POST /v1/webhook-endpoints": {[]rbac.Role{rbac.Owner}, func(api *testAPI, w *world) (string, any) {
		return "/v1/webhook-endpoints", map[string]any{"url": "https://shop.example.com/hooks"}
	}},
	"GET /v1/webhook-endpoints": {[]rbac.Role{rbac.Owner}, func(api *testAPI, w *world) (string, any) { return "/v1/webhook-endpoints", nil }},
	"POST /v1/webhook-endpoints/:id/disable": {[]rbac.Role{rbac.Owner}, func(api *testAPI, w *world) (string, any) {
		return fmt.Sprintf("/v1/webhook-endpoints/%d/disable", w.endpoint(api)), nil
	}},
	"GET /v1/webhook-endpoints/:id/deliveries": {[]rbac.Role{rbac.Owner}, func(api *testAPI, w *world) (string, any) {
		return fmt.Sprintf("/v1/webhook-endpoints/%d/deliveries", w.endpoint(api)), nil
	}},
	"POST /v1/webhook-deliveries/:id/redeliver": {[]rbac.Role{rbac.Owner}, func(api *testAPI, w *world) (string, any) {
		return fmt.Sprintf("/v1/webhook-deliveries/%d/redeliver", w.delivery(api)), nil
	}},
	// Who am I and my own password (me_test.go); a wrong current password
	// is refused past the door (422 PASSWORD_INCORRECT), changing nothing.
	"GET /v1/me": {staffRoles, func(api *testAPI, w *world) (string, any) { return "/v1/me", nil }},
	"POST /v1/me/password": {staffRoles, func(api *testAPI, w *world) (string, any) {
		return "/v1/me/password", map[string]string{"current_password": "not-my-password", "new_password": "matrix-pass-123"}
	}},
	// The merchant's stores are the owner's (stores_test.go).
	"GET /v1/stores": {[]rbac.Role{rbac.Owner}, func(api *testAPI, w *world) (string, any) { return "/v1/stores", nil }},
	"POST /v1/stores": {[]rbac.Role{rbac.Owner}, func(api *testAPI, w *world) (string, any) {
		return "/v1/stores", map[string]string{"name": "Matrix store", "address": "1 Matrix Rd"}
	}},
	"PATCH /v1/stores/:id": {[]rbac.Role{rbac.Owner}, func(api *testAPI, w *world) (string, any) {
		return fmt.Sprintf("/v1/stores/%d", w.Stores[0].ID), map[string]string{"address": "2 Matrix Rd"}
	}},
	// A plain GET, not an upgrade: callers who may open the socket get
	// 400 WEBSOCKET_REQUIRED (ws_test.go opens real sockets).
	"GET /v1/ws": {[]rbac.Role{rbac.Owner, rbac.Manager, rbac.Cashier, rbac.Customer}, func(api *testAPI, w *world) (string, any) {
		return "/v1/ws", nil
	}},

	// Getting paid. Every call pays or opens a new order under a new
	// out_trade_no; the payment code and the dynamic password are fresh
	// ones (the clock moves a step), so whoever may call gets through.
	"POST /v1/payments/scan": {staffRoles, func(api *testAPI, w *world) (string, any) {
		api.Clock.Advance(wallet.PaymentCodeStep)
		return "/v1/payments/scan", map[string]any{"out_trade_no": api.outTradeNo("scan"), "amount": 100, "payment_code": api.codeNow(w.Customer)}
	}},
	"POST /v1/payments/dynamic-password": {staffRoles, func(api *testAPI, w *world) (string, any) {
		api.Clock.Advance(wallet.DynamicPasswordStep)
		p, _ := api.Wallets.DynamicPassword(context.Background(), w.Customer.ID)
		return "/v1/payments/dynamic-password", map[string]any{"out_trade_no": api.outTradeNo("dp"), "amount": 100,
			"phone": w.Customer.Phone, "password": p.Password}
	}},
	"POST /v1/payments/qr": {staffRoles, func(api *testAPI, w *world) (string, any) {
		return "/v1/payments/qr", map[string]any{"out_trade_no": api.outTradeNo("qr"), "amount": 100, "subject": "Oolong"}
	}},
	"POST /v1/checkout-sessions": {managingRoles, func(api *testAPI, w *world) (string, any) {
		return "/v1/checkout-sessions", map[string]any{"out_trade_no": api.outTradeNo("co"), "amount": 100, "subject": "Tea set",
			"return_url": "https://shop.example.com/return"}
	}},
	"POST /v1/payment-links": {managingRoles, func(api *testAPI, w *world) (string, any) {
		return "/v1/payment-links", map[string]any{"out_trade_no": api.outTradeNo("link"), "amount": 100, "subject": "Tea set"}
	}},
	// The orders act on one of Cashiers[0]'s, which the owner, Managers[0]
	// and Cashiers[0] see.
	"GET /v1/orders/:id": {staffRoles, func(api *testAPI, w *world) (string, any) {
		return fmt.Sprintf("/v1/orders/%d", w.cashierOrder(api)), nil
	}},
	"GET /v1/orders/:id/qr.png": {staffRoles, func(api *testAPI, w *world) (string, any) {
		return fmt.Sprintf("/v1/orders/%d/qr.png", w.cashierOrder(api)), nil
	}},
	"POST /v1/orders/:id/close": {staffRoles, func(api *testAPI, w *world) (string, any) {
		o, _ := api.newQROrder(w.Cashiers[0], 100)
		return fmt.Sprintf("/v1/orders/%d/close", o.ID), nil
	}},
	"GET /v1/stores/:id/qr.png": {staffRoles, func(api *testAPI, w *world) (string, any) {
		return fmt.Sprintf("/v1/stores/%d/qr.png", w.Stores[0].ID), nil
	}},

	// The wallet app, on the world's customer's own wallet.
	"GET /v1/wallet": {customerRole, customerPath("/v1/wallet")},
	"POST /v1/wallet/logout": {customerRole, func(api *testAPI, w *world) (string, any) {
		return "/v1/wallet/logout", map[string]string{"refresh_token": "not-a-refresh-token"}
	}},
	"POST /v1/wallet/cards": {customerRole, func(api *testAPI, w *world) (string, any) { return "/v1/wallet/cards", sampleCard }},
	"POST /v1/wallet/topups": {customerRole, func(api *testAPI, w *world) (string, any) {
		return "/v1/wallet/topups", map[string]any{"amount": 100, "request_no": api.outTradeNo("topup")}
	}},
	"GET /v1/wallet/transactions":             {customerRole, customerPath("/v1/wallet/transactions?limit=5")},
	"GET /v1/wallet/payment-code":             {customerRole, customerPath("/v1/wallet/payment-code")},
	"GET /v1/wallet/payment-code/barcode.png": {customerRole, customerPath("/v1/wallet/payment-code/barcode.png")},
	"GET /v1/wallet/payment-code/qr.png":      {customerRole, customerPath("/v1/wallet/payment-code/qr.png")},
	"POST /v1/wallet/payment-code/key":        {customerRole, customerPath("/v1/wallet/payment-code/key")},
	"GET /v1/wallet/dynamic-password":         {customerRole, customerPath("/v1/wallet/dynamic-password")},
	"POST /v1/wallet/scan": {customerRole, func(api *testAPI, w *world) (string, any) {
		_, payload := api.newQROrder(w.Cashiers[0], 100)
		return "/v1/wallet/scan", map[string]any{"qr_payload": payload}
	}},
	"POST /v1/wallet/pay": {customerRole, func(api *testAPI, w *world) (string, any) {
		_, payload := api.newQROrder(w.Cashiers[0], 100)
		return "/v1/wallet/pay", map[string]any{"qr_payload": payload}
	}},
	"POST /v1/wallet/payments/:id/confirm": {customerRole, func(api *testAPI, w *world) (string, any) {
		return fmt.Sprintf("/v1/wallet/payments/%d/confirm", w.payingOrder(api, "confirm")), nil
	}},
	"POST /v1/wallet/payments/:id/decline": {customerRole, func(api *testAPI, w *world) (string, any) {
		return fmt.Sprintf("/v1/wallet/payments/%d/decline", w.payingOrder(api, "decline")), nil
	}},

	// The merchant's money (settlements_test.go). Balances and settlement
	// progress are merchant-wide for owners and managers; moving money out
	// and statements are the owner's. The withdrawal is refused by the
	// business rules (no bank account bound), past the door.
	"GET /v1/balance": {managingRoles, func(api *testAPI, w *world) (string, any) {
		return "/v1/balance", nil
	}},
	"GET /v1/settlements": {managingRoles, func(api *testAPI, w *world) (string, any) {
		return "/v1/settlements", nil
	}},
	"GET /v1/settlements/:id": {managingRoles, func(api *testAPI, w *world) (string, any) {
		return fmt.Sprintf("/v1/settlements/%d", api.settledBatch(w.Merchant)), nil
	}},
	"POST /v1/withdrawals": {[]rbac.Role{rbac.Owner}, func(api *testAPI, w *world) (string, any) {
		return "/v1/withdrawals", map[string]any{"request_no": api.outTradeNo("wd"), "amount": 100}
	}},
	"GET /v1/withdrawals": {[]rbac.Role{rbac.Owner}, func(api *testAPI, w *world) (string, any) {
		return "/v1/withdrawals", nil
	}},
	"GET /v1/bank-account": {[]rbac.Role{rbac.Owner}, func(api *testAPI, w *world) (string, any) {
		return "/v1/bank-account", nil
	}},
	"PUT /v1/bank-account": {[]rbac.Role{rbac.Owner}, func(api *testAPI, w *world) (string, any) {
		return "/v1/bank-account", map[string]string{"number": "6222020200112233", "holder": "Matrix Ltd", "bank_name": "ICBC", "password": w.Owner.Password}
	}},
	"GET /v1/statements.csv": {[]rbac.Role{rbac.Owner}, func(api *testAPI, w *world) (string, any) {
		day := settlement.DayOf(api.Clock.Now().In(w.Merchant.Location())).String()
		return "/v1/statements.csv?from=" + day + "&to=" + day, nil
	}},

	// After the payment (orders_query_test.go): lists, voids, refunds,
	// today's data, members and tickets, on Cashiers[0]'s orders.
	"GET /v1/orders": {staffRoles, func(api *testAPI, w *world) (string, any) { return "/v1/orders?limit=5", nil }},
	"POST /v1/orders/:id/void": {managingRoles, func(api *testAPI, w *world) (string, any) {
		o, _ := api.newQROrder(w.Cashiers[0], 100)
		return fmt.Sprintf("/v1/orders/%d/void", o.ID), nil
	}},
	"POST /v1/orders/:id/refunds": {managingRoles, func(api *testAPI, w *world) (string, any) {
		return fmt.Sprintf("/v1/orders/%d/refunds", sampleOrders.paid(api, w)), map[string]any{"refund_no": api.outTradeNo("rf"), "amount": 1}
	}},
	"GET /v1/orders/:id/refunds": {staffRoles, func(api *testAPI, w *world) (string, any) {
		return fmt.Sprintf("/v1/orders/%d/refunds", sampleOrders.paid(api, w)), nil
	}},
	"GET /v1/stats/today": {staffRoles, func(api *testAPI, w *world) (string, any) { return "/v1/stats/today", nil }},
	"GET /v1/stats/daily": {staffRoles, func(api *testAPI, w *world) (string, any) { return "/v1/stats/daily?days=7", nil }},
	"GET /v1/members":     {managingRoles, func(api *testAPI, w *world) (string, any) { return "/v1/members?sort=recent", nil }},
	"POST /v1/tickets": {managingRoles, func(api *testAPI, w *world) (string, any) {
		return "/v1/tickets", sampleOrders.ticketRequest(api, w)
	}},
	"GET /v1/tickets": {managingRoles, func(api *testAPI, w *world) (string, any) { return "/v1/tickets", nil }},
	"POST /v1/tickets/redeem": {staffRoles, func(api *testAPI, w *world) (string, any) {
		return "/v1/tickets/redeem", map[string]any{"qr_payload": sampleOrders.ticketPayload(api, w)}
	}},
	"GET /v1/wallet/tickets": {customerRole, customerPath("/v1/wallet/tickets")},
	"GET /v1/wallet/tickets/:id": {customerRole, func(api *testAPI, w *world) (string, any) {
		return fmt.Sprintf("/v1/wallet/tickets/%d", sampleOrders.ticket(api, w)), nil
	}},
	"GET /v1/wallet/tickets/:id/qr.png": {customerRole, func(api *testAPI, w *world) (string, any) {
		return fmt.Sprintf("/v1/wallet/tickets/%d/qr.png", sampleOrders.ticket(api, w)), nil
	}},
}

// servedRoutes returns every route the server serves as "METHOD /path",
// split into those that need a token and the public ones, each sorted.
func servedRoutes(s *Server) (private, public []string) {
	for _, r := range s.engine.Routes() {
		key := r.Method + " " + r.Path
		if publicRoutes[key] {
			public = append(public, key)
		} else {
			private = append(private, key)
		}
	}
	slices.Sort(private)
	slices.Sort(public)
	return private, public
}

// matrixCaller is one row of the role side of the matrix.
type matrixCaller struct {
	name  string
	token string
	// role is the caller's role when the token is good; "" when it is not.
	role rbac.Role
	// code is the 401 code a caller without a good token gets.
	code string
	// rival is another merchant's owner, who must get 404 for the first
	// merchant's ids and never see its data.
	rival bool
}

// TestAccessMatrix walks every route that needs a token × every kind of
// caller, on the real server and database. The routes come from the
// server's route table, so a new route cannot be left out.
func TestAccessMatrix(t *testing.T) {
	private, public := servedRoutes(New(Config{}))
	for _, route := range private {
		if _, ok := accessRoutes[route]; !ok {
			t.Errorf("route %s is served but has no row in accessRoutes (access_test.go): add the roles SPEC §1 gives it and a sample request", route)
		}
	}
	for route := range accessRoutes {
		if !slices.Contains(private, route) {
			t.Errorf("accessRoutes has a row for %s, which is not served (or is public)", route)
		}
	}
	enforcer, err := rbac.NewEnforcer("")
	if err != nil {
		t.Fatal(err)
	}
	checkPolicyAgrees(t, enforcer)
	if t.Failed() {
		t.FailNow()
	}

	eachAPI(t, func(t *testing.T, api *testAPI) {
		w := api.newWorld(t)
		disabled := w.Cashiers[2]
		wantStatus(t, api.request(t, "POST", fmt.Sprintf("/v1/staff/%d/disable", disabled.ID), w.Owner.Access, nil), http.StatusOK)
		callers := []matrixCaller{
			{name: "owner", token: w.Owner.Access, role: rbac.Owner},
			{name: "manager", token: w.Managers[0].Access, role: rbac.Manager},
			{name: "cashier", token: w.Cashiers[0].Access, role: rbac.Cashier},
			{name: "other merchant's owner", token: w.Rival.Owner.Access, role: rbac.Owner, rival: true},
			{name: "customer", token: w.Customer.Access, role: rbac.Customer},
			{name: "no token", code: "UNAUTHORIZED"},
			{name: "garbage token", token: "not.a.token", code: "TOKEN_INVALID"},
			{name: "forged token", token: api.forgedToken(t, w.Owner.principal()), code: "TOKEN_INVALID"},
			{name: "expired token", token: api.expiredToken(t, w.Owner.principal()), code: "TOKEN_EXPIRED"},
			{name: "disabled cashier", token: disabled.Access, code: "STAFF_DISABLED"},
		}
		leaks := leakPattern(w)

		for _, route := range private {
			method, tmpl, _ := strings.Cut(route, " ")
			row := accessRoutes[route]
			t.Run(route, func(t *testing.T) {
				for _, c := range callers {
					path, body := row.sample(api, w)
					r := api.request(t, method, path, c.token, body)
					switch {
					case c.role == "":
						if r.Status != http.StatusUnauthorized || r.errorCode(t) != c.code {
							t.Errorf("%s: status %d, want 401 %s; body %s", c.name, r.Status, c.code, r.Raw)
						}
					case !api.Enforcer.Allowed(c.role, tmpl, method):
						if r.Status != http.StatusForbidden || r.errorCode(t) != "FORBIDDEN" {
							t.Errorf("%s: status %d, want 403 FORBIDDEN (the policy does not let role %s in); body %s", c.name, r.Status, c.role, r.Raw)
						}
					case c.rival && strings.Contains(tmpl, ":"):
						if r.Status != http.StatusNotFound {
							t.Errorf("%s with the first merchant's ids: status %d, want 404; body %s", c.name, r.Status, r.Raw)
						}
					default:
						switch r.Status {
						case http.StatusUnauthorized, http.StatusForbidden, http.StatusMethodNotAllowed, http.StatusInternalServerError:
							t.Errorf("%s may call this route but got status %d; body %s", c.name, r.Status, r.Raw)
						}
					}
					if c.rival && leaks.Match(r.Raw) {
						t.Errorf("%s sees the first merchant's data: %s", c.name, r.Raw)
					}
				}
				// Ids that exist nowhere: not found, never a fault.
				if strings.Contains(tmpl, ":") && api.Enforcer.Allowed(rbac.Owner, tmpl, method) {
					_, body := row.sample(api, w)
					path := ginParam.ReplaceAllString(tmpl, "999999999")
					if r := api.request(t, method, path, w.Owner.Access, body); r.Status != http.StatusNotFound {
						t.Errorf("owner, unknown id %s: status %d, want 404; body %s", path, r.Status, r.Raw)
					}
				}
			})
		}

		t.Run("public routes", func(t *testing.T) {
			for _, route := range public {
				method, path, _ := strings.Cut(route, " ")
				r := api.request(t, method, path, "", nil)
				if r.Status == http.StatusUnauthorized && r.errorCode(t) == "BANK_CALLBACK_INVALID" {
					continue // the bank's callbacks carry a signature, never a token
				}
				if r.Status == http.StatusUnauthorized || r.Status == http.StatusForbidden {
					t.Errorf("public %s without a token: status %d; body %s", route, r.Status, r.Raw)
				}
			}
		})
	})
}

// checkPolicyAgrees fails t where the policy and accessRoutes disagree on
// who may call a route.
func checkPolicyAgrees(t *testing.T, e *rbac.Enforcer) {
	t.Helper()
	for route, row := range accessRoutes {
		method, tmpl, _ := strings.Cut(route, " ")
		for _, role := range rbac.Roles() {
			if want, got := slices.Contains(row.roles, role), e.Allowed(role, tmpl, method); got != want {
				t.Errorf("role %s may call %s: the policy says %v, accessRoutes says %v", role, route, got, want)
			}
		}
	}
}

// leakPattern matches a response that carries any of the first merchant's
// staff phone numbers or its merchant id.
func leakPattern(w *world) *regexp.Regexp {
	alts := []string{fmt.Sprintf(`"merchant_id":%d[,}]`, w.Merchant.ID)}
	for _, m := range w.members() {
		alts = append(alts, regexp.QuoteMeta(m.Phone))
	}
	return regexp.MustCompile(strings.Join(alts, "|"))
}

// TestPolicyFileChangesAccess runs the server with a policy file without
// the line that lets managers list staff: the same manager, with the same
// code, is refused.
func TestPolicyFileChangesAccess(t *testing.T) {
	const rule = "p, manager, /v1/staff, GET"
	var kept []string
	for _, line := range strings.Split(string(rbac.DefaultPolicy()), "\n") {
		if strings.TrimSpace(line) != rule {
			kept = append(kept, line)
		}
	}
	if len(kept) == strings.Count(string(rbac.DefaultPolicy()), "\n")+1 {
		t.Fatalf("the default policy has no line %q to remove", rule)
	}
	path := filepath.Join(t.TempDir(), "policy.csv")
	if err := os.WriteFile(path, []byte(strings.Join(kept, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	eachAPI(t, func(t *testing.T, api *testAPI) {
		if api.Enforcer.Allowed(rbac.Manager, "/v1/staff", "GET") {
			t.Fatalf("the enforcer from %s still lets managers list staff", path)
		}
		_, store, owner := api.openMerchant(t, "Lotus")
		manager := api.addStaff(t, owner, rbac.Manager, store.ID)
		api.logIn(t, owner)
		api.logIn(t, manager)
		wantError(t, api.request(t, "GET", "/v1/staff", manager.Access, nil), http.StatusForbidden, "FORBIDDEN")
		wantStatus(t, api.request(t, "GET", "/v1/staff", owner.Access, nil), http.StatusOK)
		// The manager's other permissions are untouched.
		wantStatus(t, api.request(t, "POST", "/v1/staff", manager.Access, map[string]any{"name": "Cashier", "phone": api.nextPhone(),
			"password": "cashier-pass-1", "role": "cashier", "store_id": store.ID}), http.StatusCreated)
	}, withPolicy(path))
}
