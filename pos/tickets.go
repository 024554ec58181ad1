package pos

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/rbac"
	"github.com/paydesk/paydesk/wallet"
)

// Tickets is ticket check (验票): a merchant issues tickets for its own
// goods (a product, a price, a validity) to a customer's wallet; the wallet
// app shows the ticket's QR; a cashier of the merchant scans it and the
// ticket is redeemed exactly once. Issuing moves no money: the customer
// bought or was given the goods outside paydesk, and the ticket only proves
// the right to collect them.
type Tickets struct {
	store     TicketStorage
	wallets   WalletFinder
	merchants MerchantDirectory
	clock     paydesk.Clock
}

// WalletFinder finds a customer's wallet by phone; *wallet.Service is one.
type WalletFinder interface {
	FindByPhone(ctx context.Context, phone string) (wallet.WalletID, error)
}

// NewTickets returns the ticket service.
func NewTickets(store TicketStorage, wallets WalletFinder, merchants MerchantDirectory, clock paydesk.Clock) *Tickets {
	return &Tickets{store: store, wallets: wallets, merchants: merchants, clock: clock}
}

// TicketState is where a ticket stands. An issued ticket past its expiry
// is still ISSUED in storage; Status says EXPIRED.
type TicketState string

const (
	TicketIssued   TicketState = "ISSUED"
	TicketRedeemed TicketState = "REDEEMED"
	TicketExpired  TicketState = "EXPIRED"
)

// Ticket is one ticket in one wallet.
type Ticket struct {
	ID         int64
	MerchantID int64
	StoreID    int64 // the issuing staff member's store; 0 when an owner issued it
	WalletID   wallet.WalletID
	// IssueNo is the issuer's number, unique per merchant, which makes
	// issuing idempotent.
	IssueNo  string
	Product  string
	Price    paydesk.Amount
	Currency paydesk.Currency
	// Token is the unguessable part of the ticket's QR.
	Token         string
	State         TicketState
	IssuedBy      int64
	ValidFrom     time.Time
	ExpiresAt     time.Time
	RedeemedBy    int64
	RedeemedStore int64
	RedeemedAt    time.Time
	CreatedAt     time.Time
	// Replayed is set on a ticket an earlier Issue with the same issue_no made.
	Replayed bool
}

// Status is the ticket's state at now: EXPIRED for an unredeemed ticket
// whose time is up.
func (t Ticket) Status(now time.Time) TicketState {
	if t.State == TicketIssued && !now.Before(t.ExpiresAt) {
		return TicketExpired
	}
	return t.State
}

// Errors of tickets.
var (
	ErrTicketNotFound        = &paydesk.Error{Kind: paydesk.KindNotFound, Code: "TICKET_NOT_FOUND", Message: "no such ticket"}
	ErrTicketAlreadyRedeemed = &paydesk.Error{Kind: paydesk.KindConflict, Code: "TICKET_ALREADY_REDEEMED", Message: "the ticket has been redeemed already"}
	ErrTicketExpired         = &paydesk.Error{Kind: paydesk.KindConflict, Code: "TICKET_EXPIRED", Message: "the ticket has expired"}
	ErrTicketNotYetValid     = &paydesk.Error{Kind: paydesk.KindConflict, Code: "TICKET_NOT_YET_VALID", Message: "the ticket is not valid yet"}
	ErrInvalidIssueNo        = &paydesk.Error{Kind: paydesk.KindInvalid, Code: "INVALID_ISSUE_NO", Message: "issue_no must be 1 to 64 characters of letters, digits, '-', '_' or '.'"}
)

// TicketRequest asks to issue a ticket to the wallet of Phone.
type TicketRequest struct {
	IssueNo string
	Phone   string
	Product string
	Price   paydesk.Amount
	// ValidFrom defaults to now; ExpiresAt must be after it, within MaxTicketValidity.
	ValidFrom time.Time
	ExpiresAt time.Time
}

// MaxTicketValidity bounds how long a ticket may be valid.
const MaxTicketValidity = 3 * 366 * 24 * time.Hour

// Issue gives a ticket to a customer's wallet. The same issue_no and
// request again return the same ticket; another request under the same
// issue_no is IDEMPOTENCY_CONFLICT.
func (t *Tickets) Issue(ctx context.Context, c cashier.Actor, req TicketRequest) (Ticket, error) {
	if validOutTradeNo(req.IssueNo) != nil {
		return Ticket{}, ErrInvalidIssueNo
	}
	if req.Product == "" || len(req.Product) > 128 {
		return Ticket{}, paydesk.ErrInvalid.WithMessage("product must be 1 to 128 bytes")
	}
	if err := req.Price.ValidPayment(); err != nil {
		return Ticket{}, err
	}
	now := t.clock()
	from := req.ValidFrom
	if from.IsZero() {
		from = now
	}
	from, until := from.UTC().Truncate(time.Microsecond), req.ExpiresAt.UTC().Truncate(time.Microsecond)
	if !until.After(from) || !until.After(now) || until.Sub(from) > MaxTicketValidity {
		return Ticket{}, paydesk.ErrInvalid.WithMessage("a ticket must expire after it becomes valid, in the future, and within %s", MaxTicketValidity)
	}
	m, err := t.merchants.Merchant(ctx, c.MerchantID)
	if err != nil {
		return Ticket{}, err
	}
	w, err := t.wallets.FindByPhone(ctx, req.Phone)
	if err != nil {
		return Ticket{}, err
	}
	tk := Ticket{MerchantID: c.MerchantID, StoreID: c.StoreID, WalletID: w, IssueNo: req.IssueNo, Product: req.Product, Price: req.Price,
		Currency: m.Currency, Token: newTicketToken(), State: TicketIssued, IssuedBy: c.StaffID, ValidFrom: from, ExpiresAt: until, CreatedAt: now}
	err = t.store.CreateTicket(ctx, &tk)
	if !paydeskIs(err, errDuplicateTicket) {
		return tk, err
	}
	old, err := t.store.TicketByIssueNo(ctx, c.MerchantID, req.IssueNo)
	if err != nil {
		return Ticket{}, err
	}
	if old.WalletID != w || old.Product != tk.Product || old.Price != tk.Price || !old.ExpiresAt.Equal(tk.ExpiresAt) {
		return Ticket{}, paydesk.ErrIdempotencyConflict.WithMessage("issue_no %s was used for another ticket", req.IssueNo)
	}
	old.Replayed = true
	return old, nil
}

// Redeem is a cashier scanning a ticket's QR: the ticket of the cashier's
// merchant is redeemed once. Of many cashiers scanning one ticket at once
// exactly one succeeds; the others get TICKET_ALREADY_REDEEMED. A ticket of
// another merchant is TICKET_NOT_FOUND, like one that does not exist.
func (t *Tickets) Redeem(ctx context.Context, c cashier.Actor, payload string) (Ticket, error) {
	token, err := ParseTicketPayload(payload)
	if err != nil {
		return Ticket{}, err
	}
	tk, err := t.store.TicketByToken(ctx, token)
	if err != nil {
		return Ticket{}, err
	}
	if tk.MerchantID != c.MerchantID {
		return Ticket{}, ErrTicketNotFound
	}
	now := t.clock()
	if err := ticketRefusal(tk, now); err != nil {
		return tk, err
	}
	ok, err := t.store.RedeemTicket(ctx, tk.ID, c.StaffID, c.StoreID, now)
	if err != nil {
		return tk, err
	}
	if tk, err = t.store.TicketByToken(ctx, token); err != nil {
		return Ticket{}, err
	}
	if !ok {
		// Someone else redeemed it between the read and the update, or its
		// time ran out: say which.
		if err := ticketRefusal(tk, now); err != nil {
			return tk, err
		}
		return tk, ErrTicketAlreadyRedeemed
	}
	return tk, nil
}

// ticketRefusal says why a ticket cannot be redeemed at now, or nil.
func ticketRefusal(tk Ticket, now time.Time) error {
	switch {
	case tk.State == TicketRedeemed:
		return ErrTicketAlreadyRedeemed.WithMessage("ticket %d was redeemed at %s", tk.ID, tk.RedeemedAt.Format(time.RFC3339))
	case !now.Before(tk.ExpiresAt):
		return ErrTicketExpired.WithMessage("ticket %d expired at %s", tk.ID, tk.ExpiresAt.Format(time.RFC3339))
	case now.Before(tk.ValidFrom):
		return ErrTicketNotYetValid.WithMessage("ticket %d is valid from %s", tk.ID, tk.ValidFrom.Format(time.RFC3339))
	}
	return nil
}

// TicketPage is a page of tickets, newest first.
type TicketPage struct {
	Tickets []Ticket
	Next    string
}

// Issued lists the tickets an owner (all of the merchant's) or a manager
// (those their store issued) may see, newest first.
func (t *Tickets) Issued(ctx context.Context, c cashier.Actor, cursor string, limit int) (TicketPage, error) {
	var store int64
	switch c.Role {
	case rbac.Owner:
	case rbac.Manager:
		store = c.StoreID
	default:
		return TicketPage{}, paydesk.ErrForbidden.WithMessage("the list of issued tickets is for owners and managers")
	}
	if limit <= 0 {
		limit = DefaultPageSize
	}
	limit = min(limit, MaxPageSize)
	var before int64
	if cursor != "" {
		_, id, err := decodeCursor(cursor)
		if err != nil {
			return TicketPage{}, err
		}
		before = id
	}
	tks, err := t.store.TicketsOfMerchant(ctx, c.MerchantID, store, before, limit+1)
	if err != nil {
		return TicketPage{}, err
	}
	page := TicketPage{Tickets: tks}
	if len(tks) > limit {
		page.Tickets = tks[:limit]
		last := page.Tickets[limit-1]
		page.Next = encodeCursor(last.CreatedAt, last.ID)
	}
	return page, nil
}

// WalletTickets lists a wallet's tickets, newest first.
func (t *Tickets) WalletTickets(ctx context.Context, w wallet.WalletID) ([]Ticket, error) {
	return t.store.TicketsOfWallet(ctx, w, 200)
}

// WalletTicket returns one of a wallet's tickets; another wallet's is TICKET_NOT_FOUND.
func (t *Tickets) WalletTicket(ctx context.Context, w wallet.WalletID, id int64) (Ticket, error) {
	tk, err := t.store.Ticket(ctx, id)
	if err != nil {
		return Ticket{}, err
	}
	if tk.WalletID != w {
		return Ticket{}, ErrTicketNotFound
	}
	return tk, nil
}

// Now is the tickets' clock, for callers that show Status.
func (t *Tickets) Now() time.Time { return t.clock() }

func newTicketToken() string {
	b := make([]byte, ticketTokenBytes)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// errDuplicateTicket is what TicketStorage.CreateTicket returns for a taken issue_no.
var errDuplicateTicket = &paydesk.Error{Kind: paydesk.KindConflict, Code: "DUPLICATE_ISSUE_NO", Message: "a ticket with this issue_no exists"}

// TicketStorage keeps tickets.
type TicketStorage interface {
	// CreateTicket inserts tk and sets its ID; a taken issue_no is a
	// DUPLICATE_ISSUE_NO error.
	CreateTicket(ctx context.Context, tk *Ticket) error
	Ticket(ctx context.Context, id int64) (Ticket, error)
	TicketByToken(ctx context.Context, token string) (Ticket, error)
	TicketByIssueNo(ctx context.Context, merchantID int64, issueNo string) (Ticket, error)
	// RedeemTicket marks an issued, valid, unexpired ticket redeemed and
	// reports false when it was not (any more) such a ticket.
	RedeemTicket(ctx context.Context, id, staffID, storeID int64, now time.Time) (bool, error)
	// TicketsOfMerchant lists a merchant's tickets (of one issuing store
	// when store is not 0) with ids below before (0: no bound), newest first.
	TicketsOfMerchant(ctx context.Context, merchantID, store, before int64, limit int) ([]Ticket, error)
	TicketsOfWallet(ctx context.Context, w wallet.WalletID, limit int) ([]Ticket, error)
}
