package mobileapi

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// openAPI is the part of the document the tests check.
type openAPI struct {
	OpenAPI    string                                `json:"openapi"`
	Info       struct{ Title, Version string }       `json:"info"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components map[string]map[string]json.RawMessage `json:"components"`
}

var ginParam = regexp.MustCompile(`[:*]([A-Za-z0-9_]+)`)

// openAPIPath writes a gin route the way OpenAPI does: /v1/orders/:id is
// /v1/orders/{id}, and a catch-all *path is {path}.
func openAPIPath(ginPath string) string {
	return ginParam.ReplaceAllString(ginPath, "{$1}")
}

func loadOpenAPI(t *testing.T) openAPI {
	t.Helper()
	var doc openAPI
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.0") || doc.Info.Title == "" || doc.Info.Version == "" {
		t.Fatalf("openapi.json lacks openapi 3.0.x, info.title or info.version")
	}
	return doc
}

// TestOpenAPIMatchesRoutes keeps the document true: every served route is
// documented and every documented operation is served.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	s := New(Config{})

	served := map[string]bool{}
	for _, r := range s.engine.Routes() {
		op := r.Method + " " + openAPIPath(r.Path)
		served[op] = true
		if _, ok := doc.Paths[openAPIPath(r.Path)][strings.ToLower(r.Method)]; !ok {
			t.Errorf("route %s is served but not in openapi.json", op)
		}
	}
	methods := map[string]bool{"get": true, "put": true, "post": true, "delete": true, "options": true, "head": true, "patch": true, "trace": true}
	documented := 0
	for path, item := range doc.Paths {
		for m := range item {
			if !methods[m] {
				continue // parameters, summary, ... of the path item
			}
			op := strings.ToUpper(m) + " " + path
			documented++
			if !served[op] {
				t.Errorf("openapi.json documents %s, which is not served", op)
			}
		}
	}
	if documented == 0 {
		t.Fatal("openapi.json documents no operation")
	}
}

// TestOpenAPIOperations checks what every operation must have, and that
// every $ref points at something in components.
func TestOpenAPIOperations(t *testing.T) {
	doc := loadOpenAPI(t)
	if _, ok := doc.Components["schemas"]["Error"]; !ok {
		t.Fatal("openapi.json lacks the Error envelope schema")
	}
	opIDs := map[string]string{}
	for path, item := range doc.Paths {
		for m, raw := range item {
			var op struct {
				OperationID string                     `json:"operationId"`
				Responses   map[string]json.RawMessage `json:"responses"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				continue // not an operation
			}
			where := strings.ToUpper(m) + " " + path
			if op.OperationID == "" {
				t.Errorf("%s has no operationId", where)
			} else if prev, dup := opIDs[op.OperationID]; dup {
				t.Errorf("%s and %s share operationId %s", where, prev, op.OperationID)
			}
			opIDs[op.OperationID] = where
			if len(op.Responses) == 0 {
				t.Errorf("%s documents no response", where)
			}
		}
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				parts := strings.Split(strings.TrimPrefix(ref, "#/components/"), "/")
				if !strings.HasPrefix(ref, "#/components/") || len(parts) != 2 || doc.Components[parts[0]][parts[1]] == nil {
					t.Errorf("$ref %s points nowhere", ref)
				}
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	var all any
	if err := json.Unmarshal(openAPIDoc, &all); err != nil {
		t.Fatal(err)
	}
	walk(all)
}

func TestServeOpenAPI(t *testing.T) {
	s, _ := newTestServer(t, Config{})
	rec := serve(s.Handler(), "GET", "/v1/openapi.json", nil, nil)
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("GET /v1/openapi.json = %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	if rec.Body.String() != string(openAPIDoc) {
		t.Fatal("served document differs from the embedded one")
	}
}

// TestOpenAPIMoneyRoutesRetrySafe: every operation that takes an
// Idempotency-Key (the money-moving ones, which s.idempotent marks)
// documents its faults as 503 RetrySafe, with the retry advice, and no
// 500, which it never answers (ErrRetrySafe).
func TestOpenAPIMoneyRoutesRetrySafe(t *testing.T) {
	doc := loadOpenAPI(t)
	money := 0
	for path, item := range doc.Paths {
		for m, raw := range item {
			var op struct {
				Parameters []struct {
					Ref string `json:"$ref"`
				} `json:"parameters"`
				Responses map[string]struct {
					Ref string `json:"$ref"`
				} `json:"responses"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				continue
			}
			takesKey := false
			for _, p := range op.Parameters {
				takesKey = takesKey || p.Ref == "#/components/parameters/IdempotencyKey"
			}
			if !takesKey {
				continue
			}
			money++
			where := strings.ToUpper(m) + " " + path
			if _, ok := op.Responses["500"]; ok {
				t.Errorf("%s documents a 500, which a money-moving route never answers", where)
			}
			if op.Responses["503"].Ref != "#/components/responses/RetrySafe" {
				t.Errorf("%s does not document its faults as 503 RetrySafe", where)
			}
		}
	}
	if money < 12 {
		t.Fatalf("only %d operations take an Idempotency-Key", money)
	}
}
