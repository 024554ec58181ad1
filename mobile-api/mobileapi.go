// Package mobileapi is the HTTP API the merchant and wallet apps talk to:
// gin routes under /v1, request and response types, the error → HTTP status
// table, the middleware every request passes (request id, access log,
// metrics, panic recovery), the health endpoints and the OpenAPI document.
//
// Handlers are thin: decode (bindJSON), call one service method, encode or
// writeError. Everything a handler needs arrives through Config.
package mobileapi

import (
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/paydesk/paydesk/merchant"
	"github.com/paydesk/paydesk/rbac"
	"github.com/paydesk/paydesk/storage"
)

// Config is what the API is built from. Later work adds the domain services
// here; New wires them to routes.
type Config struct {
	// DB backs /readyz and the connection-pool metrics. Nil makes /readyz
	// answer 503, which is what a server without a database is.
	DB *storage.DB
	// Logger receives the access log and every internal error. Nil discards.
	Logger *slog.Logger
	// Version is reported in the paydesk_build_info metric.
	Version string

	// Merchants carries out staff log-in and management.
	Merchants *merchant.Service
	// Tokens issues and checks access and refresh tokens.
	Tokens *rbac.Tokens
	// Enforcer decides which role may call which route.
	Enforcer *rbac.Enforcer
	// OnStaffDisabled hooks run after a staff member is disabled (the
	// websocket hub closes their sockets).
	OnStaffDisabled []func(merchantID, staffID int64)
}

// Server is the API: a gin engine with the common middleware and routes,
// and the Prometheus registry its metrics live in.
type Server struct {
	cfg      Config
	log      *slog.Logger
	engine   *gin.Engine
	v1       *gin.RouterGroup
	registry *prometheus.Registry
	metrics  *httpMetrics
}

// New builds the API with every route registered. Routes must not be added
// once Handler has started serving: gin's router is not safe for that.
func New(cfg Config) *Server {
	// Release mode silences gin's debug printing of every route at start-up;
	// the mode is process-wide, and stored atomically by gin.
	gin.SetMode(gin.ReleaseMode)

	s := &Server{cfg: cfg, log: cfg.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.registry, s.metrics = newMetrics(cfg)

	e := gin.New()
	// Unknown paths and wrong methods answer the JSON error envelope. A
	// redirect to a "fixed" path would be an unexplained 301/307 to a
	// mobile client, so those are off and such paths are plain 404s.
	e.HandleMethodNotAllowed = true
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	// Handlers may pass the *gin.Context on as a context.Context; with the
	// fallback its deadline and cancellation are the request's.
	e.ContextWithFallback = true
	// Without trusted proxies the client IP is the peer address; an
	// X-Forwarded-For from the internet is not believed. SetTrustedProxies
	// cannot fail for nil.
	_ = e.SetTrustedProxies(nil)

	// Order matters: the request id comes first so everything after can log
	// it; the log and metrics wrap recovery so a panic is seen as a 500.
	e.Use(requestID(s.log), accessLog(), s.metrics.middleware(), recovery())
	e.NoRoute(noRoute)
	e.NoMethod(noMethod)
	s.engine = e
	s.v1 = e.Group("/v1")
	s.routes()
	return s
}

// routes registers every endpoint. New work adds its registration here, so
// that one place shows the whole API surface (and the OpenAPI test sees it).
func (s *Server) routes() {
	s.engine.GET("/healthz", s.healthz)
	s.engine.GET("/readyz", s.readyz)
	s.engine.GET("/metrics", gin.WrapH(s.metricsHandler()))
	s.v1.GET("/openapi.json", serveOpenAPI)

	// Public: the ways to get a token.
	s.v1.POST("/auth/login", s.login)
	s.v1.POST("/auth/refresh", s.refresh)

	// Everything else needs a token and the policy's permission.
	auth := s.v1.Group("", s.authenticate)
	auth.POST("/auth/logout", s.logout)
	auth.GET("/staff", s.listStaff)
	auth.POST("/staff", s.addStaff)
	auth.POST("/staff/:id/disable", s.disableStaff)
	auth.POST("/staff/:id/enable", s.enableStaff)
	auth.POST("/staff/:id/reset-password", s.resetPassword)
}

// publicRoutes are served without a token; every other /v1 route passes
// authenticate and the casbin policy.
var publicRoutes = map[string]bool{
	"GET /healthz": true, "GET /readyz": true, "GET /metrics": true, "GET /v1/openapi.json": true,
	"POST /v1/auth/login": true, "POST /v1/auth/refresh": true,
}

// Handler returns the http.Handler to serve.
func (s *Server) Handler() http.Handler { return s.engine }

// V1 returns the /v1 route group, for routes registered before serving.
func (s *Server) V1() *gin.RouterGroup { return s.v1 }

// Registry returns the Prometheus registry served at /metrics, so services
// can register their own collectors next to the HTTP ones.
func (s *Server) Registry() *prometheus.Registry { return s.registry }
