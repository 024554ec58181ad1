package mobileapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/internal/view"
	"github.com/paydesk/paydesk/pos"
)

type refundRequest struct {
	RefundNo string `json:"refund_no"`
	Amount   int64  `json:"amount"`
	Reason   string `json:"reason"`
}

// refundToJSON is where a refund's money went, in minor units.
type refundToJSON struct {
	Card    int64 `json:"card"`
	Cash    int64 `json:"cash"`
	Coupon  int64 `json:"coupon"`
	Voucher int64 `json:"voucher"`
}

// refundFromJSON is where the merchant's side of a refund came from.
type refundFromJSON struct {
	Marketing int64 `json:"marketing"`
	Pending   int64 `json:"pending"`
	Available int64 `json:"available"`
}

type refundJSON struct {
	ID          int64          `json:"id"`
	OrderID     int64          `json:"order_id"`
	RefundNo    string         `json:"refund_no"`
	Kind        string         `json:"kind"`
	State       string         `json:"state"`
	Amount      int64          `json:"amount"`
	Currency    string         `json:"currency"`
	Reason      string         `json:"reason"`
	To          refundToJSON   `json:"to"`
	From        refundFromJSON `json:"from"`
	FeeReturned int64          `json:"fee_returned"`
	// CardState is "" (nothing to a card), PENDING (the bank has not
	// confirmed yet), CARD or BALANCE (the card refused; the wallet's cash got it).
	CardState  string    `json:"card_state"`
	RefundedBy int64     `json:"refunded_by"`
	CreatedAt  time.Time `json:"created_at"`
}

// refundAnswerJSON is a refund with the order as it is after it.
type refundAnswerJSON struct {
	refundJSON
	Order view.Order `json:"order"`
}

func refundView(r pos.Refund) refundJSON {
	return refundJSON{ID: r.ID, OrderID: r.OrderID, RefundNo: r.RefundNo, Kind: string(r.Kind), State: "SUCCEEDED", Amount: amountOf(r.Amount),
		Currency: string(r.Currency), Reason: r.Reason,
		To:          refundToJSON{Card: amountOf(r.ToCard), Cash: amountOf(r.ToCash), Coupon: amountOf(r.ToCoupon), Voucher: amountOf(r.ToVoucher)},
		From:        refundFromJSON{Marketing: amountOf(r.FromMarketing), Pending: amountOf(r.FromPending), Available: amountOf(r.FromAvailable)},
		FeeReturned: amountOf(r.FeeReturned), CardState: string(r.CardState), RefundedBy: r.RefundedBy, CreatedAt: r.CreatedAt}
}

// refund is POST /v1/orders/:id/refunds {refund_no, amount, reason}: 201
// with the new refund, or 200 with the refund an earlier request with the
// same refund_no and amount made.
func (s *Server) refund(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	var req refundRequest
	if !bindJSON(c, &req) {
		return
	}
	r, o, err := s.cfg.POS.RefundOrder(c.Request.Context(), actor(c), id, pos.RefundRequest{RefundNo: req.RefundNo,
		Amount: paydesk.Amount(req.Amount), Reason: req.Reason})
	if err != nil {
		writeError(c, err)
		return
	}
	status := http.StatusCreated
	if r.Replayed {
		status = http.StatusOK
	}
	c.JSON(status, refundAnswerJSON{refundJSON: refundView(r), Order: s.orderView(o)})
}

type refundListJSON struct {
	Items []refundJSON `json:"items"`
}

// listRefunds is GET /v1/orders/:id/refunds: the refunds (and the void) of
// an order in the caller's scope, oldest first.
func (s *Server) listRefunds(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	rs, err := s.cfg.POS.Refunds(c.Request.Context(), actor(c), id)
	if err != nil {
		writeError(c, err)
		return
	}
	out := refundListJSON{Items: make([]refundJSON, len(rs))}
	for i, r := range rs {
		out.Items[i] = refundView(r)
	}
	c.JSON(http.StatusOK, out)
}
