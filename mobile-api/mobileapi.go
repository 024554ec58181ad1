// Package mobileapi is the HTTP API the merchant and wallet apps talk to:
// gin routes under /v1, request and response types, the error → HTTP status
// table, the middleware every request passes (request id, access log,
// metrics, panic recovery), the health endpoints and the OpenAPI document.
//
// Handlers are thin: decode (bindJSON), call one service method, encode or
// writeError. Everything a handler needs arrives through Config.
package mobileapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/apikey"
	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/checkout"
	"github.com/paydesk/paydesk/merchant"
	"github.com/paydesk/paydesk/mobile-api/codepng"
	"github.com/paydesk/paydesk/pos"
	"github.com/paydesk/paydesk/push"
	"github.com/paydesk/paydesk/rbac"
	"github.com/paydesk/paydesk/sandbox"
	"github.com/paydesk/paydesk/settlement"
	"github.com/paydesk/paydesk/sms"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/throttle"
	"github.com/paydesk/paydesk/wallet"
	"github.com/paydesk/paydesk/webhook"
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

	// Merchants carries out what staff do with their merchant and stores.
	Merchants *merchant.Service
	// Staff carries out staff sign-in and management; Merchants.Staff()
	// if nil.
	Staff *cashier.Service
	// Tokens issues and checks access and refresh tokens.
	Tokens *rbac.Tokens
	// Enforcer decides which role may call which route.
	Enforcer *rbac.Enforcer
	// OnStaffDisabled hooks run after a staff member's disable has
	// committed (the websocket hub closes their sockets on this instance at
	// once; the staff.disabled event closes them everywhere).
	OnStaffDisabled []func(merchantID, staffID int64)
	// Push delivers events to the websocket at /v1/ws; nil answers 503 there.
	Push *push.Hub
	// Sockets bound the websockets per access token and per login (ws_limits.go).
	Sockets SocketLimits

	// Wallets carries out what customers do with their wallets.
	Wallets *wallet.Service
	// POS takes payments and keeps the orders.
	POS *pos.Service
	// Idempotency stores the answers of money-moving requests by their
	// Idempotency-Key; nil refuses requests that send one.
	Idempotency *storage.IdempotencyKeys
	// IdempotencyWait bounds how long a duplicate request waits for the
	// first with its key to finish on this instance (default 5 s).
	IdempotencyWait time.Duration
	// Clock tells the time (the system clock if nil).
	Clock paydesk.Clock
	// Settlement answers balances, settlements, withdrawals, statements
	// and the bank's payout callbacks.
	Settlement *settlement.Service
	// Stats, Members and Tickets are what comes after a payment: today's
	// data, the merchant's members, and ticket check (orders_query.go).
	Stats   *pos.Stats
	Members *pos.Members
	Tickets *pos.Tickets
	// APIKeys creates, revokes and recognises the API keys of merchants'
	// own systems; nil refuses every key.
	APIKeys *apikey.Service
	// Webhooks manages the merchants' webhook endpoints; nil answers 503.
	Webhooks *webhook.Service
	// Checkout creates hosted checkout sessions; nil answers 503.
	Checkout *checkout.Service
	// Sandbox is test mode: test API keys act on it; nil refuses them
	// (403 TEST_MODE_UNAVAILABLE).
	Sandbox *sandbox.Service
	// Collectors are more metrics served at /metrics (NewServer adds the
	// ledger poster's).
	Collectors []prometheus.Collector

	// Phones sends and checks the one-time codes that prove a caller holds
	// the phone they register a wallet for; nil registers without one.
	Phones *sms.Confirmer
	// DevCodes, in dev mode only, returns the last code sent to a phone,
	// answered as dev_code so the apps' tests can register.
	DevCodes func(phone string) string

	// TrustedProxies are the addresses (CIDRs or IPs) of the load balancers
	// in front of the server, whose X-Forwarded-For is believed; empty
	// believes none, and the client IP is the peer address. Behind a proxy
	// that is not listed every client shares the proxy's address, and so
	// its rate limits.
	TrustedProxies []string
	// Limiter holds the token buckets of the per-route-class rate limits
	// (ratelimit.go); nil limits nothing.
	Limiter throttle.Limiter
	// MetricsToken, when not empty, serves /metrics on the public handler
	// to requests bearing it (Authorization: Bearer); when empty /metrics
	// is not on the public handler at all, only on MetricsHandler.
	MetricsToken string
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
	running  runningKeys
	sockets  socketCounts

	// The hot path's services behind interfaces, so that its benchmark
	// (bench_test.go) runs the handlers, JSON and JWT without a database:
	// cfg.POS and cfg.Staff unless a test puts fakes here.
	scanPayments scanPayer
	staff        staffReader
}

// scanPayer takes scan-code payments (*pos.Service).
type scanPayer interface {
	TakeScanPayment(ctx context.Context, a cashier.Actor, req pos.ScanPayment) (pos.Order, error)
}

// staffReader reads the staff row behind a token (*cashier.Service).
type staffReader interface {
	ByID(ctx context.Context, id int64) (cashier.Staff, error)
}

// New builds the API with every route registered. Routes must not be added
// once Handler has started serving: gin's router is not safe for that.
func New(cfg Config) *Server {
	cfg.TrustedProxies = append([]string(nil), cfg.TrustedProxies...)
	// Release mode silences gin's debug printing of every route at start-up;
	// the mode is process-wide, and stored atomically by gin.
	gin.SetMode(gin.ReleaseMode)

	if cfg.Clock == nil {
		cfg.Clock = paydesk.SystemClock
	}
	if cfg.Staff == nil && cfg.Merchants != nil {
		cfg.Staff = cfg.Merchants.Staff()
	}
	s := &Server{cfg: cfg, log: cfg.Logger}
	if cfg.POS != nil {
		s.scanPayments = cfg.POS
	}
	if cfg.Staff != nil {
		s.staff = cfg.Staff
	}
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
	// X-Forwarded-For from the internet is not believed. cmd/paydesk has
	// checked the list; a bad entry here believes no proxy.
	if err := e.SetTrustedProxies(cfg.TrustedProxies); err != nil || len(cfg.TrustedProxies) == 0 {
		if err != nil {
			s.log.Error("trusted proxies refused; believing none", "error", err)
		}
		_ = e.SetTrustedProxies(nil)
	}

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
	if s.cfg.MetricsToken != "" {
		s.engine.GET("/metrics", s.metricsAuth, gin.WrapH(s.metricsHandler()))
	}
	s.v1.GET("/openapi.json", serveOpenAPI)

	// Public: the ways to get a token.
	s.v1.POST("/auth/login", s.limit(classLogin), s.login)
	s.v1.POST("/auth/refresh", s.limit(classLogin), s.refresh)

	// Everything else needs a token and the policy's permission.
	auth := s.v1.Group("", s.authenticate)
	auth.POST("/auth/logout", s.logout)
	auth.GET("/staff", s.listStaff)
	auth.POST("/staff", s.addStaff)
	auth.POST("/staff/:id/disable", s.disableStaff)
	auth.POST("/staff/:id/enable", s.enableStaff)
	auth.POST("/staff/:id/reset-password", s.resetPassword)
	auth.GET("/me", s.me)
	auth.POST("/me/password", s.changePassword)
	auth.GET("/stores", s.listStores)
	auth.POST("/stores", s.addStore)
	auth.PATCH("/stores/:id", s.updateStore)

	// The cashier's ways to get paid, and the orders they make. Every
	// money-moving POST takes an Idempotency-Key (s.idempotent).
	auth.POST("/payments/scan", s.limit(classPayment), s.idempotent, s.scanPayment)
	auth.POST("/payments/qr", s.limit(classPayment), s.idempotent, s.collectionQR)
	auth.POST("/payments/dynamic-password", s.limit(classPayment), s.idempotent, s.dynamicPasswordPayment)
	auth.POST("/payment-links", s.limit(classPayment), s.idempotent, s.paymentLink)
	auth.GET("/orders/:id", s.getOrder)
	auth.GET("/orders/:id/qr.png", qrOf(s.orderQR))
	auth.POST("/orders/:id/close", s.idempotent, s.closeOrder)
	auth.GET("/stores/:id/qr.png", qrOf(s.storeQR))

	// The wallet app.
	s.v1.POST("/wallet/register/code", s.limit(classRegister), s.registerCode)
	s.v1.POST("/wallet/register", s.limit(classRegister), s.registerWallet)
	s.v1.POST("/wallet/login", s.limit(classLogin), s.walletLogin)
	auth.POST("/wallet/logout", s.logout)
	auth.GET("/wallet", s.getWallet)
	auth.POST("/wallet/cards", s.bindCard)
	auth.POST("/wallet/topups", s.idempotent, s.topUp)
	auth.GET("/wallet/transactions", s.transactions)
	auth.GET("/wallet/payment-code", s.paymentCode)
	auth.GET("/wallet/payment-code/barcode.png", s.paymentCodePicture(codepng.Barcode))
	auth.GET("/wallet/payment-code/qr.png", s.paymentCodePicture(codepng.QR))
	auth.POST("/wallet/payment-code/key", s.provisionPaymentCodeKey)
	auth.GET("/wallet/dynamic-password", s.dynamicPassword)
	auth.POST("/wallet/scan", s.limit(classScan), s.scanQR)
	auth.POST("/wallet/pay", s.limit(classPayment), s.idempotent, s.pay)
	auth.POST("/wallet/payments/:id/confirm", s.idempotent, s.confirmPayment)
	auth.POST("/wallet/payments/:id/decline", s.idempotent, s.declinePayment)
	s.v1.GET("/ws", s.wsToken, s.authenticate, s.websocket) // real-time push (ws.go)
	// Merchants' own systems: API keys (apikeys.go).
	auth.POST("/api-keys", s.createAPIKey)
	auth.GET("/api-keys", s.listAPIKeys)
	auth.POST("/api-keys/:id/revoke", s.revokeAPIKey)
	s.webhookRoutes(auth)      // webhook endpoints and their delivery logs (webhooks.go)
	s.checkoutRoutes(auth)     // hosted checkout sessions and their page (checkout.go)
	s.settlementRoutes(auth)   // balance, settlements, withdrawals, statements, bank callbacks (settlements.go)
	s.afterPaymentRoutes(auth) // order lists, voids, refunds, today's data, members, tickets (orders_query.go)

	// The pages a payment link or a scanned QR opens in the customer's browser.
	s.engine.GET("/p/s/:token", s.limit(classLinkPage), s.payPage(pos.PayloadStore))
}

// now is the API's clock.
func (s *Server) now() time.Time { return s.cfg.Clock() }

// publicRoutes are served without a token; every other /v1 route passes
// authenticate and the casbin policy.
var publicRoutes = map[string]bool{
	"GET /healthz": true, "GET /readyz": true, "GET /metrics": true, "GET /v1/openapi.json": true,
	"POST /v1/auth/login": true, "POST /v1/auth/refresh": true,
	"POST /v1/wallet/register": true, "POST /v1/wallet/register/code": true, "POST /v1/wallet/login": true,
	"GET /p/o/:token": true, "GET /p/s/:token": true,
	"POST /p/o/:token/pay": true, "POST /p/o/:token/test-pay": true,
	"GET /checkout/:token": true, "POST /checkout/:token/pay": true, "POST /checkout/:token/test-pay": true, // the customer's, by the session's token
	"POST /v1/bank/callbacks": true, // signed by the bank instead
}

// Handler returns the http.Handler to serve.
func (s *Server) Handler() http.Handler { return s.engine }

// V1 returns the /v1 route group, for routes registered before serving.
func (s *Server) V1() *gin.RouterGroup { return s.v1 }

// Registry returns the Prometheus registry served at /metrics, so services
// can register their own collectors next to the HTTP ones.
func (s *Server) Registry() *prometheus.Registry { return s.registry }
