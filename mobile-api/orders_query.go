package mobileapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/pos"
)

// afterPaymentRoutes registers what happens after a payment (SPEC §4): the
// order list, voids, refunds, today's data, members and ticket check. Each
// handler passes the caller's identity to a service, which scopes the
// answer to it; the casbin policy decides who may call each route.
func (s *Server) afterPaymentRoutes(auth *gin.RouterGroup) {
	auth.GET("/orders", s.listOrders)                              // orders_query.go
	auth.POST("/orders/:id/void", s.idempotent, s.voidOrder)       // orders_query.go
	auth.POST("/orders/:id/refunds", s.idempotent, s.refund)       // refunds.go
	auth.GET("/orders/:id/refunds", s.listRefunds)                 // refunds.go
	auth.GET("/stats/today", s.statsToday)                         // stats.go
	auth.GET("/stats/daily", s.statsDaily)                         // stats.go
	auth.GET("/members", s.listMembers)                            // members.go
	auth.POST("/tickets", s.issueTicket)                           // tickets.go
	auth.GET("/tickets", s.listTickets)                            // tickets.go
	auth.POST("/tickets/redeem", s.redeemTicket)                   // tickets.go
	auth.GET("/wallet/tickets", s.walletTickets)                   // tickets.go
	auth.GET("/wallet/tickets/:id", s.walletTicket)                // tickets.go
	auth.GET("/wallet/tickets/:id/qr.png", qrOf(s.walletTicketQR)) // tickets.go
}

// listOrders is GET /v1/orders: the orders in the caller's scope (a
// cashier's own, a manager's store's, an owner's merchant's), newest first,
// filtered by ?from=&to= (RFC 3339, created_at in [from, to)), ?state=,
// ?method=, ?kind=, ?cashier_id=, ?store_id= and ?out_trade_no=, a page of
// ?limit= at a time, continued with ?cursor=.
func (s *Server) listOrders(c *gin.Context) {
	f, ok := orderFilter(c)
	if !ok {
		return
	}
	page, err := s.cfg.POS.ListOrders(c.Request.Context(), actor(c), f)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, pageOf(page.Orders, s.orderView, page.Next))
}

// orderFilter reads the query of GET /v1/orders; on failure it has answered 400.
func orderFilter(c *gin.Context) (pos.OrderFilter, bool) {
	bad := func(format string, args ...any) (pos.OrderFilter, bool) {
		writeError(c, ErrInvalidQuery.WithMessage(format, args...))
		return pos.OrderFilter{}, false
	}
	var f pos.OrderFilter
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := c.Query(t.name); v != "" {
			at, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return bad("%s must be an RFC 3339 time", t.name)
			}
			*t.dst = at
		}
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return bad("from must be before to")
	}
	f.State = pos.State(c.Query("state"))
	switch f.State {
	case "", pos.Created, pos.Paying, pos.Paid, pos.Closed, pos.PartiallyRefunded, pos.Refunded, pos.Revoked:
	default:
		return bad("state %q is not an order state", truncate(string(f.State), 32))
	}
	f.Method = pos.Method(c.Query("method"))
	switch f.Method {
	case "", pos.MethodScan, pos.MethodQR, pos.MethodDynamicPassword, pos.MethodStoreQR, pos.MethodLink, pos.MethodInstallment:
	default:
		return bad("method %q is not a payment method", truncate(string(f.Method), 32))
	}
	f.Kind = pos.Kind(c.Query("kind"))
	switch f.Kind {
	case "", pos.KindPOS, pos.KindInstallment:
	default:
		return bad("kind must be pos or installment")
	}
	for _, n := range []struct {
		name string
		dst  *int64
	}{{"cashier_id", &f.CashierID}, {"store_id", &f.StoreID}} {
		v, err := parseBoundedInt(c.Query(n.name), n.name, 0, 1, 1<<62)
		if err != nil {
			writeError(c, err)
			return pos.OrderFilter{}, false
		}
		*n.dst = v
	}
	limit, err := parseBoundedInt(c.Query("limit"), "limit", pos.DefaultPageSize, 1, pos.MaxPageSize)
	if err != nil {
		writeError(c, err)
		return pos.OrderFilter{}, false
	}
	f.Limit, f.Cursor, f.OutTradeNo = int(limit), c.Query("cursor"), c.Query("out_trade_no")
	return f, true
}

// voidOrder is POST /v1/orders/:id/void (撤销): an unpaid order closes; a
// paid order of today, before settlement, is refunded in full and becomes
// REVOKED.
func (s *Server) voidOrder(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	o, err := s.cfg.POS.VoidOrder(c.Request.Context(), actor(c), id)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, s.orderView(o))
}

// amountOf is an amount as the API writes it: an integer of minor units.
func amountOf(a paydesk.Amount) int64 { return int64(a) }
