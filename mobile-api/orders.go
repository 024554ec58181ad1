package mobileapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/internal/view"
	"github.com/paydesk/paydesk/pos"
)

func optionalTime(t time.Time) *time.Time { return view.OptionalTime(t) }

// orderView is o as the merchant API answers it (view.Order).
func (s *Server) orderView(o pos.Order) view.Order { return view.OrderOf(o, s.cfg.POS.PayURL(o)) }

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
