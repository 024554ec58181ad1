package merchant

import (
	"context"
	"fmt"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/storage"
)

// GormStorage keeps merchants and their stores in the database.
type GormStorage struct{ db *storage.DB }

// NewGormStorage returns Storage over db.
func NewGormStorage(db *storage.DB) *GormStorage { return &GormStorage{db: db} }

var _ Storage = (*GormStorage)(nil)

// InTx runs fn in a transaction.
func (s *GormStorage) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return s.db.InTx(ctx, fn)
}

type merchantRow struct {
	ID               int64
	Name             string
	Currency         string
	FeeRate          int64
	TimeZone         string
	SettlementDays   int
	Status           string
	PendingAccount   int64
	AvailableAccount int64
	FrozenAccount    int64
	MarketingAccount int64
	Marker           *string
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

func (merchantRow) TableName() string { return "merchants" }

// merchantColumns are the columns scanMerchant reads, in its order.
const merchantColumns = "id, name, currency, fee_rate, time_zone, settlement_days, status, " +
	"pending_account, available_account, frozen_account, marketing_account, marker, created_at, updated_at"

func scanMerchant(sc storage.Scanner, r *merchantRow) error {
	return sc.Scan(&r.ID, &r.Name, &r.Currency, &r.FeeRate, &r.TimeZone, &r.SettlementDays, &r.Status,
		&r.PendingAccount, &r.AvailableAccount, &r.FrozenAccount, &r.MarketingAccount, &r.Marker, &r.CreatedAt, &r.UpdatedAt)
}

func (r merchantRow) merchant() Merchant {
	marker := ""
	if r.Marker != nil {
		marker = *r.Marker
	}
	return Merchant{Marker: marker, ID: r.ID, Name: r.Name, Currency: paydesk.Currency(r.Currency), FeeRate: paydesk.Rate(r.FeeRate),
		TimeZone: r.TimeZone, SettlementDays: r.SettlementDays, Status: r.Status, CreatedAt: r.CreatedAt,
		Accounts: Accounts{Pending: ledger.AccountID(r.PendingAccount), Available: ledger.AccountID(r.AvailableAccount),
			Frozen: ledger.AccountID(r.FrozenAccount), Marketing: ledger.AccountID(r.MarketingAccount)}}
}

// CreateMerchant inserts m and sets its ID.
func (s *GormStorage) CreateMerchant(ctx context.Context, m *Merchant) error {
	r := merchantRow{Name: m.Name, Currency: string(m.Currency), FeeRate: int64(m.FeeRate), TimeZone: m.TimeZone,
		SettlementDays: m.SettlementDays, Status: m.Status, CreatedAt: m.CreatedAt, UpdatedAt: m.CreatedAt}
	if m.Marker != "" {
		r.Marker = &m.Marker
	}
	if err := s.db.Writer(ctx).Create(&r).Error; err != nil {
		if storage.IsDuplicate(err) {
			return ErrMarkerTaken
		}
		return fmt.Errorf("create merchant: %w", err)
	}
	m.ID = r.ID
	return nil
}

// SetMerchantAccounts records the ledger accounts of a merchant.
func (s *GormStorage) SetMerchantAccounts(ctx context.Context, id int64, a Accounts) error {
	return s.db.Writer(ctx).Model(&merchantRow{}).Where("id = ?", id).Updates(map[string]any{
		"pending_account": int64(a.Pending), "available_account": int64(a.Available),
		"frozen_account": int64(a.Frozen), "marketing_account": int64(a.Marketing)}).Error
}

// Merchant reads one merchant. Every payment reads its merchant, so this
// goes around gorm (see storage.QueryOne).
func (s *GormStorage) Merchant(ctx context.Context, id int64) (Merchant, error) {
	r, found, err := storage.QueryOne(ctx, s.db, scanMerchant, "SELECT "+merchantColumns+" FROM merchants WHERE id = ? LIMIT 1", id)
	if err != nil {
		return Merchant{}, fmt.Errorf("read merchant: %w", err)
	}
	if !found {
		return Merchant{}, ErrMerchantNotFound
	}
	return r.merchant(), nil
}

// MerchantByMarker reads the merchant with a marker.
func (s *GormStorage) MerchantByMarker(ctx context.Context, marker string) (Merchant, error) {
	r, found, err := storage.QueryOne(ctx, s.db, scanMerchant, "SELECT "+merchantColumns+" FROM merchants WHERE marker = ? LIMIT 1", marker)
	if err != nil {
		return Merchant{}, fmt.Errorf("read merchant: %w", err)
	}
	if !found {
		return Merchant{}, ErrMerchantNotFound
	}
	return r.merchant(), nil
}

// Merchants lists merchants in id order after afterID.
func (s *GormStorage) Merchants(ctx context.Context, afterID int64, limit int) ([]Merchant, error) {
	var rows []merchantRow
	if err := s.db.Reader(ctx).Where("id > ?", afterID).Order("id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list merchants: %w", err)
	}
	out := make([]Merchant, len(rows))
	for i, r := range rows {
		out[i] = r.merchant()
	}
	return out, nil
}

// UpdateMerchantTerms writes the terms that are set.
func (s *GormStorage) UpdateMerchantTerms(ctx context.Context, id int64, t Terms) error {
	cols := map[string]any{"updated_at": paydesk.SystemClock()}
	if t.FeeRate != nil {
		cols["fee_rate"] = int64(*t.FeeRate)
	}
	if t.SettlementDays != nil {
		cols["settlement_days"] = *t.SettlementDays
	}
	res := s.db.Writer(ctx).Model(&merchantRow{}).Where("id = ?", id).Updates(cols)
	if res.Error != nil {
		return fmt.Errorf("update merchant %d: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrMerchantNotFound
	}
	return nil
}

type storeRow struct {
	ID         int64
	MerchantID int64
	Name       string
	Address    string
	QrToken    string
	CreatedAt  time.Time
}

func (storeRow) TableName() string { return "stores" }

func (r storeRow) store() Store {
	return Store{ID: r.ID, MerchantID: r.MerchantID, Name: r.Name, Address: r.Address, QRToken: r.QrToken, CreatedAt: r.CreatedAt}
}

// CreateStore inserts st and sets its ID.
func (s *GormStorage) CreateStore(ctx context.Context, st *Store) error {
	r := storeRow{MerchantID: st.MerchantID, Name: st.Name, Address: st.Address, QrToken: st.QRToken, CreatedAt: st.CreatedAt}
	if err := s.db.Writer(ctx).Create(&r).Error; err != nil {
		return fmt.Errorf("create store: %w", err)
	}
	st.ID = r.ID
	return nil
}

func (s *GormStorage) oneStore(ctx context.Context, where string, args ...any) (Store, error) {
	var rows []storeRow
	if err := s.db.Reader(ctx).Where(where, args...).Limit(1).Find(&rows).Error; err != nil {
		return Store{}, fmt.Errorf("read store: %w", err)
	}
	if len(rows) == 0 {
		return Store{}, ErrStoreNotFound
	}
	return rows[0].store(), nil
}

// Store reads a store of a merchant.
func (s *GormStorage) Store(ctx context.Context, merchantID, id int64) (Store, error) {
	return s.oneStore(ctx, "merchant_id = ? AND id = ?", merchantID, id)
}

// CheckStore returns ErrStoreNotFound unless the store is the merchant's
// (cashier.Stores, for staff joining a store).
func (s *GormStorage) CheckStore(ctx context.Context, merchantID, id int64) error {
	_, err := s.Store(ctx, merchantID, id)
	return err
}

// StoreByQRToken reads the store behind a static QR.
func (s *GormStorage) StoreByQRToken(ctx context.Context, token string) (Store, error) {
	return s.oneStore(ctx, "qr_token = ?", token)
}

// Stores lists a merchant's stores.
func (s *GormStorage) Stores(ctx context.Context, merchantID int64) ([]Store, error) {
	var rows []storeRow
	if err := s.db.Reader(ctx).Where("merchant_id = ?", merchantID).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list stores: %w", err)
	}
	out := make([]Store, len(rows))
	for i, r := range rows {
		out[i] = r.store()
	}
	return out, nil
}

// UpdateStore writes a store's name and address.
func (s *GormStorage) UpdateStore(ctx context.Context, st Store) error {
	return s.db.Writer(ctx).Model(&storeRow{}).Where("merchant_id = ? AND id = ?", st.MerchantID, st.ID).
		Updates(map[string]any{"name": st.Name, "address": st.Address}).Error
}
