package mobileapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/internal/view"
)

type bankAccountRequest struct {
	Number   string `json:"number"`
	Holder   string `json:"holder"`
	BankName string `json:"bank_name"`
	// Password is the owner's own: a live session alone may not redirect
	// the merchant's payouts.
	Password string `json:"password"`
}

// bankAccount is GET /v1/bank-account: where settlements and withdrawals
// are paid, or BANK_ACCOUNT_NOT_BOUND.
func (s *Server) bankAccount(c *gin.Context) {
	a, err := s.cfg.Settlement.BankAccount(c.Request.Context(), actor(c).MerchantID)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, view.BankAccountOf(a))
}

// setBankAccount is PUT /v1/bank-account {number, holder, bank_name,
// password}: the owner binds the payout account, confirming with their
// password; the change is audited. Batches that failed are retried to the
// new account; payouts already submitted keep theirs.
func (s *Server) setBankAccount(c *gin.Context) {
	var req bankAccountRequest
	if !bindJSON(c, &req) {
		return
	}
	a, err := s.cfg.Settlement.BindBankAccount(c.Request.Context(), actor(c), req.Password, bank.BankAccount{Number: req.Number, Holder: req.Holder, BankName: req.BankName})
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, view.BankAccountOf(a))
}
