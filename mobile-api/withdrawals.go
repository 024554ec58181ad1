package mobileapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/internal/view"
)

type withdrawRequest struct {
	RequestNo string         `json:"request_no"`
	Amount    paydesk.Amount `json:"amount"`
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
	c.JSON(http.StatusOK, view.WithdrawalOf(w))
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
	c.JSON(http.StatusOK, pageOf(ws, view.WithdrawalOf, next))
}
