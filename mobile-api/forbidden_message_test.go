package mobileapi

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/paydesk/paydesk/storage"
)

// TestForbiddenMessageNamesTheDocumentedRoute: a refusal by the policy
// names the route as the OpenAPI document does ({id}, not gin's :id), in
// plain English ("an owner", "a cashier").
func TestForbiddenMessageNamesTheDocumentedRoute(t *testing.T) {
	for in, want := range map[string]string{"owner": "an owner", "cashier": "a cashier", "manager": "a manager"} {
		if got := withArticle(in); got != want {
			t.Errorf("withArticle(%q) = %q, want %q", in, got, want)
		}
	}
	if got := documentedPath("/v1/staff/:id/disable"); got != "/v1/staff/{id}/disable" {
		t.Errorf("documentedPath = %q", got)
	}
	api := newTestAPI(t, storage.SQLite)
	w := api.newWorld(t)
	r := api.request(t, "POST", fmt.Sprintf("/v1/staff/%d/disable", w.Cashiers[1].ID), w.Cashiers[0].Access, nil)
	wantError(t, r, http.StatusForbidden, "FORBIDDEN")
	if msg := string(r.Raw); !strings.Contains(msg, "a cashier may not call POST /v1/staff/{id}/disable") {
		t.Fatalf("message %s", msg)
	}
}
