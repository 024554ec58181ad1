package mobileapi

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/apikey"
	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/merchant"
	"github.com/paydesk/paydesk/rbac"
)

// ctxPrincipal is where the authentication middleware leaves the caller.
const ctxPrincipal = "paydesk.principal"

// bearerToken returns the token of an "Authorization: Bearer …" header.
func bearerToken(c *gin.Context) string {
	h := c.GetHeader("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// authenticate checks the access token, then, for staff, reads the staff
// row on every request: a token is short-lived, but a disabled cashier must
// be refused at once, and a changed role or store must apply at once. The
// row comes from cashier's read cache, which the change itself empties on
// this instance and its outbox event (or at the latest the cache's TTL)
// on the others. Last it asks casbin whether the caller's role may call
// this route.
func (s *Server) authenticate(c *gin.Context) {
	tok := bearerToken(c)
	if tok == "" {
		writeError(c, paydesk.ErrUnauthorized.WithMessage("send the access token as Authorization: Bearer <token>"))
		return
	}
	if apikey.IsKey(tok) {
		s.authenticateKey(c, tok) // apikeys.go
		return
	}
	p, err := s.cfg.Tokens.Verify(tok)
	if err != nil {
		writeError(c, err)
		return
	}
	if p.Kind == rbac.KindStaff {
		// Services get c.Request.Context(), never c itself: gin puts c back
		// in its pool for the next request when the handler returns, while
		// database/sql may still be watching the context it was handed
		// (a data race under -race, and a wrong cancellation without it).
		st, err := s.staff.ByID(c.Request.Context(), p.ID)
		switch {
		case err != nil && paydesk.AsError(err).Kind == paydesk.KindNotFound:
			writeError(c, rbac.ErrTokenInvalid)
			return
		case err != nil:
			writeError(c, err)
			return
		case st.Status != merchant.Active:
			// 401, not the sign-in's 403: the token no longer authenticates.
			writeError(c, withStatus(http.StatusUnauthorized, cashier.ErrStaffDisabled.WithMessage("this account has been disabled")))
			return
		}
		p.MerchantID, p.StoreID, p.Role = st.MerchantID, st.StoreID, st.Role
	}
	if !s.cfg.Enforcer.Allowed(p.Role, c.FullPath(), c.Request.Method) {
		writeError(c, paydesk.ErrForbidden.WithMessage("%s may not call %s %s", withArticle(string(p.Role)), c.Request.Method, documentedPath(c.FullPath())))
		return
	}
	c.Set(ctxPrincipal, p)
	c.Next()
}

// principal returns the authenticated caller.
func principal(c *gin.Context) rbac.Principal {
	p, _ := c.Get(ctxPrincipal)
	pr, _ := p.(rbac.Principal)
	return pr
}

// actor returns the authenticated staff member as the staff domain's Actor (cashier.Actor).
func actor(c *gin.Context) cashier.Actor {
	p := principal(c)
	if p.Kind == rbac.KindAPIKey {
		return apikey.ActorFor(p.MerchantID, p.StoreID, c.ClientIP())
	}
	return cashier.Actor{StaffID: p.ID, MerchantID: p.MerchantID, StoreID: p.StoreID, Role: p.Role, IP: c.ClientIP()}
}

// withArticle is "a cashier", "an owner".
func withArticle(noun string) string {
	if noun != "" && strings.ContainsRune("aeiou", rune(noun[0])) {
		return "an " + noun
	}
	return "a " + noun
}

// documentedPath writes a gin route template as the OpenAPI document does:
// /v1/orders/:id is /v1/orders/{id}.
func documentedPath(route string) string {
	parts := strings.Split(route, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, ":") || strings.HasPrefix(p, "*") {
			parts[i] = "{" + p[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}
