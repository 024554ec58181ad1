package mobileapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/pos"
)

// fundingJSON is how the payer paid: SPEC §2's draw order, in minor units.
type fundingJSON struct {
	Voucher int64 `json:"voucher"`
	Coupon  int64 `json:"coupon"`
	Cash    int64 `json:"cash"`
	Card    int64 `json:"card"`
}

// orderJSON is an order as the merchant app sees it.
type orderJSON struct {
	ID          int64       `json:"id"`
	OutTradeNo  string      `json:"out_trade_no"`
	State       string      `json:"state"`
	Method      string      `json:"method"`
	Kind        string      `json:"kind"`
	Subject     string      `json:"subject"`
	Amount      int64       `json:"amount"`
	Currency    string      `json:"currency"`
	Fee         int64       `json:"fee"`
	Refunded    int64       `json:"refunded"`
	Funding     fundingJSON `json:"funding"`
	StoreID     int64       `json:"store_id"`
	CashierID   int64       `json:"cashier_id"`
	CloseReason string      `json:"close_reason"`
	// PayURL is the QR payload of a collection QR or the payment link, to
	// show or send again.
	PayURL    string     `json:"pay_url,omitempty"`
	PaidAt    *time.Time `json:"paid_at"`
	ClosedAt  *time.Time `json:"closed_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	CreatedAt time.Time  `json:"created_at"`
}

func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func fundingView(o pos.Order) fundingJSON {
	f := o.Funding
	return fundingJSON{Voucher: int64(f.Voucher), Coupon: int64(f.Coupon), Cash: int64(f.Cash), Card: int64(f.Card)}
}

func (s *Server) orderView(o pos.Order) orderJSON {
	return orderJSON{ID: o.ID, OutTradeNo: o.OutTradeNo, State: string(o.State), Method: string(o.Method), Kind: string(o.Kind),
		Subject: o.Subject, Amount: int64(o.Amount), Currency: string(o.Currency), Fee: int64(o.Fee), Refunded: int64(o.Refunded),
		Funding: fundingView(o), StoreID: o.StoreID, CashierID: o.CashierID, CloseReason: o.CloseReason, PayURL: s.cfg.POS.PayURL(o),
		PaidAt: optionalTime(o.PaidAt), ClosedAt: optionalTime(o.ClosedAt), ExpiresAt: o.ExpiresAt, CreatedAt: o.CreatedAt}
}

// getOrder is GET /v1/orders/:id: one order in the caller's scope (a
// cashier's own, a manager's store's, an owner's merchant's); any other id
// is 404, exactly like one that does not exist.
func (s *Server) getOrder(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	o, err := s.cfg.POS.OrderFor(c.Request.Context(), actor(c), id)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, s.orderView(o))
}

// closeOrder is POST /v1/orders/:id/close: an unpaid order in the caller's
// scope closes and can no longer be paid.
func (s *Server) closeOrder(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	o, err := s.cfg.POS.CloseOrder(c.Request.Context(), actor(c), id)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, s.orderView(o))
}

// ErrNoQR answers the QR picture of an order that has none (a scan-code or
// dynamic-password payment).
var ErrNoQR = paydesk.Errorf(paydesk.KindNotFound, "ORDER_HAS_NO_QR", "this order is not paid by QR code or link")

// orderQR is GET /v1/orders/:id/qr.png: the collection QR (or the payment
// link as a QR) of an order in the caller's scope.
func (s *Server) orderQR(c *gin.Context, id int64) (string, error) {
	o, err := s.cfg.POS.OrderFor(c.Request.Context(), actor(c), id)
	if err != nil {
		return "", err
	}
	url := s.cfg.POS.PayURL(o)
	if url == "" {
		return "", ErrNoQR
	}
	return url, nil
}

// storeQR is GET /v1/stores/:id/qr.png: the store's static QR (我的二维码),
// which customers scan to pay any amount. Staff see their own store's;
// owners every store of the merchant.
func (s *Server) storeQR(c *gin.Context, id int64) (string, error) {
	st, err := s.cfg.Merchants.Store(c.Request.Context(), actor(c), id)
	if err != nil {
		return "", err
	}
	return s.cfg.POS.StoreQRURL(st.QRToken), nil
}
