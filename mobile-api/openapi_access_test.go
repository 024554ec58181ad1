package mobileapi

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestOpenAPIDocumentsAccess keeps the document true about who may call
// what: every route that needs a token declares the bearer scheme and the
// 401 and 403 the authentication middleware answers; public routes declare
// no security requirement.
func TestOpenAPIDocumentsAccess(t *testing.T) {
	doc := loadOpenAPI(t)
	if _, ok := doc.Components["securitySchemes"]["bearerAuth"]; !ok {
		t.Fatal("openapi.json lacks components.securitySchemes.bearerAuth")
	}
	s := New(Config{})
	for _, r := range s.engine.Routes() {
		raw, ok := doc.Paths[openAPIPath(r.Path)][strings.ToLower(r.Method)]
		if !ok {
			continue // TestOpenAPIMatchesRoutes reports it
		}
		var op struct {
			Security  []map[string][]string      `json:"security"`
			Responses map[string]json.RawMessage `json:"responses"`
		}
		if err := json.Unmarshal(raw, &op); err != nil {
			t.Fatalf("%s %s: %v", r.Method, r.Path, err)
		}
		bearer := false
		for _, req := range op.Security {
			if _, ok := req["bearerAuth"]; ok {
				bearer = true
			}
		}
		route := r.Method + " " + r.Path
		switch {
		case publicRoutes[route] && bearer:
			t.Errorf("%s is public but documented as needing a bearer token", route)
		case !publicRoutes[route] && !bearer:
			t.Errorf("%s needs a token but its operation has no security: [{\"bearerAuth\": []}]", route)
		case !publicRoutes[route]:
			for _, status := range []string{"401", "403"} {
				if _, ok := op.Responses[status]; !ok {
					t.Errorf("%s does not document %s, which the authentication middleware answers", route, status)
				}
			}
		}
	}
}
