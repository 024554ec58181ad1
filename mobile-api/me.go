package mobileapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/paydesk/paydesk/internal/view"
	"github.com/paydesk/paydesk/merchant"
)

// meJSON is who the caller is. store is null for owners.
type meJSON struct {
	Staff    meStaffJSON    `json:"staff"`
	Merchant meMerchantJSON `json:"merchant"`
	Store    *view.Store    `json:"store"`
}

type meStaffJSON struct {
	ID         int64  `json:"id"`
	Role       string `json:"role"`
	Name       string `json:"name"`
	Phone      string `json:"phone"`
	MerchantID int64  `json:"merchant_id"`
	StoreID    *int64 `json:"store_id"`
}

type meMerchantJSON struct {
	ID             int64  `json:"id"`
	Name           string `json:"name"`
	Currency       string `json:"currency"`
	TimeZone       string `json:"time_zone"`
	FeeRate        int64  `json:"fee_rate"`
	SettlementDays int    `json:"settlement_days"`
}

func meView(me merchant.Me) meJSON {
	out := meJSON{
		Staff: meStaffJSON{ID: me.Staff.ID, Role: string(me.Staff.Role), Name: me.Staff.Name, Phone: me.Staff.Phone, MerchantID: me.Staff.MerchantID},
		Merchant: meMerchantJSON{ID: me.Merchant.ID, Name: me.Merchant.Name, Currency: string(me.Merchant.Currency), TimeZone: me.Merchant.TimeZone,
			FeeRate: int64(me.Merchant.FeeRate), SettlementDays: me.Merchant.SettlementDays},
	}
	if me.Store != nil {
		v := view.StoreOf(*me.Store)
		out.Store = &v
		out.Staff.StoreID = &me.Store.ID
	}
	return out
}

// me is GET /v1/me: the staff member, their merchant and their store.
func (s *Server) me(c *gin.Context) {
	me, err := s.cfg.Merchants.Me(c.Request.Context(), actor(c))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, meView(me))
}

type changePasswordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// changePassword is POST /v1/me/password {current_password, new_password}:
// every session of the staff member ends (other phones are logged out) and
// this one continues with the new pair of tokens in the answer.
func (s *Server) changePassword(c *gin.Context) {
	var req changePasswordRequest
	if !bindJSON(c, &req) {
		return
	}
	ctx, who := c.Request.Context(), actor(c)
	if err := s.cfg.Staff.ChangePassword(ctx, who, req.CurrentPassword, req.NewPassword); err != nil {
		writeError(c, err)
		return
	}
	pair, err := s.cfg.Tokens.Issue(ctx, principal(c))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, tokensView(pair))
}
