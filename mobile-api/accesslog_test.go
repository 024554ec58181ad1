package mobileapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

func TestAccessLogFields(t *testing.T) {
	s, logs := newTestServer(t, Config{})
	s.V1().GET("/things/:id", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"id": c.Param("id")}) })

	h := http.Header{RequestIDHeader: {"req-1"}}
	serve(s.Handler(), "GET", "/v1/things/42", nil, h)

	recs := logs.lines(t, "http request")
	if len(recs) != 1 {
		t.Fatalf("got %d access log lines, want 1:\n%s", len(recs), logs.String())
	}
	r := recs[0]
	want := map[string]any{"method": "GET", "route": "/v1/things/:id", "status": float64(200), "request_id": "req-1", "client_ip": "192.0.2.1"}
	for k, v := range want {
		if r[k] != v {
			t.Errorf("access log %s = %v, want %v", k, r[k], v)
		}
	}
	if _, ok := r["duration"]; !ok {
		t.Errorf("access log lacks duration: %v", r)
	}
}

// The log must never hold credentials: not the Authorization header, not
// cookies, not query strings, not bodies, not the raw path.
func TestAccessLogOmitsSecrets(t *testing.T) {
	s, logs := newTestServer(t, Config{})
	s.V1().POST("/login/:token", func(c *gin.Context) {
		var req struct {
			Password string `json:"password"`
		}
		if !bindJSON(c, &req) {
			return
		}
		c.Status(http.StatusNoContent)
	})
	const secret = "s3cr3t-VALUE"
	h := http.Header{
		"Authorization": {"Bearer " + secret + "-auth"},
		"Cookie":        {"session=" + secret + "-cookie"},
		"Content-Type":  {"application/json"},
	}
	for _, target := range []string{
		"/v1/login/" + secret + "-path?token=" + secret + "-query&password=" + secret,
		"/v1/nope/" + secret + "-unmatched?password=" + secret,
	} {
		serve(s.Handler(), "POST", target, strings.NewReader(`{"password":"`+secret+`-body"}`), h)
		serve(s.Handler(), "POST", target, strings.NewReader(`{"password":"`+secret+`-body", "bad":1}`), h)
	}
	if got := logs.String(); strings.Contains(got, secret) {
		t.Fatalf("log contains a secret:\n%s", got)
	}
	if n := len(logs.lines(t, "http request")); n != 4 {
		t.Fatalf("got %d access log lines, want 4", n)
	}
}

func TestAccessLogErrorCode(t *testing.T) {
	s, logs := newTestServer(t, Config{})
	serve(s.Handler(), "GET", "/nope", nil, nil)
	recs := logs.lines(t, "http request")
	if len(recs) != 1 || recs[0]["error_code"] != "NOT_FOUND" || recs[0]["route"] != "unmatched" {
		t.Fatalf("access log of a 404 = %v, want error_code NOT_FOUND and route unmatched", recs)
	}
}
