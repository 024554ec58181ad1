package mobileapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/apikey"
	"github.com/paydesk/paydesk/rbac"
)

// The owner's API keys (apikey package): a merchant's own systems call the
// same routes as its staff, with "Authorization: Bearer pdk_live_...",
// through the same services and the same casbin policy, the key's scopes
// standing for a role.

type apiKeyJSON struct {
	ID        int64      `json:"id"`
	Name      string     `json:"name"`
	Kind      string     `json:"kind"`
	Prefix    string     `json:"prefix"`
	StoreID   *int64     `json:"store_id"`
	Scopes    []string   `json:"scopes"`
	CreatedBy int64      `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at"`
	// Key is the secret itself, in the answer that creates it only.
	Key string `json:"key,omitempty"`
}

func apiKeyView(k apikey.Key) apiKeyJSON {
	out := apiKeyJSON{ID: k.ID, Name: k.Name, Kind: string(k.Kind), Prefix: k.Prefix, Scopes: make([]string, len(k.Scopes)),
		CreatedBy: k.CreatedBy, CreatedAt: k.CreatedAt.UTC(), RevokedAt: k.RevokedAt}
	if k.StoreID != 0 {
		out.StoreID = &k.StoreID
	}
	for i, sc := range k.Scopes {
		out.Scopes[i] = string(sc)
	}
	return out
}

type createAPIKeyRequest struct {
	Name    string   `json:"name"`
	Kind    string   `json:"kind"`
	StoreID int64    `json:"store_id"`
	Scopes  []string `json:"scopes"`
}

// createAPIKey is POST /v1/api-keys: the key is in the answer, once.
func (s *Server) createAPIKey(c *gin.Context) {
	if s.cfg.APIKeys == nil {
		writeError(c, paydesk.ErrUnavailable.WithMessage("API keys are not configured on this server"))
		return
	}
	var req createAPIKeyRequest
	if !bindJSON(c, &req) {
		return
	}
	scopes := make([]apikey.Scope, len(req.Scopes))
	for i, sc := range req.Scopes {
		scopes[i] = apikey.Scope(sc)
	}
	k, secret, err := s.cfg.APIKeys.Create(c.Request.Context(), actor(c), apikey.NewKey{Name: req.Name, Kind: apikey.Kind(req.Kind),
		StoreID: req.StoreID, Scopes: scopes})
	if err != nil {
		writeError(c, err)
		return
	}
	out := apiKeyView(k)
	out.Key = secret
	// The secret must not sit in a cache between here and the owner.
	c.Header("Cache-Control", "no-store")
	c.Header("Location", "/v1/api-keys/"+strconv.FormatInt(k.ID, 10))
	c.JSON(http.StatusCreated, out)
}

// listAPIKeys is GET /v1/api-keys: every key of the merchant, revoked ones
// too, newest first, without their secrets. A merchant has a handful of
// keys, so the list is one page (next_cursor null).
func (s *Server) listAPIKeys(c *gin.Context) {
	if s.cfg.APIKeys == nil {
		writeError(c, paydesk.ErrUnavailable.WithMessage("API keys are not configured on this server"))
		return
	}
	keys, err := s.cfg.APIKeys.List(c.Request.Context(), actor(c))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, pageOf(keys, apiKeyView, int64(0)))
}

// revokeAPIKey is POST /v1/api-keys/:id/revoke: the next request with the
// key is refused (401 API_KEY_REVOKED).
func (s *Server) revokeAPIKey(c *gin.Context) {
	if s.cfg.APIKeys == nil {
		writeError(c, paydesk.ErrUnavailable.WithMessage("API keys are not configured on this server"))
		return
	}
	id, ok := pathID(c)
	if !ok {
		return
	}
	k, err := s.cfg.APIKeys.Revoke(c.Request.Context(), actor(c), id)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, apiKeyView(k))
}

// authenticateKey is authenticate for a request that presents an API key:
// the key is read from the database on every request (a revoked key is
// refused at once), and casbin is asked about each of its scopes.
func (s *Server) authenticateKey(c *gin.Context, secret string) {
	if s.cfg.APIKeys == nil {
		writeError(c, apikey.ErrKeyInvalid)
		return
	}
	k, err := s.cfg.APIKeys.Authenticate(c.Request.Context(), secret)
	if err != nil {
		writeError(c, err)
		return
	}
	p := rbac.Principal{Kind: rbac.KindAPIKey, ID: k.ID, MerchantID: k.MerchantID, StoreID: k.StoreID, Role: rbac.APIKey}
	if k.Kind == apikey.Test {
		// A test key acts for the merchant's sandbox (package sandbox):
		// another merchant, so it never sees or touches a live order.
		if s.cfg.Sandbox == nil {
			writeError(c, ErrTestModeUnavailable)
			return
		}
		sb, err := s.cfg.Sandbox.For(c.Request.Context(), k.MerchantID)
		if err != nil {
			writeError(c, err)
			return
		}
		p.MerchantID, p.StoreID = sb.ID, 0
	}
	subjects := make([]rbac.Role, len(k.Scopes))
	for i, sc := range k.Scopes {
		subjects[i] = rbac.ScopeSubject(string(sc))
	}
	if !s.cfg.Enforcer.AllowedAny(subjects, c.FullPath(), c.Request.Method) {
		writeError(c, paydesk.ErrForbidden.WithMessage("this API key's scopes do not include %s %s", c.Request.Method, c.FullPath()))
		return
	}
	c.Set(ctxPrincipal, p)
	c.Next()
}

// ErrTestModeUnavailable answers a test key on a server without test mode
// (no sandbox configured): a test key must never act on live money.
var ErrTestModeUnavailable = &paydesk.Error{Kind: paydesk.KindForbidden, Code: "TEST_MODE_UNAVAILABLE",
	Message: "test mode is not available on this server"}
