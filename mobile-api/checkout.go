package mobileapi

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/base64"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/checkout"
	"github.com/paydesk/paydesk/internal/view"
	"github.com/paydesk/paydesk/mobile-api/codepng"
	"github.com/paydesk/paydesk/pos"
	"github.com/paydesk/paydesk/sandbox"
	"github.com/paydesk/paydesk/wallet"
)

// The hosted checkout (package checkout): a merchant's system creates a
// session with POST /v1/checkout-sessions and sends its customer to the
// session's url, GET /checkout/{token}. The page, rendered here with no
// script and nothing from elsewhere, shows the merchant and the amount, a QR
// the wallet app scans, and a form to log in to the wallet and pay on the
// spot; a refused payment shows why, and the form again. Once the order is
// paid (by the form, or by the app: the page reloads itself every few
// seconds) the customer is sent to return_url with the signed result.

func (s *Server) checkoutRoutes(auth *gin.RouterGroup) {
	auth.POST("/checkout-sessions", s.idempotent, s.createCheckoutSession)
	s.engine.GET("/checkout/:token", s.checkoutPage)
	s.engine.POST("/checkout/:token/pay", s.checkoutPay)
	s.engine.POST("/checkout/:token/test-pay", s.checkoutTestPay)
}

type checkoutSessionRequest struct {
	OutTradeNo string  `json:"out_trade_no"`
	Amount     int64   `json:"amount"`
	Subject    string  `json:"subject"`
	ReturnURL  string  `json:"return_url"`
	NotifyURL  *string `json:"notify_url"`
	ExpiresIn  int64   `json:"expires_in"`
}

type checkoutSessionJSON struct {
	ID        string  `json:"id"`
	URL       string  `json:"url"`
	ReturnURL string  `json:"return_url"`
	NotifyURL *string `json:"notify_url"`
	// NotifyEndpointID is the webhook endpoint delivering to notify_url:
	// its delivery log is GET /v1/webhook-endpoints/{id}/deliveries.
	NotifyEndpointID *int64     `json:"notify_endpoint_id"`
	ReturnSecret     string     `json:"return_secret"`
	ExpiresAt        time.Time  `json:"expires_at"`
	Order            view.Order `json:"order"`
}

// createCheckoutSession is POST /v1/checkout-sessions.
func (s *Server) createCheckoutSession(c *gin.Context) {
	if s.cfg.Checkout == nil {
		writeError(c, paydesk.ErrUnavailable.WithMessage("hosted checkout is not configured on this server"))
		return
	}
	var req checkoutSessionRequest
	if !bindJSON(c, &req) {
		return
	}
	var notify string
	if req.NotifyURL != nil {
		notify = *req.NotifyURL
	}
	if req.ExpiresIn < 0 || req.ExpiresIn > int64(checkout.MaxExpiry/time.Second) {
		writeError(c, paydesk.ErrInvalid.WithMessage("expires_in must be %d to %d seconds", int(checkout.MinExpiry.Seconds()), int(checkout.MaxExpiry.Seconds())))
		return
	}
	sess, o, err := s.cfg.Checkout.Create(c.Request.Context(), actor(c), checkout.NewSession{OutTradeNo: req.OutTradeNo, Amount: paydesk.Amount(req.Amount),
		Subject: req.Subject, ReturnURL: req.ReturnURL, NotifyURL: notify, ExpiresIn: time.Duration(req.ExpiresIn) * time.Second})
	if err != nil {
		writeError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Location", "/v1/orders/"+strconv.FormatInt(o.ID, 10))
	out := checkoutSessionJSON{ID: sess.Token, URL: s.cfg.Checkout.URL(sess), ReturnURL: sess.ReturnURL,
		ReturnSecret: sess.ReturnSecret, ExpiresAt: sess.ExpiresAt.UTC(), Order: s.orderView(o)}
	if sess.NotifyEndpointID != 0 {
		out.NotifyURL, out.NotifyEndpointID = &notify, &sess.NotifyEndpointID
	}
	c.JSON(http.StatusCreated, out)
}

//go:embed checkout.html
var checkoutPageSource string

var checkoutPageTemplate = template.Must(template.New("checkout").Parse(checkoutPageSource))

type checkoutPageData struct {
	Nonce, Token string
	Found, Open  bool
	// Test is a sandbox session (test mode): the page offers the
	// simulator's test wallet instead of a login and a QR.
	Test                                    bool
	MerchantName, Subject, Amount, Currency string
	QR, Error, ExpiresAt                    string
	ReturnURL                               template.URL
}

// checkoutPage is GET /checkout/:token.
func (s *Server) checkoutPage(c *gin.Context) {
	s.renderCheckout(c, "", http.StatusOK)
}

// checkoutPay is POST /checkout/:token/pay: the customer's wallet phone
// and password, from the page's form.
func (s *Server) checkoutPay(c *gin.Context) {
	if s.cfg.Checkout == nil {
		s.renderCheckout(c, "", http.StatusNotFound)
		return
	}
	ctx := c.Request.Context()
	_, o, err := s.cfg.Checkout.Page(ctx, c.Param("token"))
	if err != nil {
		s.renderCheckout(c, "", http.StatusNotFound)
		return
	}
	w, err := s.cfg.Wallets.Authenticate(ctx, c.PostForm("phone"), c.PostForm("password"), c.ClientIP())
	if err == nil {
		_, err = s.cfg.POS.PayOrder(ctx, w, o.PayToken)
	}
	if err != nil {
		e := paydesk.AsError(err)
		status := kindStatus[e.Kind]
		if status >= 500 {
			requestLogger(c).LogAttrs(ctx, slog.LevelError, "checkout payment failed", slog.Any("error", err))
		}
		s.renderCheckout(c, e.Message, status)
		return
	}
	s.renderCheckout(c, "", http.StatusOK)
}

// renderCheckout answers the page of the token, or the redirect to
// return_url once the order is paid.
func (s *Server) renderCheckout(c *gin.Context, problem string, status int) {
	data := checkoutPageData{Nonce: newNonce(), Token: c.Param("token"), Error: problem}
	if s.cfg.Checkout != nil {
		if done := s.fillCheckout(c.Request.Context(), c, &data); done {
			return
		}
	}
	if !data.Found {
		status = http.StatusNotFound
	}
	var buf bytes.Buffer
	if err := checkoutPageTemplate.ExecuteTemplate(&buf, "page", data); err != nil {
		writeError(c, err)
		return
	}
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+data.Nonce+"'; img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// fillCheckout completes data from the session; true when it answered a
// redirect instead (the order is paid).
func (s *Server) fillCheckout(ctx context.Context, c *gin.Context, data *checkoutPageData) bool {
	sess, o, err := s.cfg.Checkout.Page(ctx, data.Token)
	if err != nil {
		if e := paydesk.AsError(err); e.Kind != paydesk.KindNotFound {
			requestLogger(c).LogAttrs(ctx, slog.LevelError, "checkout page failed", slog.Any("error", err))
		}
		return false
	}
	switch o.State {
	case pos.Paid, pos.PartiallyRefunded, pos.Refunded:
		c.Header("Cache-Control", "no-store")
		c.Redirect(http.StatusSeeOther, s.cfg.Checkout.ResultURL(sess, o, checkout.ResultPaid))
		return true
	}
	p, err := s.payeeOf(ctx, o.MerchantID, o.StoreID)
	if err != nil {
		return false
	}
	data.Found = true
	data.MerchantName, data.Subject, data.Amount, data.Currency = p.MerchantName, o.Subject, o.Amount.String(), string(o.Currency)
	data.ExpiresAt = o.ExpiresAt.UTC().Format("2006-01-02 15:04 MST")
	data.Open = o.State == pos.Created && s.now().Before(o.ExpiresAt)
	if !data.Open {
		data.ReturnURL = template.URL(s.cfg.Checkout.ResultURL(sess, o, checkout.ResultClosed))
		return false
	}
	if m, err := s.cfg.Merchants.Merchant(ctx, o.MerchantID); err == nil && sandbox.IsTest(m) {
		data.Test = true
		return false
	}
	if png, err := codepng.QR(s.cfg.POS.PayURL(o), 256); err == nil {
		data.QR = base64.StdEncoding.EncodeToString(png)
	}
	return false
}

// ErrTestDeclined is the simulator's declined payment, which an integrator
// asks for to test a failed attempt and its retry.
var ErrTestDeclined = &paydesk.Error{Kind: paydesk.KindUnprocessable, Code: "TEST_PAYMENT_DECLINED",
	Message: "the test payment was declined (simulated); try again"}

// checkoutTestPay is POST /checkout/:token/test-pay, test mode's simulator:
// the page of a sandbox session pays at once from the sandbox's test
// wallet (outcome=decline: refuses, to test a retry). A live session's
// page is refused: live money is paid only by a wallet's own login.
func (s *Server) checkoutTestPay(c *gin.Context) {
	if s.cfg.Checkout == nil || s.cfg.Sandbox == nil {
		s.renderCheckout(c, "", http.StatusNotFound)
		return
	}
	ctx := c.Request.Context()
	_, o, err := s.cfg.Checkout.Page(ctx, c.Param("token"))
	if err != nil {
		s.renderCheckout(c, "", http.StatusNotFound)
		return
	}
	if c.PostForm("outcome") == "decline" {
		err = ErrTestDeclined
		if m, merr := s.cfg.Merchants.Merchant(ctx, o.MerchantID); merr != nil || !sandbox.IsTest(m) {
			err = sandbox.ErrLiveMerchant
		}
	} else {
		var w wallet.WalletID
		w, err = s.cfg.Sandbox.FundTestPayment(ctx, o.MerchantID, o.Amount, "order:"+strconv.FormatInt(o.ID, 10))
		if err == nil {
			_, err = s.cfg.POS.PayOrder(ctx, w, o.PayToken)
		}
	}
	if err != nil {
		e := paydesk.AsError(err)
		status := kindStatus[e.Kind]
		if status >= 500 {
			requestLogger(c).LogAttrs(ctx, slog.LevelError, "checkout test payment failed", slog.Any("error", err))
		}
		s.renderCheckout(c, e.Message, status)
		return
	}
	s.renderCheckout(c, "", http.StatusOK)
}
