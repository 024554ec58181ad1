package mobileapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/paydesk/paydesk/internal/view"
)

// settlementRoutes registers the merchant's money routes (SPEC §5): its
// balances, settlement progress, withdrawals and statements, and the bank's
// payout callbacks, which are public and verified by their signature.
func (s *Server) settlementRoutes(auth *gin.RouterGroup) {
	auth.GET("/balance", s.balance)                     // balance.go
	auth.GET("/settlements", s.listSettlements)         // settlements.go
	auth.GET("/settlements/:id", s.getSettlement)       // settlements.go
	auth.POST("/withdrawals", s.idempotent, s.withdraw) // withdrawals.go
	auth.GET("/withdrawals", s.listWithdrawals)         // withdrawals.go
	auth.GET("/statements.csv", s.statement)            // statements.go
	auth.GET("/bank-account", s.bankAccount)            // bankaccount.go
	auth.PUT("/bank-account", s.setBankAccount)         // bankaccount.go
	s.v1.POST("/bank/callbacks", s.bankCallback)        // bank_callbacks.go
}

// listSettlements is GET /v1/settlements?cursor=&limit=: the merchant's
// batches, newest business day first (owners and managers: the numbers are
// merchant-wide).
func (s *Server) listSettlements(c *gin.Context) {
	cursor, limit, ok := pageQuery(c)
	if !ok {
		return
	}
	bs, next, err := s.cfg.Settlement.Batches(c.Request.Context(), actor(c).MerchantID, cursor, limit)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, pageOf(bs, view.BatchOf, next))
}

// getSettlement is GET /v1/settlements/:id.
func (s *Server) getSettlement(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	b, err := s.cfg.Settlement.Batch(c.Request.Context(), actor(c).MerchantID, id)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, view.BatchOf(b))
}

// pageQuery reads ?cursor= and ?limit= (default 20, at most 100).
func pageQuery(c *gin.Context) (cursor int64, limit int, ok bool) {
	cursor, err := parseBoundedInt(c.Query("cursor"), "cursor", 0, 1, 1<<62)
	if err != nil {
		writeError(c, err)
		return 0, 0, false
	}
	l, err := parseBoundedInt(c.Query("limit"), "limit", 20, 1, 100)
	if err != nil {
		writeError(c, err)
		return 0, 0, false
	}
	return cursor, int(l), true
}
