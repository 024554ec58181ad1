package mobileapi

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

type balanceJSON struct {
	Pending   int64  `json:"pending"`
	Available int64  `json:"available"`
	Frozen    int64  `json:"frozen"`
	Book      int64  `json:"book"`
	Currency  string `json:"currency"`
}

// balance is GET /v1/balance: the merchant's cleared balances, straight
// from its ledger accounts, read at one moment. book = pending + available
// + frozen; voucher and coupon money is in none of them (seed 004, FAQ 5).
func (s *Server) balance(c *gin.Context) {
	b, err := s.cfg.Settlement.Balance(c.Request.Context(), actor(c).MerchantID)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, balanceJSON{Pending: int64(b.Pending), Available: int64(b.Available), Frozen: int64(b.Frozen),
		Book: int64(b.Book), Currency: string(b.Currency)})
}
