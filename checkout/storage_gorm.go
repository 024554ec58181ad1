package checkout

import (
	"context"
	"fmt"
	"time"

	"github.com/paydesk/paydesk/storage"
)

// GormStorage keeps sessions in checkout_sessions.
type GormStorage struct{ db *storage.DB }

// NewGormStorage returns Storage over db.
func NewGormStorage(db *storage.DB) *GormStorage { return &GormStorage{db: db} }

var _ Storage = (*GormStorage)(nil)

type sessionRow struct {
	ID           int64
	Token        string
	MerchantID   int64
	OrderID      int64
	OutTradeNo   string
	ReturnURL    string
	ReturnSecret string
	ExpiresAt    time.Time
	CreatedAt    time.Time
}

func (sessionRow) TableName() string { return "checkout_sessions" }

func (r sessionRow) session() Session {
	return Session{ID: r.ID, Token: r.Token, MerchantID: r.MerchantID, OrderID: r.OrderID, OutTradeNo: r.OutTradeNo,
		ReturnURL: r.ReturnURL, ReturnSecret: r.ReturnSecret, ExpiresAt: r.ExpiresAt, CreatedAt: r.CreatedAt}
}

// CreateSession inserts s, or reads the merchant's session of the same
// out_trade_no into s when there is one.
func (g *GormStorage) CreateSession(ctx context.Context, s *Session) (bool, error) {
	r := sessionRow{Token: s.Token, MerchantID: s.MerchantID, OrderID: s.OrderID, OutTradeNo: s.OutTradeNo, ReturnURL: s.ReturnURL,
		ReturnSecret: s.ReturnSecret, ExpiresAt: s.ExpiresAt, CreatedAt: s.CreatedAt}
	err := g.db.Writer(ctx).Create(&r).Error
	if storage.IsDuplicate(err) {
		var old sessionRow
		if err := g.db.Writer(ctx).Where("merchant_id = ? AND out_trade_no = ?", s.MerchantID, s.OutTradeNo).Take(&old).Error; err != nil {
			return false, fmt.Errorf("read checkout session of %s: %w", s.OutTradeNo, err)
		}
		*s = old.session()
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("insert checkout session: %w", err)
	}
	s.ID = r.ID
	return true, nil
}

// SessionByToken returns the session behind a page's token.
func (g *GormStorage) SessionByToken(ctx context.Context, token string) (Session, error) {
	var r sessionRow
	err := g.db.Reader(ctx).Where("token = ?", token).Take(&r).Error
	if storage.IsNotFound(err) {
		return Session{}, ErrSessionNotFound
	}
	if err != nil {
		return Session{}, fmt.Errorf("read checkout session: %w", err)
	}
	return r.session(), nil
}
