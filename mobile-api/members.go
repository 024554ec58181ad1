package mobileapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paydesk/paydesk/pos"
)

type memberJSON struct {
	WalletID    int64     `json:"wallet_id"`
	Phone       string    `json:"phone"` // masked: 139****0001
	Visits      int64     `json:"visits"`
	TotalSpent  int64     `json:"total_spent"`
	LastVisitAt time.Time `json:"last_visit_at"`
}

// listMembers is GET /v1/members?sort=spend|recent&cursor=&limit= (会员管理):
// the wallets that paid the merchant (an owner) or the store (a manager),
// the biggest spenders or the latest visitors first.
func (s *Server) listMembers(c *gin.Context) {
	sort := pos.MemberSort(c.Query("sort"))
	switch sort {
	case "", pos.SortBySpend, pos.SortByRecent:
	default:
		writeError(c, ErrInvalidQuery.WithMessage("sort must be spend or recent"))
		return
	}
	limit, err := parseBoundedInt(c.Query("limit"), "limit", pos.DefaultPageSize, 1, pos.MaxPageSize)
	if err != nil {
		writeError(c, err)
		return
	}
	page, err := s.cfg.Members.ListMembers(c.Request.Context(), actor(c), pos.MemberQuery{Sort: sort, Cursor: c.Query("cursor"), Limit: int(limit)})
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, pageOf(page.Members, func(m pos.Member) memberJSON {
		return memberJSON{WalletID: int64(m.WalletID), Phone: m.Phone, Visits: m.Visits, TotalSpent: amountOf(m.TotalSpent), LastVisitAt: m.LastVisitAt}
	}, page.Next))
}
