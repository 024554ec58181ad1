package mobileapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/push"
	"github.com/paydesk/paydesk/rbac"
	"github.com/paydesk/paydesk/webhook"
)

// The owner's webhook endpoints and their delivery logs (package webhook).
// The deliveries themselves go out from the webhook.Dispatcher that
// cmd/paydesk runs on every instance.

func (s *Server) webhookRoutes(auth *gin.RouterGroup) {
	auth.POST("/webhook-endpoints", s.createWebhookEndpoint)
	auth.GET("/webhook-endpoints", s.listWebhookEndpoints)
	auth.POST("/webhook-endpoints/:id/disable", s.disableWebhookEndpoint)
	auth.GET("/webhook-endpoints/:id/deliveries", s.listWebhookDeliveries)
	auth.POST("/webhook-deliveries/:id/redeliver", s.redeliverWebhook)
}

type webhookEndpointJSON struct {
	ID         int64      `json:"id"`
	URL        string     `json:"url"`
	Events     []string   `json:"events"`
	CreatedAt  time.Time  `json:"created_at"`
	DisabledAt *time.Time `json:"disabled_at"`
	// Secret signs the deliveries; in the answer that creates the endpoint only.
	Secret string `json:"secret,omitempty"`
}

func webhookEndpointView(e webhook.Endpoint) webhookEndpointJSON {
	out := webhookEndpointJSON{ID: e.ID, URL: e.URL, Events: make([]string, len(e.Events)), CreatedAt: e.CreatedAt.UTC(), DisabledAt: e.DisabledAt}
	for i, t := range e.Events {
		out.Events[i] = string(t)
	}
	return out
}

type webhookDeliveryJSON struct {
	ID            int64           `json:"id"`
	EndpointID    int64           `json:"endpoint_id"`
	EventID       int64           `json:"event_id"`
	EventType     string          `json:"event_type"`
	State         string          `json:"state"`
	Attempts      int             `json:"attempts"`
	NextAttemptAt *time.Time      `json:"next_attempt_at"`
	LastStatus    *int            `json:"last_status"`
	LastError     *string         `json:"last_error"`
	DeliveredAt   *time.Time      `json:"delivered_at"`
	CreatedAt     time.Time       `json:"created_at"`
	Payload       json.RawMessage `json:"payload"`
}

func webhookDeliveryView(d webhook.Delivery) webhookDeliveryJSON {
	out := webhookDeliveryJSON{ID: d.ID, EndpointID: d.EndpointID, EventID: d.EventID, EventType: string(d.EventType), State: string(d.State),
		Attempts: d.Attempts, DeliveredAt: d.DeliveredAt, CreatedAt: d.CreatedAt.UTC(), Payload: json.RawMessage(d.Payload)}
	if d.State == webhook.Pending {
		at := d.NextAttemptAt.UTC()
		out.NextAttemptAt = &at
	}
	if d.LastStatus != 0 {
		out.LastStatus = &d.LastStatus
	}
	if d.LastError != "" {
		out.LastError = &d.LastError
	}
	return out
}

type createWebhookEndpointRequest struct {
	URL    string   `json:"url"`
	Events []string `json:"events"`
	// Mode "test" makes an endpoint of the merchant's sandbox, which
	// receives what test keys do (package sandbox); "" or "live": live.
	Mode string `json:"mode"`
}

// hookActor is the owner acting on the live merchant's webhooks, or on
// its sandbox's when mode is "test" (the body's mode on create, ?mode=
// elsewhere). Endpoints, deliveries and their ids are per merchant, so a
// live id is not found in test mode and a test id not in live mode.
func (s *Server) hookActor(c *gin.Context, mode string) (cashier.Actor, bool) {
	a := actor(c)
	switch mode {
	case "", "live":
		return a, true
	case "test":
		if s.cfg.Sandbox == nil {
			writeError(c, ErrTestModeUnavailable)
			return a, false
		}
		if a.Role != rbac.Owner {
			writeError(c, paydesk.ErrForbidden.WithMessage("only an owner manages webhooks"))
			return a, false
		}
		sb, err := s.cfg.Sandbox.For(c.Request.Context(), a.MerchantID)
		if err != nil {
			writeError(c, err)
			return a, false
		}
		a.MerchantID, a.StoreID = sb.ID, 0
		return a, true
	}
	writeError(c, paydesk.ErrInvalid.WithMessage("mode must be live or test"))
	return a, false
}

func (s *Server) webhooksConfigured(c *gin.Context) bool {
	if s.cfg.Webhooks == nil {
		writeError(c, paydesk.ErrUnavailable.WithMessage("webhooks are not configured on this server"))
		return false
	}
	return true
}

// createWebhookEndpoint is POST /v1/webhook-endpoints: the secret is in
// the answer, once.
func (s *Server) createWebhookEndpoint(c *gin.Context) {
	if !s.webhooksConfigured(c) {
		return
	}
	var req createWebhookEndpointRequest
	if !bindJSON(c, &req) {
		return
	}
	types := make([]push.Type, len(req.Events))
	for i, t := range req.Events {
		types[i] = push.Type(t)
	}
	a, ok := s.hookActor(c, req.Mode)
	if !ok {
		return
	}
	e, err := s.cfg.Webhooks.CreateEndpoint(c.Request.Context(), a, webhook.NewEndpoint{URL: req.URL, Events: types})
	if err != nil {
		writeError(c, err)
		return
	}
	out := webhookEndpointView(e)
	out.Secret = e.Secret
	c.Header("Cache-Control", "no-store")
	c.Header("Location", "/v1/webhook-endpoints/"+strconv.FormatInt(e.ID, 10))
	c.JSON(http.StatusCreated, out)
}

// listWebhookEndpoints is GET /v1/webhook-endpoints: one page, newest first.
func (s *Server) listWebhookEndpoints(c *gin.Context) {
	if !s.webhooksConfigured(c) {
		return
	}
	a, ok := s.hookActor(c, c.Query("mode"))
	if !ok {
		return
	}
	eps, err := s.cfg.Webhooks.Endpoints(c.Request.Context(), a)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, pageOf(eps, webhookEndpointView, int64(0)))
}

// disableWebhookEndpoint is POST /v1/webhook-endpoints/:id/disable.
func (s *Server) disableWebhookEndpoint(c *gin.Context) {
	if !s.webhooksConfigured(c) {
		return
	}
	id, ok := pathID(c)
	if !ok {
		return
	}
	a, ok := s.hookActor(c, c.Query("mode"))
	if !ok {
		return
	}
	e, err := s.cfg.Webhooks.DisableEndpoint(c.Request.Context(), a, id)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, webhookEndpointView(e))
}

// listWebhookDeliveries is GET /v1/webhook-endpoints/:id/deliveries: the
// delivery log, newest first, ?limit= (1-200, 50) at a time, continued
// with ?cursor=.
func (s *Server) listWebhookDeliveries(c *gin.Context) {
	if !s.webhooksConfigured(c) {
		return
	}
	id, ok := pathID(c)
	if !ok {
		return
	}
	limit, err := parseBoundedInt(c.Query("limit"), "limit", 50, 1, 200)
	if err != nil {
		writeError(c, err)
		return
	}
	before, err := parseBoundedInt(c.Query("cursor"), "cursor", 0, 1, 1<<62)
	if err != nil {
		writeError(c, err)
		return
	}
	a, ok := s.hookActor(c, c.Query("mode"))
	if !ok {
		return
	}
	ds, next, err := s.cfg.Webhooks.Deliveries(c.Request.Context(), a, id, before, int(limit))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, pageOf(ds, webhookDeliveryView, next))
}

// redeliverWebhook is POST /v1/webhook-deliveries/:id/redeliver: the
// delivery is sent again as soon as a dispatcher gets to it.
func (s *Server) redeliverWebhook(c *gin.Context) {
	if !s.webhooksConfigured(c) {
		return
	}
	id, ok := pathID(c)
	if !ok {
		return
	}
	a, ok := s.hookActor(c, c.Query("mode"))
	if !ok {
		return
	}
	d, err := s.cfg.Webhooks.Redeliver(c.Request.Context(), a, id)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusAccepted, webhookDeliveryView(d))
}
