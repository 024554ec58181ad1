package mobileapi

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// httpMetrics are the RED metrics of the API, labelled by route template
// (never the raw path, whose values are unbounded).
// The websockets (ws.go) are counted here too: how many are open, and
// how many ended, by why.
type httpMetrics struct {
	requests       *prometheus.CounterVec
	duration       *prometheus.HistogramVec
	sockets        prometheus.Gauge
	socketsClosed  *prometheus.CounterVec
	rateLimited    *prometheus.CounterVec
	socketsRefused *prometheus.CounterVec
}

// newMetrics makes the Server's own registry, so that two servers in one
// process (tests, mostly) never collide on the global one.
func newMetrics(cfg Config) (*prometheus.Registry, *httpMetrics) {
	reg := prometheus.NewRegistry()
	labels := []string{"method", "route", "status"}
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "paydesk",
			Name:      "http_requests_total",
			Help:      "HTTP requests served, by method, route template and status.",
		}, labels),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "paydesk",
			Name:      "http_request_duration_seconds",
			Help:      "Time to serve HTTP requests, by method, route template and status.",
			Buckets:   []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, labels),
		sockets: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "paydesk",
			Name:      "websockets_open",
			Help:      "Websockets (GET /v1/ws) open on this instance.",
		}),
		socketsClosed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "paydesk",
			Name:      "websockets_closed_total",
			Help:      "Websockets ended, by reason: slow_consumer, staff_disabled, token_expired, logged_out, server_closing, peer_closed, peer_timeout, write_failed, error.",
		}, []string{"reason"}),
		rateLimited: newRateLimitedCounter(),
		socketsRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "paydesk",
			Name:      "websockets_refused_total",
			Help:      "Websockets refused at the upgrade (429 TOO_MANY_SOCKETS), by the limit they met: token (per access token) or login (per login session).",
		}, []string{"limit"}),
	}
	for _, r := range socketEndReasons {
		m.socketsClosed.WithLabelValues(r)
	}
	for _, l := range []string{limitToken, limitLogin} {
		m.socketsRefused.WithLabelValues(l)
	}
	version := cfg.Version
	if version == "" {
		version = "unknown"
	}
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace:   "paydesk",
		Name:        "build_info",
		Help:        "Always 1; the version label says which build is running.",
		ConstLabels: prometheus.Labels{"version": version},
	})
	buildInfo.Set(1)
	reg.MustRegister(
		m.requests, m.duration, m.sockets, m.socketsClosed, m.rateLimited, m.socketsRefused, buildInfo,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	if cfg.DB != nil {
		reg.MustRegister(collectors.NewDBStatsCollector(cfg.DB.SQL(), "paydesk"))
	}
	reg.MustRegister(cfg.Collectors...)
	return reg, m
}

func (m *httpMetrics) middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		lv := []string{methodLabel(c.Request.Method), routeLabel(c), strconv.Itoa(c.Writer.Status())}
		m.requests.WithLabelValues(lv...).Inc()
		m.duration.WithLabelValues(lv...).Observe(time.Since(start).Seconds())
	}
}

// methodLabel folds methods nobody serves into one label value: the method
// is chosen by the client and must not grow the number of series.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
		http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}

// MetricsHandler serves the metrics, for a private listener
// (PAYDESK_DEBUG_ADDR): they tell an outsider the traffic, the pool's state
// and the build, so the public handler serves them only behind
// Config.MetricsToken.
func (s *Server) MetricsHandler() http.Handler { return s.metricsHandler() }

// metricsAuth lets through the requests bearing Config.MetricsToken, and
// answers the others as if /metrics did not exist.
func (s *Server) metricsAuth(c *gin.Context) {
	if subtle.ConstantTimeCompare([]byte(bearerToken(c)), []byte(s.cfg.MetricsToken)) != 1 {
		noRoute(c)
		c.Abort()
		return
	}
	c.Next()
}

func (s *Server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{
		Registry:      s.registry, // counts its own scrape errors
		ErrorHandling: promhttp.ContinueOnError,
	})
}
