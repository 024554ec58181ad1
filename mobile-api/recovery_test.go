package mobileapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

func TestPanicRecovery(t *testing.T) {
	s, logs := newTestServer(t, Config{})
	s.V1().GET("/boom", func(c *gin.Context) { panic("the secret internals of the panic") })

	rec := serve(s.Handler(), "GET", "/v1/boom", nil, nil)
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", rec.Code)
	}
	e := envelope(t, rec)
	if e.Code != "INTERNAL" {
		t.Fatalf("code %q, want INTERNAL", e.Code)
	}
	if body := rec.Body.String(); strings.Contains(body, "secret internals") || strings.Contains(body, "goroutine") || strings.Contains(body, ".go:") {
		t.Fatalf("response leaks the panic: %s", body)
	}

	panics := logs.lines(t, "panic serving request")
	if len(panics) != 1 {
		t.Fatalf("got %d panic log lines, want 1:\n%s", len(panics), logs.String())
	}
	if p := panics[0]; p["panic"] != "the secret internals of the panic" || !strings.Contains(p["stack"].(string), "recovery_test.go") || p["request_id"] != e.RequestID {
		t.Fatalf("panic log lacks the value, the stack or the request id: %v", p)
	}
	access := logs.lines(t, "http request")
	if len(access) != 1 || access[0]["status"] != float64(500) || access[0]["level"] != "ERROR" {
		t.Fatalf("access log of a panic = %v, want one ERROR line with status 500", access)
	}
	if n := len(logs.lines(t, "request failed")); n != 0 {
		t.Fatalf("panic logged %d more times as a failed request", n)
	}

	// The server goes on serving.
	if rec := serve(s.Handler(), "GET", "/healthz", nil, nil); rec.Code != http.StatusOK {
		t.Fatalf("after a panic GET /healthz = %d", rec.Code)
	}
}

// A panic after the response has started cannot become an envelope; the
// server must still not crash.
func TestPanicAfterWrite(t *testing.T) {
	s, logs := newTestServer(t, Config{})
	s.V1().GET("/half", func(c *gin.Context) {
		c.String(http.StatusOK, "partial")
		panic("late")
	})
	rec := serve(s.Handler(), "GET", "/v1/half", nil, nil)
	if rec.Code != http.StatusOK || rec.Body.String() != "partial" {
		t.Fatalf("got %d %q, want the partial 200", rec.Code, rec.Body.String())
	}
	if len(logs.lines(t, "panic serving request")) != 1 {
		t.Fatalf("late panic not logged:\n%s", logs.String())
	}
}

func TestAbortHandlerPanicPropagates(t *testing.T) {
	s, _ := newTestServer(t, Config{})
	s.V1().GET("/abort", func(c *gin.Context) { panic(http.ErrAbortHandler) })
	defer func() {
		if v := recover(); v != http.ErrAbortHandler {
			t.Fatalf("recovered %v, want http.ErrAbortHandler to reach net/http", v)
		}
	}()
	serve(s.Handler(), "GET", "/v1/abort", nil, nil)
	t.Fatal("ErrAbortHandler was swallowed")
}
