package mobileapi

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/internal/view"
	"github.com/paydesk/paydesk/pos"
	"github.com/paydesk/paydesk/rbac"
)

// The wallet paying (SPEC §3.2, 3.4, 3.5 and payer confirmation): the
// customer scans a collection QR, a store's static QR or opens a payment
// link (all three are URLs that pos.ParseQRPayload reads), sees what it
// pays, and pays.

// payee is who a QR pays, in the words the customer sees.
type payee struct {
	MerchantName string
	StoreName    string
	Currency     paydesk.Currency
}

// payeeOf names the merchant and store of an order or a store QR. The
// store is read as the merchant's owner would: the customer may see the
// name of the store they pay, whoever they are. An order of no store (an
// owner's, or an API key's without a store) names the merchant alone.
func (s *Server) payeeOf(ctx context.Context, merchantID, storeID int64) (payee, error) {
	m, err := s.cfg.Merchants.Merchant(ctx, merchantID)
	if err != nil {
		return payee{}, err
	}
	if storeID == 0 {
		return payee{MerchantName: m.Name, Currency: m.Currency}, nil
	}
	st, err := s.cfg.Merchants.Store(ctx, cashier.Actor{MerchantID: merchantID, Role: rbac.Owner}, storeID)
	if err != nil {
		return payee{}, err
	}
	return payee{MerchantName: m.Name, StoreName: st.Name, Currency: m.Currency}, nil
}

// paymentJSON is an order as its payer sees it: no fee, no cashier.
type paymentJSON struct {
	ID           int64        `json:"id"`
	State        string       `json:"state"`
	Method       string       `json:"method"`
	MerchantName string       `json:"merchant_name"`
	StoreName    string       `json:"store_name"`
	Subject      string       `json:"subject"`
	Amount       int64        `json:"amount"`
	Currency     string       `json:"currency"`
	Funding      view.Funding `json:"funding"`
	CloseReason  string       `json:"close_reason"`
	PaidAt       *time.Time   `json:"paid_at"`
	ExpiresAt    time.Time    `json:"expires_at"`
	CreatedAt    time.Time    `json:"created_at"`
}

func (s *Server) writePayment(c *gin.Context, o pos.Order) {
	p, err := s.payeeOf(c.Request.Context(), o.MerchantID, o.StoreID)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, paymentJSON{ID: o.ID, State: string(o.State), Method: string(o.Method), MerchantName: p.MerchantName,
		StoreName: p.StoreName, Subject: o.Subject, Amount: int64(o.Amount), Currency: string(o.Currency), Funding: view.FundingOf(o),
		CloseReason: o.CloseReason, PaidAt: optionalTime(o.PaidAt), ExpiresAt: o.ExpiresAt, CreatedAt: o.CreatedAt})
}

type scanRequest struct {
	QRPayload string `json:"qr_payload"`
}

type previewOrderJSON struct {
	ID        int64     `json:"id"`
	State     string    `json:"state"`
	ExpiresAt time.Time `json:"expires_at"`
}

// previewJSON is what the wallet app shows before the customer pays.
type previewJSON struct {
	Kind         string `json:"kind"`
	MerchantName string `json:"merchant_name"`
	StoreName    string `json:"store_name"`
	// Amount is the order's; null for a store QR, whose amount the
	// customer enters (EnterAmount).
	Amount      *int64            `json:"amount"`
	EnterAmount bool              `json:"enter_amount"`
	Currency    string            `json:"currency"`
	Subject     string            `json:"subject"`
	Order       *previewOrderJSON `json:"order"`
	// Payable says whether paying now can succeed as far as the order goes
	// (it is open and not expired); the wallet's funds are not looked at.
	Payable bool `json:"payable"`
}

// preview is what a scanned payload pays.
func (s *Server) preview(ctx context.Context, payload string) (previewJSON, error) {
	kind, token, err := pos.ParseQRPayload(payload)
	if err != nil {
		return previewJSON{}, err
	}
	if kind == pos.PayloadStore {
		st, err := s.cfg.Merchants.StoreByQRToken(ctx, token)
		if err != nil {
			return previewJSON{}, pos.ErrOrderNotFound.WithMessage("no store behind this QR code")
		}
		p, err := s.payeeOf(ctx, st.MerchantID, st.ID)
		if err != nil {
			return previewJSON{}, err
		}
		return previewJSON{Kind: string(kind), MerchantName: p.MerchantName, StoreName: p.StoreName, EnterAmount: true,
			Currency: string(p.Currency), Payable: true}, nil
	}
	o, err := s.cfg.POS.OrderByPayToken(ctx, token)
	if err != nil {
		return previewJSON{}, err
	}
	p, err := s.payeeOf(ctx, o.MerchantID, o.StoreID)
	if err != nil {
		return previewJSON{}, err
	}
	amount := int64(o.Amount)
	return previewJSON{Kind: string(kind), MerchantName: p.MerchantName, StoreName: p.StoreName, Amount: &amount,
		Currency: string(o.Currency), Subject: o.Subject, Order: &previewOrderJSON{ID: o.ID, State: string(o.State), ExpiresAt: o.ExpiresAt},
		Payable: o.State == pos.Created && s.now().Before(o.ExpiresAt)}, nil
}

// scanQR is POST /v1/wallet/scan: what a scanned QR or link pays, before
// paying it.
func (s *Server) scanQR(c *gin.Context) {
	var req scanRequest
	if !bindJSON(c, &req) {
		return
	}
	p, err := s.preview(c.Request.Context(), req.QRPayload)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, p)
}

type payRequest struct {
	QRPayload string `json:"qr_payload"`
	// Amount is required for a store QR; for an order it may repeat the
	// order's amount, as a check of what the customer saw.
	Amount *int64 `json:"amount"`
}

// pay is POST /v1/wallet/pay: the customer pays a collection QR, a payment
// link or (with an amount) a store QR. A refused payment leaves a QR or
// link open to be tried again; paying an order this wallet has paid
// answers the paid order again.
func (s *Server) pay(c *gin.Context) {
	var req payRequest
	if !bindJSON(c, &req) {
		return
	}
	ctx := c.Request.Context()
	kind, token, err := pos.ParseQRPayload(req.QRPayload)
	if err != nil {
		writeError(c, err)
		return
	}
	var o pos.Order
	switch kind {
	case pos.PayloadStore:
		if req.Amount == nil {
			writeError(c, paydesk.ErrInvalidAmount.WithMessage("a store QR needs the amount the customer pays"))
			return
		}
		o, err = s.cfg.POS.PayStore(ctx, walletOf(c), token, paydesk.Amount(*req.Amount))
	default:
		if req.Amount != nil { // the amount the customer saw, checked against the order's
			o, err = s.cfg.POS.PayOrderFor(ctx, walletOf(c), token, paydesk.Amount(*req.Amount))
		} else {
			o, err = s.cfg.POS.PayOrder(ctx, walletOf(c), token)
		}
	}
	if err != nil {
		writeError(c, err)
		return
	}
	s.writePayment(c, o)
}

// confirmPayment is POST /v1/wallet/payments/:id/confirm: the payer
// approves a scan-code payment above their no-password limit.
func (s *Server) confirmPayment(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	o, err := s.cfg.POS.ConfirmPayment(c.Request.Context(), walletOf(c), id)
	if err != nil {
		writeError(c, err)
		return
	}
	s.writePayment(c, o)
}

// declinePayment is POST /v1/wallet/payments/:id/decline: the payer
// refuses it; the order closes and nothing is charged.
func (s *Server) declinePayment(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	o, err := s.cfg.POS.DeclinePayment(c.Request.Context(), walletOf(c), id)
	if err != nil {
		writeError(c, err)
		return
	}
	s.writePayment(c, o)
}
