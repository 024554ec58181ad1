package mobileapi

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/pos"
)

// Ticket check (验票): the merchant side issues tickets to a customer's
// wallet by phone and redeems them by scanning their QR; the wallet side
// lists them and shows each one's QR.

type issueTicketRequest struct {
	IssueNo   string     `json:"issue_no"`
	Phone     string     `json:"phone"`
	Product   string     `json:"product"`
	Price     int64      `json:"price"`
	ValidFrom *time.Time `json:"valid_from"`
	ExpiresAt time.Time  `json:"expires_at"`
}

// ticketJSON is a ticket as the merchant app sees it: everything but the
// token, which only the customer's QR carries.
type ticketJSON struct {
	ID            int64      `json:"id"`
	IssueNo       string     `json:"issue_no"`
	Product       string     `json:"product"`
	Price         int64      `json:"price"`
	Currency      string     `json:"currency"`
	State         string     `json:"state"`
	StoreID       int64      `json:"store_id"`
	IssuedBy      int64      `json:"issued_by"`
	ValidFrom     time.Time  `json:"valid_from"`
	ExpiresAt     time.Time  `json:"expires_at"`
	RedeemedBy    int64      `json:"redeemed_by,omitempty"`
	RedeemedStore int64      `json:"redeemed_store,omitempty"`
	RedeemedAt    *time.Time `json:"redeemed_at"`
	CreatedAt     time.Time  `json:"created_at"`
}

func (s *Server) ticketView(t pos.Ticket) ticketJSON {
	return ticketJSON{ID: t.ID, IssueNo: t.IssueNo, Product: t.Product, Price: amountOf(t.Price), Currency: string(t.Currency),
		State: string(t.Status(s.cfg.Tickets.Now())), StoreID: t.StoreID, IssuedBy: t.IssuedBy, ValidFrom: t.ValidFrom, ExpiresAt: t.ExpiresAt,
		RedeemedBy: t.RedeemedBy, RedeemedStore: t.RedeemedStore, RedeemedAt: optionalTime(t.RedeemedAt), CreatedAt: t.CreatedAt}
}

// issueTicket is POST /v1/tickets: 201 with a new ticket, 200 with the one
// an earlier request with the same issue_no made.
func (s *Server) issueTicket(c *gin.Context) {
	var req issueTicketRequest
	if !bindJSON(c, &req) {
		return
	}
	r := pos.TicketRequest{IssueNo: req.IssueNo, Phone: req.Phone, Product: req.Product, Price: paydesk.Amount(req.Price), ExpiresAt: req.ExpiresAt}
	if req.ValidFrom != nil {
		r.ValidFrom = *req.ValidFrom
	}
	t, err := s.cfg.Tickets.Issue(c.Request.Context(), actor(c), r)
	if err != nil {
		writeError(c, err)
		return
	}
	status := http.StatusCreated
	if t.Replayed {
		status = http.StatusOK
	}
	c.JSON(status, s.ticketView(t))
}

// listTickets is GET /v1/tickets?cursor=&limit=: the tickets the merchant
// (an owner) or the store (a manager) issued, newest first.
func (s *Server) listTickets(c *gin.Context) {
	limit, err := parseBoundedInt(c.Query("limit"), "limit", pos.DefaultPageSize, 1, pos.MaxPageSize)
	if err != nil {
		writeError(c, err)
		return
	}
	page, err := s.cfg.Tickets.Issued(c.Request.Context(), actor(c), c.Query("cursor"), int(limit))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, pageOf(page.Tickets, s.ticketView, page.Next))
}

type redeemTicketRequest struct {
	QRPayload string `json:"qr_payload"`
}

// redeemTicket is POST /v1/tickets/redeem {qr_payload}: the cashier scanned
// a ticket's QR; it is redeemed once (TICKET_ALREADY_REDEEMED after that,
// TICKET_EXPIRED after its time).
func (s *Server) redeemTicket(c *gin.Context) {
	var req redeemTicketRequest
	if !bindJSON(c, &req) {
		return
	}
	t, err := s.cfg.Tickets.Redeem(c.Request.Context(), actor(c), req.QRPayload)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, s.ticketView(t))
}

// walletTicketJSON is a ticket as the wallet app sees it, with the QR
// payload to show and the merchant's name.
type walletTicketJSON struct {
	ID           int64      `json:"id"`
	MerchantName string     `json:"merchant_name"`
	Product      string     `json:"product"`
	Price        int64      `json:"price"`
	Currency     string     `json:"currency"`
	State        string     `json:"state"`
	ValidFrom    time.Time  `json:"valid_from"`
	ExpiresAt    time.Time  `json:"expires_at"`
	RedeemedAt   *time.Time `json:"redeemed_at"`
	QRPayload    string     `json:"qr_payload"`
}

func (s *Server) walletTicketView(ctx context.Context, t pos.Ticket, names map[int64]string) walletTicketJSON {
	name, ok := names[t.MerchantID]
	if !ok {
		if m, err := s.cfg.Merchants.Merchant(ctx, t.MerchantID); err == nil {
			name = m.Name
		}
		names[t.MerchantID] = name
	}
	return walletTicketJSON{ID: t.ID, MerchantName: name, Product: t.Product, Price: amountOf(t.Price), Currency: string(t.Currency),
		State: string(t.Status(s.cfg.Tickets.Now())), ValidFrom: t.ValidFrom, ExpiresAt: t.ExpiresAt, RedeemedAt: optionalTime(t.RedeemedAt),
		QRPayload: pos.TicketPayload(t)}
}

type walletTicketListJSON struct {
	Items []walletTicketJSON `json:"items"`
}

// walletTickets is GET /v1/wallet/tickets: the customer's tickets, newest first.
func (s *Server) walletTickets(c *gin.Context) {
	ts, err := s.cfg.Tickets.WalletTickets(c.Request.Context(), walletOf(c))
	if err != nil {
		writeError(c, err)
		return
	}
	names := map[int64]string{}
	out := walletTicketListJSON{Items: make([]walletTicketJSON, len(ts))}
	for i, t := range ts {
		out.Items[i] = s.walletTicketView(c.Request.Context(), t, names)
	}
	c.JSON(http.StatusOK, out)
}

// walletTicket is GET /v1/wallet/tickets/:id: one of the customer's tickets.
func (s *Server) walletTicket(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	t, err := s.cfg.Tickets.WalletTicket(c.Request.Context(), walletOf(c), id)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, s.walletTicketView(c.Request.Context(), t, map[int64]string{}))
}

// walletTicketQR is GET /v1/wallet/tickets/:id/qr.png: the ticket's QR to
// show the cashier.
func (s *Server) walletTicketQR(c *gin.Context, id int64) (string, error) {
	t, err := s.cfg.Tickets.WalletTicket(c.Request.Context(), walletOf(c), id)
	if err != nil {
		return "", err
	}
	return pos.TicketPayload(t), nil
}
