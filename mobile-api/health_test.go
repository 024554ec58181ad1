package mobileapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

func TestReadyz(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		s, logs := newTestServer(t, Config{DB: db})
		rec := serve(s.Handler(), "GET", "/readyz", nil, nil)
		if rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != `{"status":"ok"}` {
			t.Fatalf("GET /readyz = %d %q, want 200 ok", rec.Code, rec.Body.String())
		}
		if rec := serve(s.MetricsHandler(), "GET", "/metrics", nil, nil); !strings.Contains(rec.Body.String(), `go_sql_open_connections{db_name="paydesk"}`) {
			t.Errorf("/metrics lacks the database pool stats")
		}

		db.Close()
		rec = serve(s.Handler(), "GET", "/readyz", nil, nil)
		if rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("GET /readyz with a closed database = %d, want 503", rec.Code)
		}
		if e := envelope(t, rec); e.Code != "UNAVAILABLE" {
			t.Fatalf("code %q, want UNAVAILABLE", e.Code)
		}
		if len(logs.lines(t, "not ready")) != 1 {
			t.Fatalf("the failed ping is not logged:\n%s", logs.String())
		}
	})
}

func TestReadyzWithoutDatabase(t *testing.T) {
	s, _ := newTestServer(t, Config{})
	rec := serve(s.Handler(), "GET", "/readyz", nil, nil)
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("GET /readyz without a database = %d, want 503", rec.Code)
	}
	if e := envelope(t, rec); e.Code != "UNAVAILABLE" {
		t.Fatalf("code %q, want UNAVAILABLE", e.Code)
	}
}
