package rbac

import (
	"context"
	"fmt"
	"time"

	"github.com/paydesk/paydesk/storage"
)

// GormSessionStore keeps refresh sessions in the application database, in
// the refresh_tokens table (storage/migrations/00005_sessions.sql).
type GormSessionStore struct {
	db *storage.DB
}

// NewGormSessionStore returns a SessionStore over db.
func NewGormSessionStore(db *storage.DB) *GormSessionStore { return &GormSessionStore{db: db} }

var _ SessionStore = (*GormSessionStore)(nil)

type refreshRow struct {
	ID          int64 `gorm:"primaryKey"`
	TokenHash   string
	FamilyID    string
	SubjectKind string
	SubjectID   int64
	MerchantID  int64
	StoreID     int64
	Role        string
	IssuedAt    time.Time
	ExpiresAt   time.Time
	RotatedAt   *time.Time
	RevokedAt   *time.Time
}

func (refreshRow) TableName() string { return "refresh_tokens" }

func (r refreshRow) session() RefreshSession {
	s := RefreshSession{
		ID: r.ID, TokenHash: r.TokenHash, Family: r.FamilyID,
		Principal: Principal{Kind: Kind(r.SubjectKind), ID: r.SubjectID, MerchantID: r.MerchantID, StoreID: r.StoreID, Role: Role(r.Role)},
		IssuedAt:  r.IssuedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(),
	}
	if r.RotatedAt != nil {
		s.RotatedAt = r.RotatedAt.UTC()
	}
	if r.RevokedAt != nil {
		s.RevokedAt = r.RevokedAt.UTC()
	}
	return s
}

// InTx runs fn in a database transaction.
func (g *GormSessionStore) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return g.db.InTx(ctx, fn)
}

// Create stores s and sets its ID.
func (g *GormSessionStore) Create(ctx context.Context, s *RefreshSession) error {
	p := s.Principal
	row := refreshRow{
		TokenHash: s.TokenHash, FamilyID: s.Family,
		SubjectKind: string(p.Kind), SubjectID: p.ID, MerchantID: p.MerchantID, StoreID: p.StoreID, Role: string(p.Role),
		IssuedAt: s.IssuedAt, ExpiresAt: s.ExpiresAt,
	}
	if err := g.db.Writer(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("create refresh session for %s: %w", p, err)
	}
	s.ID = row.ID
	return nil
}

// ByHash returns the session whose token hashes to hash, locked for the rest
// of the transaction in ctx if there is one.
func (g *GormSessionStore) ByHash(ctx context.Context, hash string) (RefreshSession, bool, error) {
	lock := ""
	if storage.InTxContext(ctx) {
		lock = g.db.ForUpdate()
	}
	var rows []refreshRow
	err := g.db.Writer(ctx).Raw("SELECT id, token_hash, family_id, subject_kind, subject_id, merchant_id, store_id, role, issued_at, expires_at, rotated_at, revoked_at"+
		" FROM refresh_tokens WHERE token_hash = ?"+lock, hash).Scan(&rows).Error
	if err != nil {
		return RefreshSession{}, false, fmt.Errorf("find refresh session: %w", err)
	}
	if len(rows) == 0 {
		return RefreshSession{}, false, nil
	}
	return rows[0].session(), true, nil
}

// MarkRotated retires session id if nothing else has retired or revoked it.
func (g *GormSessionStore) MarkRotated(ctx context.Context, id int64, at time.Time) (bool, error) {
	res := g.db.Writer(ctx).Exec("UPDATE refresh_tokens SET rotated_at = ? WHERE id = ? AND rotated_at IS NULL AND revoked_at IS NULL", at, id)
	if res.Error != nil {
		return false, fmt.Errorf("rotate refresh session %d: %w", id, res.Error)
	}
	return res.RowsAffected == 1, nil
}

// RevokeFamily revokes every session of family.
func (g *GormSessionStore) RevokeFamily(ctx context.Context, family string, at time.Time) error {
	err := g.db.Writer(ctx).Exec("UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL", at, family).Error
	if err != nil {
		return fmt.Errorf("revoke session family: %w", err)
	}
	return nil
}

// FamilyActive reports whether family has a session not revoked.
func (g *GormSessionStore) FamilyActive(ctx context.Context, family string) (bool, error) {
	var ids []int64
	err := g.db.Reader(ctx).Raw("SELECT id FROM refresh_tokens WHERE family_id = ? AND revoked_at IS NULL LIMIT 1", family).Scan(&ids).Error
	if err != nil {
		return false, fmt.Errorf("read session family: %w", err)
	}
	return len(ids) > 0, nil
}

// RevokeSubject revokes every session of (kind, id).
func (g *GormSessionStore) RevokeSubject(ctx context.Context, kind Kind, id int64, at time.Time) (int64, error) {
	res := g.db.Writer(ctx).Exec("UPDATE refresh_tokens SET revoked_at = ? WHERE subject_kind = ? AND subject_id = ? AND revoked_at IS NULL", at, string(kind), id)
	if res.Error != nil {
		return 0, fmt.Errorf("revoke sessions of %s %d: %w", kind, id, res.Error)
	}
	return res.RowsAffected, nil
}

// DeleteExpired deletes the sessions that expired before before.
func (g *GormSessionStore) DeleteExpired(ctx context.Context, before time.Time) (int64, error) {
	res := g.db.Writer(ctx).Exec("DELETE FROM refresh_tokens WHERE expires_at < ?", before)
	if res.Error != nil {
		return 0, fmt.Errorf("delete expired refresh sessions: %w", res.Error)
	}
	return res.RowsAffected, nil
}
