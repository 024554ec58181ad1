package mobileapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

func TestMetrics(t *testing.T) {
	// Two servers in one process must not clash on a shared registry.
	s, _ := newTestServer(t, Config{Version: "v9.9.9"})
	other, _ := newTestServer(t, Config{})
	s.V1().GET("/things/:id", func(c *gin.Context) { c.Status(http.StatusNoContent) })

	for _, p := range []string{"/v1/things/1", "/v1/things/2", "/v1/things/3"} {
		serve(s.Handler(), "GET", p, nil, nil)
	}
	serve(s.Handler(), "GET", "/scanner/probe/1", nil, nil)
	serve(s.Handler(), "GET", "/scanner/probe/2", nil, nil)
	serve(s.Handler(), "BREW", "/healthz", nil, nil)
	serve(other.Handler(), "GET", "/healthz", nil, nil)

	rec := serve(s.MetricsHandler(), "GET", "/metrics", nil, nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics = %d", rec.Code)
	}
	body := rec.Body.String()
	for _, want := range []string{
		`paydesk_http_requests_total{method="GET",route="/v1/things/:id",status="204"} 3`,
		`paydesk_http_request_duration_seconds_bucket{method="GET",route="/v1/things/:id",status="204",le="+Inf"} 3`,
		`paydesk_http_requests_total{method="GET",route="unmatched",status="404"} 2`,
		`paydesk_http_requests_total{method="OTHER",route="unmatched",status="405"} 1`,
		`paydesk_build_info{version="v9.9.9"} 1`,
		// Every reason a socket ends is a series from the start.
		"paydesk_websockets_open 0",
		`paydesk_websockets_closed_total{reason="token_expired"} 0`,
		`paydesk_websockets_closed_total{reason="slow_consumer"} 0`,
		"go_goroutines",
		"process_resident_memory_bytes",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, "/scanner/probe") {
		t.Errorf("/metrics holds a raw path")
	}
	if strings.Contains(body, `route="/healthz"`) {
		t.Errorf("the other server's request was counted here")
	}
}
