package apikey

import (
	"context"
	"fmt"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/storage"
)

// GormStorage keeps API keys in the api_keys table.
type GormStorage struct{ db *storage.DB }

// NewGormStorage returns Storage over db.
func NewGormStorage(db *storage.DB) *GormStorage { return &GormStorage{db: db} }

var _ Storage = (*GormStorage)(nil)

type keyRow struct {
	ID         int64
	MerchantID int64
	StoreID    int64
	Name       string
	Kind       string
	Prefix     string
	Hash       string
	Scopes     string
	CreatedBy  int64
	CreatedAt  time.Time
	RevokedAt  *time.Time
}

func (keyRow) TableName() string { return "api_keys" }

func (r keyRow) key() Key {
	return Key{ID: r.ID, MerchantID: r.MerchantID, StoreID: r.StoreID, Name: r.Name, Kind: Kind(r.Kind), Prefix: r.Prefix,
		Scopes: splitScopes(r.Scopes), CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt, RevokedAt: r.RevokedAt}
}

// CreateKey inserts k and sets its ID.
func (s *GormStorage) CreateKey(ctx context.Context, k *Key, hash string) error {
	r := keyRow{MerchantID: k.MerchantID, StoreID: k.StoreID, Name: k.Name, Kind: string(k.Kind), Prefix: k.Prefix, Hash: hash,
		Scopes: joinScopes(k.Scopes), CreatedBy: k.CreatedBy, CreatedAt: k.CreatedAt}
	if err := s.db.Writer(ctx).Create(&r).Error; err != nil {
		return fmt.Errorf("insert API key: %w", err)
	}
	k.ID = r.ID
	return nil
}

// KeyByHash returns the key with hash, from the writer: a revocation that
// has just committed must be seen by the very next request.
func (s *GormStorage) KeyByHash(ctx context.Context, hash string) (Key, error) {
	var r keyRow
	err := s.db.Writer(ctx).Where("hash = ?", hash).Take(&r).Error
	if storage.IsNotFound(err) {
		return Key{}, ErrKeyInvalid
	}
	if err != nil {
		return Key{}, fmt.Errorf("read API key: %w", err)
	}
	return r.key(), nil
}

// Keys returns the merchant's keys, newest first.
func (s *GormStorage) Keys(ctx context.Context, merchantID int64) ([]Key, error) {
	var rows []keyRow
	if err := s.db.Reader(ctx).Where("merchant_id = ?", merchantID).Order("id DESC").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list API keys of merchant %d: %w", merchantID, err)
	}
	out := make([]Key, len(rows))
	for i, r := range rows {
		out[i] = r.key()
	}
	return out, nil
}

// RevokeKey sets revoked_at once, conditional on it being unset, and
// returns the key as it is afterwards.
func (s *GormStorage) RevokeKey(ctx context.Context, merchantID, id int64, now paydesk.Clock) (Key, error) {
	at := now().UTC().Truncate(time.Microsecond)
	if err := s.db.Writer(ctx).Model(&keyRow{}).Where("id = ? AND merchant_id = ? AND revoked_at IS NULL", id, merchantID).
		Update("revoked_at", at).Error; err != nil {
		return Key{}, fmt.Errorf("revoke API key %d: %w", id, err)
	}
	var r keyRow
	err := s.db.Writer(ctx).Where("id = ? AND merchant_id = ?", id, merchantID).Take(&r).Error
	if storage.IsNotFound(err) {
		return Key{}, ErrKeyNotFound
	}
	if err != nil {
		return Key{}, fmt.Errorf("read API key %d: %w", id, err)
	}
	return r.key(), nil
}
