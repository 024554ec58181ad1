package mobileapi

import (
	"encoding/base64"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paydesk/paydesk/wallet"
)

// The codes a customer pays with at the counter: the payment code (付款码),
// shown as a Code 128 barcode and a QR, and the dynamic password (动态密码).
// Every answer is a live credential: none may be cached (Cache-Control:
// no-store), and each picture is drawn from the current code when asked.

type paymentCodeJSON struct {
	Code      string    `json:"code"`
	ExpiresAt time.Time `json:"expires_at"`
	// Used: the code paid already; NextAt: when a different code exists.
	Used   bool      `json:"used"`
	NextAt time.Time `json:"next_at"`
}

// paymentCode is GET /v1/wallet/payment-code: the code to show, for an app
// that asks the server instead of deriving codes offline. Once the shown
// code paid, the answer is the next step's code at once; used says a code
// that paid is all there is until next_at.
func (s *Server) paymentCode(c *gin.Context) {
	shown, err := s.cfg.Wallets.ShowPaymentCode(c.Request.Context(), walletOf(c))
	if err != nil {
		writeError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, paymentCodeJSON{Code: shown.Code, ExpiresAt: shown.ExpiresAt, Used: shown.Used, NextAt: shown.NextAt})
}

// paymentCodePicture draws the current payment code with draw.
func (s *Server) paymentCodePicture(draw func(code string, size int) ([]byte, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		size, ok := imageSize(c)
		if !ok {
			return
		}
		shown, err := s.cfg.Wallets.ShowPaymentCode(c.Request.Context(), walletOf(c))
		if err != nil {
			writeError(c, err)
			return
		}
		pic, err := draw(shown.Code, size)
		writePNG(c, pic, err)
	}
}

type paymentCodeKeyJSON struct {
	Prefix      string `json:"prefix"`
	CodeID      string `json:"code_id"`
	Secret      string `json:"secret"`
	StepSeconds int    `json:"step_seconds"`
	Digits      int    `json:"digits"`
}

// provisionPaymentCodeKey is POST /v1/wallet/payment-code/key: a fresh
// secret from which the app derives payment codes offline (the algorithm is
// in wallet/paymentcode.go and the OpenAPI document). Each call retires the
// previous secret, so only the phone provisioned last can make codes.
func (s *Server) provisionPaymentCodeKey(c *gin.Context) {
	k, err := s.cfg.Wallets.ProvisionPaymentCodes(c.Request.Context(), walletOf(c))
	if err != nil {
		writeError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, paymentCodeKeyJSON{Prefix: wallet.PaymentCodePrefix, CodeID: k.CodeID,
		Secret: base64.StdEncoding.EncodeToString(k.Secret), StepSeconds: int(k.Step / time.Second), Digits: wallet.PaymentCodeLen})
}

type dynamicPasswordJSON struct {
	Password  string    `json:"password"`
	ExpiresAt time.Time `json:"expires_at"`
}

// dynamicPassword is GET /v1/wallet/dynamic-password: the 6-digit password
// the customer reads out to the cashier.
func (s *Server) dynamicPassword(c *gin.Context) {
	p, err := s.cfg.Wallets.DynamicPassword(c.Request.Context(), walletOf(c))
	if err != nil {
		writeError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, dynamicPasswordJSON{Password: p.Password, ExpiresAt: p.ExpiresAt})
}
