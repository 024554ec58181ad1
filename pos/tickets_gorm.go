package pos

import (
	"context"
	"fmt"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/wallet"
)

// GormTickets keeps tickets in the tickets table.
type GormTickets struct{ db *storage.DB }

// NewGormTickets returns TicketStorage over db.
func NewGormTickets(db *storage.DB) *GormTickets { return &GormTickets{db: db} }

var _ TicketStorage = (*GormTickets)(nil)

type ticketRow struct {
	ID            int64
	MerchantID    int64
	StoreID       int64
	WalletID      int64
	IssueNo       string
	Product       string
	Price         int64
	Currency      string
	Token         string
	State         string
	IssuedBy      int64
	ValidFrom     time.Time
	ExpiresAt     time.Time
	RedeemedBy    int64
	RedeemedStore int64
	RedeemedAt    *time.Time
	CreatedAt     time.Time
}

func (ticketRow) TableName() string { return "tickets" }

func (r ticketRow) ticket() Ticket {
	return Ticket{ID: r.ID, MerchantID: r.MerchantID, StoreID: r.StoreID, WalletID: wallet.WalletID(r.WalletID), IssueNo: r.IssueNo,
		Product: r.Product, Price: paydesk.Amount(r.Price), Currency: paydesk.Currency(r.Currency), Token: r.Token, State: TicketState(r.State),
		IssuedBy: r.IssuedBy, ValidFrom: r.ValidFrom, ExpiresAt: r.ExpiresAt, RedeemedBy: r.RedeemedBy, RedeemedStore: r.RedeemedStore,
		RedeemedAt: fromOpt(r.RedeemedAt), CreatedAt: r.CreatedAt}
}

func tickets(rows []ticketRow) []Ticket {
	out := make([]Ticket, len(rows))
	for i, r := range rows {
		out[i] = r.ticket()
	}
	return out
}

// CreateTicket inserts a ticket.
func (s *GormTickets) CreateTicket(ctx context.Context, tk *Ticket) error {
	r := ticketRow{MerchantID: tk.MerchantID, StoreID: tk.StoreID, WalletID: int64(tk.WalletID), IssueNo: tk.IssueNo, Product: tk.Product,
		Price: int64(tk.Price), Currency: string(tk.Currency), Token: tk.Token, State: string(tk.State), IssuedBy: tk.IssuedBy,
		ValidFrom: tk.ValidFrom.UTC(), ExpiresAt: tk.ExpiresAt.UTC(), CreatedAt: tk.CreatedAt.UTC()}
	if err := s.db.Writer(ctx).Create(&r).Error; err != nil {
		if storage.IsDuplicate(err) {
			return errDuplicateTicket
		}
		return fmt.Errorf("create ticket: %w", err)
	}
	tk.ID = r.ID
	return nil
}

func (s *GormTickets) one(ctx context.Context, where string, args ...any) (Ticket, error) {
	var rows []ticketRow
	if err := s.db.Reader(ctx).Where(where, args...).Limit(1).Find(&rows).Error; err != nil {
		return Ticket{}, fmt.Errorf("read ticket: %w", err)
	}
	if len(rows) == 0 {
		return Ticket{}, ErrTicketNotFound
	}
	return rows[0].ticket(), nil
}

// Ticket reads a ticket by id.
func (s *GormTickets) Ticket(ctx context.Context, id int64) (Ticket, error) {
	return s.one(ctx, "id = ?", id)
}

// TicketByToken reads a ticket by its QR token.
func (s *GormTickets) TicketByToken(ctx context.Context, token string) (Ticket, error) {
	return s.one(ctx, "token = ?", token)
}

// TicketByIssueNo reads a merchant's ticket by its issue number.
func (s *GormTickets) TicketByIssueNo(ctx context.Context, merchantID int64, issueNo string) (Ticket, error) {
	return s.one(ctx, "merchant_id = ? AND issue_no = ?", merchantID, issueNo)
}

// RedeemTicket is the once-only guard: the WHERE clause decides between
// cashiers scanning the same ticket at once, and the row count tells.
func (s *GormTickets) RedeemTicket(ctx context.Context, id, staffID, storeID int64, now time.Time) (bool, error) {
	res := s.db.Writer(ctx).Exec("UPDATE tickets SET state = ?, redeemed_by = ?, redeemed_store = ?, redeemed_at = ? "+
		"WHERE id = ? AND state = ? AND valid_from <= ? AND expires_at > ?",
		string(TicketRedeemed), staffID, storeID, now.UTC(), id, string(TicketIssued), now.UTC(), now.UTC())
	if res.Error != nil {
		return false, fmt.Errorf("redeem ticket %d: %w", id, res.Error)
	}
	return res.RowsAffected == 1, nil
}

// TicketsOfMerchant lists a merchant's tickets, newest first.
func (s *GormTickets) TicketsOfMerchant(ctx context.Context, merchantID, store, before int64, limit int) ([]Ticket, error) {
	tx := s.db.Reader(ctx).Where("merchant_id = ?", merchantID)
	if store != 0 {
		tx = tx.Where("store_id = ?", store)
	}
	if before != 0 {
		tx = tx.Where("id < ?", before)
	}
	var rows []ticketRow
	if err := tx.Order("id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list tickets: %w", err)
	}
	return tickets(rows), nil
}

// TicketsOfWallet lists a wallet's tickets, newest first.
func (s *GormTickets) TicketsOfWallet(ctx context.Context, w wallet.WalletID, limit int) ([]Ticket, error) {
	var rows []ticketRow
	if err := s.db.Reader(ctx).Where("wallet_id = ?", int64(w)).Order("id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list tickets of wallet %d: %w", w, err)
	}
	return tickets(rows), nil
}
