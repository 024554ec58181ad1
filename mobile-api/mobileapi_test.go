package mobileapi

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// logBuffer collects what a Server logs, as JSON lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lines returns the logged records whose msg is msg.
func (b *logBuffer) lines(t *testing.T, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if l == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// newTestServer returns a Server without a database and the buffer its logs go to.
func newTestServer(t *testing.T, cfg Config) (*Server, *logBuffer) {
	t.Helper()
	logs := testLogs(&cfg)
	return New(cfg), logs
}

// testLogs makes cfg log to a buffer, as JSON lines, and name its version
// "test" unless it has one.
func testLogs(cfg *Config) *logBuffer {
	logs := &logBuffer{}
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if cfg.Version == "" {
		cfg.Version = "test"
	}
	return logs
}

// serve sends one request to h and returns the recorded response.
func serve(h http.Handler, method, target string, body io.Reader, header http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, body)
	for k, vs := range header {
		req.Header[k] = vs
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// envelope decodes an error response and checks its shape.
func envelope(t *testing.T, rec *httptest.ResponseRecorder) errorDetail {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("error response has content type %q, want application/json; body %q", ct, rec.Body.String())
	}
	var body errorBody
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		t.Fatalf("error response is not the envelope: %v; body %q", err, rec.Body.String())
	}
	e := body.Error
	if e.Code == "" || e.Message == "" || e.RequestID == "" {
		t.Fatalf("envelope lacks code, message or request_id: %q", rec.Body.String())
	}
	if got := rec.Header().Get(RequestIDHeader); got != e.RequestID {
		t.Fatalf("envelope request_id %q differs from header %q", e.RequestID, got)
	}
	return e
}

func TestHealthz(t *testing.T) {
	s, _ := newTestServer(t, Config{})
	rec := serve(s.Handler(), "GET", "/healthz", nil, nil)
	if rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != `{"status":"ok"}` {
		t.Fatalf("GET /healthz = %d %q, want 200 {\"status\":\"ok\"}", rec.Code, rec.Body.String())
	}
}

func TestUnknownPathAndMethod(t *testing.T) {
	s, _ := newTestServer(t, Config{})
	tests := []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/nope", http.StatusNotFound, "NOT_FOUND"},
		{"GET", "/v1/nope", http.StatusNotFound, "NOT_FOUND"},
		{"GET", "/healthz/", http.StatusNotFound, "NOT_FOUND"}, // no redirect to /healthz
		{"GET", "/HEALTHZ", http.StatusNotFound, "NOT_FOUND"},
		{"POST", "/healthz", http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED"},
		{"DELETE", "/v1/openapi.json", http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED"},
		{"BREW", "/healthz", http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := serve(s.Handler(), tt.method, tt.path, nil, nil)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d; body %q", rec.Code, tt.status, rec.Body.String())
			}
			if e := envelope(t, rec); e.Code != tt.code {
				t.Fatalf("code %q, want %q", e.Code, tt.code)
			}
			if tt.status == http.StatusMethodNotAllowed && rec.Header().Get("Allow") != "GET" {
				t.Fatalf("Allow header %q, want GET", rec.Header().Get("Allow"))
			}
		})
	}
}

func TestRequestID(t *testing.T) {
	s, logs := newTestServer(t, Config{})
	tests := []struct {
		name, in string
		kept     bool
	}{
		{"none", "", false},
		{"well formed", "abc-DEF_123", true},
		{"64 chars", strings.Repeat("a", 64), true},
		{"65 chars", strings.Repeat("a", 65), false},
		{"space", "abc def", false},
		{"newline", "abc\ndef", false},
		{"quote", `abc"def`, false},
		{"unicode", "abcé", false},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.in != "" {
				h[RequestIDHeader] = []string{tt.in}
			}
			rec := serve(s.Handler(), "GET", "/nope", nil, h)
			got := rec.Header().Get(RequestIDHeader)
			if e := envelope(t, rec); e.RequestID != got {
				t.Fatalf("envelope id %q, header %q", e.RequestID, got)
			}
			if tt.kept && got != tt.in {
				t.Fatalf("request id %q replaced by %q", tt.in, got)
			}
			if !tt.kept && (got == tt.in || !validRequestID(got)) {
				t.Fatalf("request id %q: got %q, want a fresh valid id", tt.in, got)
			}
			if !tt.kept && seen[got] {
				t.Fatalf("generated request id %q twice", got)
			}
			seen[got] = true
			if !strings.Contains(logs.String(), `"request_id":"`+got+`"`) {
				t.Fatalf("access log lacks request id %q:\n%s", got, logs.String())
			}
		})
	}
}
