package checkout

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/internal/seal"
	"github.com/paydesk/paydesk/storage"
)

// GormStorage keeps sessions in checkout_sessions, with their return
// secrets sealed (package seal): a dump of the database alone cannot sign
// a result a merchant would believe.
type GormStorage struct {
	db     *storage.DB
	sealer *seal.Sealer
}

// NewGormStorage returns Storage over db that seals the sessions' return
// secrets with sealer, which is required.
func NewGormStorage(db *storage.DB, sealer *seal.Sealer) *GormStorage {
	if sealer == nil {
		panic("checkout: NewGormStorage needs a sealer")
	}
	return &GormStorage{db: db, sealer: sealer}
}

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

// secretPlace names where a session's return secret is stored, for the
// seal: a sealed secret copied to another session does not open.
func secretPlace(merchantID int64, token string) []byte {
	b := strconv.AppendInt([]byte("checkout_sessions.return_secret:merchant:"), merchantID, 10)
	return append(append(b, ":token:"...), token...)
}

// session is the row's session with its return secret opened; a secret
// written before secrets were sealed is read as it is.
func (g *GormStorage) session(r sessionRow) (Session, error) {
	secret, _, err := g.sealer.Open(secretPlace(r.MerchantID, r.Token), r.ReturnSecret)
	if err != nil {
		return Session{}, fmt.Errorf("checkout session %d: %w", r.ID,
			paydesk.ErrUnavailable.WithMessage("the session's return secret does not open under the data key"))
	}
	return Session{ID: r.ID, Token: r.Token, MerchantID: r.MerchantID, OrderID: r.OrderID, OutTradeNo: r.OutTradeNo,
		ReturnURL: r.ReturnURL, ReturnSecret: string(secret), ExpiresAt: r.ExpiresAt, CreatedAt: r.CreatedAt}, nil
}

// CreateSession inserts s, or reads the merchant's session of the same
// out_trade_no into s when there is one.
func (g *GormStorage) CreateSession(ctx context.Context, s *Session) (bool, error) {
	sealed, err := g.sealer.Seal(secretPlace(s.MerchantID, s.Token), []byte(s.ReturnSecret))
	if err != nil {
		return false, fmt.Errorf("seal checkout secret: %w", err)
	}
	r := sessionRow{Token: s.Token, MerchantID: s.MerchantID, OrderID: s.OrderID, OutTradeNo: s.OutTradeNo, ReturnURL: s.ReturnURL,
		ReturnSecret: sealed, ExpiresAt: s.ExpiresAt, CreatedAt: s.CreatedAt}
	err = g.db.Writer(ctx).Create(&r).Error
	if storage.IsDuplicate(err) {
		var old sessionRow
		if err := g.db.Writer(ctx).Where("merchant_id = ? AND out_trade_no = ?", s.MerchantID, s.OutTradeNo).Take(&old).Error; err != nil {
			return false, fmt.Errorf("read checkout session of %s: %w", s.OutTradeNo, err)
		}
		if *s, err = g.session(old); err != nil {
			return false, err
		}
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
	return g.session(r)
}
