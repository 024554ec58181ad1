package mobileapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paydesk/paydesk/settlement"
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

type settlementJSON struct {
	ID          int64      `json:"id"`
	BusinessDay string     `json:"business_day"`
	State       string     `json:"state"`
	Payments    int64      `json:"payments"`
	Refunds     int64      `json:"refunds"`
	Fees        int64      `json:"fees"`
	Net         int64      `json:"net"`
	Adjustment  int64      `json:"adjustment"`
	Amount      int64      `json:"amount"`
	Currency    string     `json:"currency"`
	DueAt       time.Time  `json:"due_at"`
	Attempt     int        `json:"attempt"`
	Reference   string     `json:"reference,omitempty"`
	Offline     bool       `json:"offline"`
	Reason      string     `json:"reason,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	SubmittedAt *time.Time `json:"submitted_at,omitempty"`
	PaidAt      *time.Time `json:"paid_at,omitempty"`
	FailedAt    *time.Time `json:"failed_at,omitempty"`
}

func settlementView(b settlement.Batch) settlementJSON {
	return settlementJSON{ID: b.ID, BusinessDay: b.BusinessDay.String(), State: string(b.State), Payments: int64(b.Payments),
		Refunds: int64(b.Refunds), Fees: int64(b.Fees), Net: int64(b.Net), Adjustment: int64(b.Adjustment), Amount: int64(b.Amount),
		Currency: string(b.Currency), DueAt: b.DueAt, Attempt: b.Attempt, Reference: b.Reference, Offline: b.Offline, Reason: b.Reason,
		CreatedAt: b.CreatedAt, UpdatedAt: b.UpdatedAt, SubmittedAt: b.SubmittedAt, PaidAt: b.PaidAt, FailedAt: b.FailedAt}
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
	c.JSON(http.StatusOK, pageOf(bs, settlementView, next))
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
	c.JSON(http.StatusOK, settlementView(b))
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
