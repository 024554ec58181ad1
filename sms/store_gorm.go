package sms

import (
	"context"
	"time"

	"gorm.io/gorm/clause"

	"github.com/paydesk/paydesk/storage"
)

// GormStore keeps the codes in the phone_codes table.
type GormStore struct{ db *storage.DB }

// NewGormStore returns a Store on db.
func NewGormStore(db *storage.DB) *GormStore { return &GormStore{db: db} }

type codeRow struct {
	Phone     string `gorm:"primaryKey"`
	Purpose   string `gorm:"primaryKey"`
	CodeHash  string
	Failures  int
	SentAt    time.Time
	ExpiresAt time.Time
}

func (codeRow) TableName() string { return "phone_codes" }

// Code implements Store.
func (s *GormStore) Code(ctx context.Context, phone string, p Purpose) (Code, bool, error) {
	var rows []codeRow
	if err := s.db.Writer(ctx).Where("phone = ? AND purpose = ?", phone, string(p)).Limit(1).Find(&rows).Error; err != nil {
		return Code{}, false, err
	}
	if len(rows) == 0 {
		return Code{}, false, nil
	}
	r := rows[0]
	return Code{Phone: r.Phone, Purpose: Purpose(r.Purpose), Hash: r.CodeHash, Failures: r.Failures, SentAt: r.SentAt.UTC(), ExpiresAt: r.ExpiresAt.UTC()}, true, nil
}

// Put implements Store.
func (s *GormStore) Put(ctx context.Context, c Code) error {
	r := codeRow{Phone: c.Phone, Purpose: string(c.Purpose), CodeHash: c.Hash, SentAt: c.SentAt.UTC(), ExpiresAt: c.ExpiresAt.UTC()}
	return s.db.Writer(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "phone"}, {Name: "purpose"}},
		DoUpdates: clause.AssignmentColumns([]string{"code_hash", "failures", "sent_at", "expires_at"}),
	}).Create(&r).Error
}

// Fail implements Store.
func (s *GormStore) Fail(ctx context.Context, phone string, p Purpose, h string) error {
	return s.db.Writer(ctx).Exec("UPDATE phone_codes SET failures = failures + 1 WHERE phone = ? AND purpose = ? AND code_hash = ?", phone, string(p), h).Error
}

// Spend implements Store.
func (s *GormStore) Spend(ctx context.Context, phone string, p Purpose, h string) (bool, error) {
	res := s.db.Writer(ctx).Exec("DELETE FROM phone_codes WHERE phone = ? AND purpose = ? AND code_hash = ? AND failures < ?", phone, string(p), h, MaxFailures)
	return res.RowsAffected == 1, res.Error
}
