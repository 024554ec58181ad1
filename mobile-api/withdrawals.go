package mobileapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/settlement"
)

type withdrawRequest struct {
	RequestNo string         `json:"request_no"`
	Amount    paydesk.Amount `json:"amount"`
}

type withdrawalJSON struct {
	ID          int64      `json:"id"`
	RequestNo   string     `json:"request_no"`
	Amount      int64      `json:"amount"`
	Fee         int64      `json:"fee"`
	Currency    string     `json:"currency"`
	State       string     `json:"state"`
	Attempt     int        `json:"attempt"`
	Reference   string     `json:"reference,omitempty"`
	Reason      string     `json:"reason,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	SubmittedAt *time.Time `json:"submitted_at,omitempty"`
	PaidAt      *time.Time `json:"paid_at,omitempty"`
	FailedAt    *time.Time `json:"failed_at,omitempty"`
}

func withdrawalView(w settlement.Withdrawal) withdrawalJSON {
	return withdrawalJSON{ID: w.ID, RequestNo: w.RequestNo, Amount: int64(w.Amount), Fee: int64(w.Fee), Currency: string(w.Currency),
		State: string(w.State), Attempt: w.Attempt, Reference: w.Reference, Reason: w.Reason, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt,
		SubmittedAt: w.SubmittedAt, PaidAt: w.PaidAt, FailedAt: w.FailedAt}
}

// withdraw is POST /v1/withdrawals {request_no, amount}: owners pay out
// available balance to the merchant's bound bank account. The same
// request_no and amount again answer the same withdrawal.
func (s *Server) withdraw(c *gin.Context) {
	var req withdrawRequest
	if !bindJSON(c, &req) {
		return
	}
	w, err := s.cfg.Settlement.Withdraw(c.Request.Context(), actor(c), req.RequestNo, req.Amount)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, withdrawalView(w))
}

// listWithdrawals is GET /v1/withdrawals?cursor=&limit=, newest first.
func (s *Server) listWithdrawals(c *gin.Context) {
	cursor, limit, ok := pageQuery(c)
	if !ok {
		return
	}
	ws, next, err := s.cfg.Settlement.Withdrawals(c.Request.Context(), actor(c).MerchantID, cursor, limit)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, pageOf(ws, withdrawalView, next))
}
