package mobileapi

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/internal/view"
	"github.com/paydesk/paydesk/pos"
)

// The cashier's ways to get paid (SPEC §3). Each creates an order under the
// client's out_trade_no: the same number and request again answers the same
// order and charges nothing more; the same number with another amount is
// 422 IDEMPOTENCY_CONFLICT (the rule is pos/outtradeno.go's). Every answer
// with an order is 201 Created with Location /v1/orders/{id}, a replay
// included: the same request gets the same answer. A refused payment is the error envelope (422
// INSUFFICIENT_FUNDS, PAYMENT_CODE_USED, ...), and the order it opened is
// CLOSED with that code as its close_reason.

type scanPaymentRequest struct {
	OutTradeNo  string `json:"out_trade_no"`
	Amount      int64  `json:"amount"`
	PaymentCode string `json:"payment_code"`
}

// scanPayment is POST /v1/payments/scan: the cashier scanned the customer's
// payment code. The answer is the order PAID (with its funding breakdown)
// or PAYING (above the payer's no-password limit: the payer confirms in the
// wallet app), or a refusal.
func (s *Server) scanPayment(c *gin.Context) {
	var req scanPaymentRequest
	if !bindJSON(c, &req) {
		return
	}
	o, err := s.scanPayments.TakeScanPayment(c.Request.Context(), actor(c), pos.ScanPayment{OutTradeNo: req.OutTradeNo,
		Amount: paydesk.Amount(req.Amount), PaymentCode: req.PaymentCode})
	if err != nil {
		writeError(c, err)
		return
	}
	created(c, o, s.orderView(o))
}

type dynamicPasswordPaymentRequest struct {
	OutTradeNo string `json:"out_trade_no"`
	Amount     int64  `json:"amount"`
	Phone      string `json:"phone"`
	Password   string `json:"password"`
}

// dynamicPasswordPayment is POST /v1/payments/dynamic-password: the cashier
// typed the customer's phone number and the password the customer read out.
func (s *Server) dynamicPasswordPayment(c *gin.Context) {
	var req dynamicPasswordPaymentRequest
	if !bindJSON(c, &req) {
		return
	}
	o, err := s.cfg.POS.TakeDynamicPasswordPayment(c.Request.Context(), actor(c), pos.DynamicPasswordPayment{OutTradeNo: req.OutTradeNo,
		Amount: paydesk.Amount(req.Amount), Phone: req.Phone, Password: req.Password})
	if err != nil {
		writeError(c, err)
		return
	}
	created(c, o, s.orderView(o))
}

type collectionRequest struct {
	OutTradeNo string `json:"out_trade_no"`
	Amount     int64  `json:"amount"`
	Subject    string `json:"subject"`
}

type collectionQRJSON struct {
	Order     view.Order `json:"order"`
	QRPayload string     `json:"qr_payload"`
}

// collectionQR is POST /v1/payments/qr: an order the customer pays by
// scanning its QR; qr_payload is what the QR encodes (and
// /v1/orders/{id}/qr.png draws).
func (s *Server) collectionQR(c *gin.Context) {
	var req collectionRequest
	if !bindJSON(c, &req) {
		return
	}
	o, err := s.cfg.POS.CreateCollectionQR(c.Request.Context(), actor(c), pos.Collection{OutTradeNo: req.OutTradeNo,
		Amount: paydesk.Amount(req.Amount), Subject: req.Subject})
	if err != nil {
		writeError(c, err)
		return
	}
	created(c, o, collectionQRJSON{Order: s.orderView(o), QRPayload: s.cfg.POS.PayURL(o)})
}

type paymentLinkJSON struct {
	Order view.Order `json:"order"`
	URL   string     `json:"url"`
}

// paymentLink is POST /v1/payment-links: an order to send to a customer as
// a link, valid until paid or closed; a failed payment can be retried from
// the same link, and the link can be sent again.
func (s *Server) paymentLink(c *gin.Context) {
	var req collectionRequest
	if !bindJSON(c, &req) {
		return
	}
	o, err := s.cfg.POS.CreatePaymentLink(c.Request.Context(), actor(c), pos.Collection{OutTradeNo: req.OutTradeNo,
		Amount: paydesk.Amount(req.Amount), Subject: req.Subject})
	if err != nil {
		writeError(c, err)
		return
	}
	created(c, o, paymentLinkJSON{Order: s.orderView(o), URL: s.cfg.POS.PayURL(o)})
}

// created answers 201 with the order's Location and body.
func created(c *gin.Context, o pos.Order, body any) {
	c.Header("Location", fmt.Sprintf("/v1/orders/%d", o.ID))
	c.JSON(http.StatusCreated, body)
}
