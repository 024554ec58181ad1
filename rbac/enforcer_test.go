package rbac_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/paydesk/paydesk/rbac"
)

func mustEnforcer(t testing.TB, policyPath string) *rbac.Enforcer {
	t.Helper()
	e, err := rbac.NewEnforcer(policyPath)
	if err != nil {
		t.Fatalf("NewEnforcer(%q): %v", policyPath, err)
	}
	return e
}

func TestDefaultPolicyDecisions(t *testing.T) {
	e := mustEnforcer(t, "")
	tests := []struct {
		role          rbac.Role
		method, route string
		want          bool
	}{
		// Owners do everything of the merchant, money out included.
		{rbac.Owner, "POST", "/v1/withdrawals", true},
		{rbac.Owner, "GET", "/v1/statements.csv", true},
		{rbac.Owner, "POST", "/v1/staff/:id/disable", true},
		{rbac.Owner, "POST", "/v1/orders/:id/void", true},
		{rbac.Owner, "GET", "/v1/wallet", false},
		// Managers run a store but move no money out.
		{rbac.Manager, "POST", "/v1/orders/:id/refunds", true},
		{rbac.Manager, "POST", "/v1/orders/:id/void", true},
		{rbac.Manager, "POST", "/v1/staff/:id/reset-password", true},
		{rbac.Manager, "GET", "/v1/settlements/:id", true},
		{rbac.Manager, "POST", "/v1/payment-links", true},
		{rbac.Manager, "POST", "/v1/withdrawals", false},
		{rbac.Manager, "GET", "/v1/withdrawals", false},
		{rbac.Manager, "GET", "/v1/statements.csv", false},
		// Cashiers collect and see their own; refunds and voids are not theirs.
		{rbac.Cashier, "POST", "/v1/payments/scan", true},
		{rbac.Cashier, "POST", "/v1/payments/dynamic-password", true},
		{rbac.Cashier, "GET", "/v1/orders/:id/qr.png", true},
		{rbac.Cashier, "POST", "/v1/orders/:id/close", true},
		{rbac.Cashier, "GET", "/v1/orders/:id/refunds", true},
		{rbac.Cashier, "GET", "/v1/stats/daily", true},
		{rbac.Cashier, "GET", "/v1/ws", true},
		{rbac.Cashier, "POST", "/v1/auth/logout", true},
		{rbac.Cashier, "POST", "/v1/orders/:id/void", false},
		{rbac.Cashier, "POST", "/v1/orders/:id/refunds", false},
		{rbac.Cashier, "GET", "/v1/staff", false},
		{rbac.Cashier, "POST", "/v1/payment-links", false},
		{rbac.Cashier, "GET", "/v1/balance", false},
		{rbac.Cashier, "GET", "/v1/members", false},
		// Customers live in the wallet and nowhere else.
		{rbac.Customer, "POST", "/v1/wallet/pay", true},
		{rbac.Customer, "POST", "/v1/wallet/payments/:id/confirm", true},
		{rbac.Customer, "GET", "/v1/wallet/transactions", true},
		{rbac.Customer, "POST", "/v1/wallet/logout", true},
		{rbac.Customer, "GET", "/v1/orders", false},
		{rbac.Customer, "POST", "/v1/auth/logout", false},
		{rbac.Customer, "GET", "/v1/ws", true}, // the wallet's own events: awaiting confirmation, paid
		// The method and the template must both match exactly.
		{rbac.Owner, "DELETE", "/v1/orders/:id", false},
		{rbac.Owner, "GET", "/v1/orders/42", false},
		{rbac.Owner, "get", "/v1/orders", false},
		{rbac.Owner, "GET", "/v1/orders/", false},
		{"", "GET", "/v1/orders", false},
		{"root", "GET", "/v1/orders", false},
		{rbac.Owner, "GET", "", false},
	}
	for _, tt := range tests {
		if got := e.Allowed(tt.role, tt.route, tt.method); got != tt.want {
			t.Errorf("Allowed(%q, %q, %q) = %v, want %v", tt.role, tt.route, tt.method, got, tt.want)
		}
	}
}

// Every role reaches logout and the websocket it needs, and the wallet is
// only the customer's: a check over the whole rule list, not a sample.
func TestDefaultPolicyShape(t *testing.T) {
	e := mustEnforcer(t, "")
	rules := e.Rules()
	perRole := map[rbac.Role]int{}
	for _, r := range rules {
		perRole[r.Role]++
		if !e.Allowed(r.Role, r.Route, r.Method) {
			t.Errorf("rule %+v is listed but not allowed", r)
		}
		// The websocket is shared: every app gets its own events over it.
		if wallet := strings.HasPrefix(r.Route, "/v1/wallet"); wallet != (r.Role == rbac.Customer) && r.Route != "/v1/ws" {
			t.Errorf("rule %+v: the wallet routes are the customer's alone", r)
		}
	}
	// Power is nested in the default policy: whatever a cashier may do a
	// manager may, and whatever a manager may an owner may.
	for _, r := range rules {
		switch r.Role {
		case rbac.Cashier:
			if !e.Allowed(rbac.Manager, r.Route, r.Method) {
				t.Errorf("a cashier may %s %s but a manager may not", r.Method, r.Route)
			}
		case rbac.Manager:
			if !e.Allowed(rbac.Owner, r.Route, r.Method) {
				t.Errorf("a manager may %s %s but an owner may not", r.Method, r.Route)
			}
		}
	}
	for _, role := range rbac.Roles() {
		if perRole[role] == 0 {
			t.Errorf("role %s has no rules", role)
		}
	}
	// Rules is a copy: changing it changes nothing.
	rules[0].Role = "nobody"
	if e.Rules()[0].Role == "nobody" {
		t.Fatal("Rules exposes the enforcer's own slice")
	}
}

func TestPolicyFromPathChangesTheAnswer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.csv")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// The operator starts from the default and lets cashiers refund.
	write(string(rbac.DefaultPolicy()) + "\np, cashier, /v1/orders/:id/refunds, POST\n")
	if def := mustEnforcer(t, ""); def.Allowed(rbac.Cashier, "/v1/orders/:id/refunds", "POST") {
		t.Fatal("the default policy already lets cashiers refund; the test proves nothing")
	}
	if !mustEnforcer(t, path).Allowed(rbac.Cashier, "/v1/orders/:id/refunds", "POST") {
		t.Fatal("a rule added to the policy file is not honoured")
	}
	// And then takes withdrawals away from owners; comments and blank
	// lines are fine.
	write("# a tiny policy\n\np, owner, /v1/balance, GET\n  p,manager ,/v1/balance,GET  \n")
	e := mustEnforcer(t, path)
	if e.Allowed(rbac.Owner, "/v1/withdrawals", "POST") {
		t.Fatal("a rule removed from the policy file still allows")
	}
	if !e.Allowed(rbac.Owner, "/v1/balance", "GET") || !e.Allowed(rbac.Manager, "/v1/balance", "GET") {
		t.Fatalf("rules of the file are not honoured: %+v", e.Rules())
	}
	if n := len(e.Rules()); n != 2 {
		t.Fatalf("Rules() has %d rules, want 2", n)
	}
}

func TestMalformedPolicyIsRefused(t *testing.T) {
	dir := t.TempDir()
	tests := map[string]string{
		"unknown role":        "p, Cashier, /v1/orders, GET\n",
		"lower-case method":   "p, cashier, /v1/orders, get\n",
		"too few fields":      "p, cashier, /v1/orders\n",
		"too many fields":     "p, cashier, /v1/orders, GET, deny\n",
		"not a policy line":   "g, alice, owner\n",
		"raw path with query": "p, owner, /v1/orders?limit=1, GET\n",
		"relative route":      "p, owner, v1/orders, GET\n",
		"empty":               "# nothing but a comment\n",
		"bad quoting":         "p, owner, \"/v1/orders, GET\n",
	}
	for name, policy := range tests {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".csv")
		if err := os.WriteFile(path, []byte(policy), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := rbac.NewEnforcer(path); err == nil {
			t.Errorf("%s: policy %q was accepted", name, policy)
		}
	}
	if _, err := rbac.NewEnforcer(filepath.Join(dir, "missing.csv")); err == nil {
		t.Error("a missing policy file was accepted")
	}
}

func TestAllowedIsSafeForConcurrentUse(t *testing.T) {
	e := mustEnforcer(t, "")
	rules := e.Rules()
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 200 {
				r := rules[(g*31+i)%len(rules)]
				if !e.Allowed(r.Role, r.Route, r.Method) {
					t.Errorf("rule %+v denied under concurrency", r)
					return
				}
				if e.Allowed(rbac.Customer, r.Route+"/x", r.Method) {
					t.Errorf("unknown route %s/x allowed", r.Route)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkAllowed(b *testing.B) {
	e := mustEnforcer(b, "")
	rules := e.Rules()
	for i := 0; b.Loop(); i++ {
		r := rules[i%len(rules)]
		e.Allowed(r.Role, r.Route, r.Method)
	}
}
