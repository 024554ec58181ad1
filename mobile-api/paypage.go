package mobileapi

import (
	"bytes"
	"crypto/rand"
	_ "embed"
	"encoding/base64"
	"html/template"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/pos"
)

// The page a customer's phone opens from a store's static QR (SPEC §3.5),
// GET /p/s/{token}; an order's page, GET /p/o/{token}, is the hosted
// checkout page (checkout.go). They show whom and what the customer pays and let a
// logged-in wallet pay with a small script that calls POST /v1/wallet/pay;
// a failed payment can be tried again from the same page, and the link can
// be sent again as often as wanted. Everything shown is escaped by
// html/template; the page carries no secret but the link's own token.

//go:embed paypage.html
var payPageSource string

var payPageTemplate = template.Must(template.New("paypage").Parse(payPageSource))

type payPageData struct {
	Nonce        string
	Found        bool
	MerchantName string
	StoreName    string
	Subject      string
	Amount       string
	Currency     string
	State        string
	Payable      bool
	EnterAmount  bool
	Payload      string
}

// stateText is an order state in the customer's words.
func stateText(p previewJSON) string {
	switch {
	case p.Order == nil:
		return ""
	case p.Order.State == string(pos.Created) && !p.Payable:
		return "Expired"
	case p.Order.State == string(pos.Created):
		return "Awaiting payment"
	case p.Order.State == string(pos.Paying):
		return "Awaiting the payer's confirmation"
	case p.Order.State == string(pos.Paid):
		return "Paid"
	case p.Order.State == string(pos.Closed):
		return "Closed"
	}
	return "Paid, then refunded"
}

// payPage serves both pages; kind says which the route is for.
func (s *Server) payPage(kind pos.PayloadKind) gin.HandlerFunc {
	return func(c *gin.Context) {
		token := c.Param("token")
		payload := s.cfg.POS.StoreQRURL(token)
		if kind == pos.PayloadOrder {
			payload = s.cfg.POS.PayURL(pos.Order{PayToken: token})
		}
		data := payPageData{Nonce: newNonce()}
		p, err := s.preview(c.Request.Context(), payload)
		status := http.StatusOK
		switch e := paydesk.AsError(err); {
		case err == nil:
			data.Found, data.Payload = true, payload
			data.MerchantName, data.StoreName, data.Subject, data.Currency = p.MerchantName, p.StoreName, p.Subject, p.Currency
			data.Payable, data.EnterAmount, data.State = p.Payable, p.EnterAmount, stateText(p)
			if p.Amount != nil {
				data.Amount = paydesk.Amount(*p.Amount).String()
			}
		case e.Kind == paydesk.KindInvalid || e.Kind == paydesk.KindNotFound:
			status = http.StatusNotFound
		default:
			requestLogger(c).LogAttrs(c.Request.Context(), slog.LevelError, "pay page failed", slog.Any("error", err))
			status = http.StatusInternalServerError
		}
		var buf bytes.Buffer
		if err := payPageTemplate.ExecuteTemplate(&buf, "page", data); err != nil {
			writeError(c, err)
			return
		}
		h := c.Writer.Header()
		// Only the page's own script and style run, and the script only talks to us.
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+data.Nonce+"'; style-src 'nonce-"+data.Nonce+
			"'; connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'")
		// The URL is the link's token: no Referer may carry it elsewhere.
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		c.Data(status, "text/html; charset=utf-8", buf.Bytes())
	}
}

func newNonce() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
