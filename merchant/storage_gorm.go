package merchant

import (
	"context"
	"fmt"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/storage"
)

// GormStorage keeps merchants, stores, staff and the audit log in the database.
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

type staffRow struct {
	ID           int64
	MerchantID   int64
	StoreID      int64
	Role         string
	Name         string
	Phone        string
	PasswordHash string
	Status       string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

func (staffRow) TableName() string { return "staff" }

// staffColumns are the columns scanStaff reads, in its order.
const staffColumns = "id, merchant_id, store_id, role, name, phone, password_hash, status, created_at, updated_at"

func scanStaff(sc storage.Scanner, r *staffRow) error {
	return sc.Scan(&r.ID, &r.MerchantID, &r.StoreID, &r.Role, &r.Name, &r.Phone, &r.PasswordHash, &r.Status,
		&r.CreatedAt, &r.UpdatedAt)
}

func (r staffRow) staff() Staff {
	return Staff{ID: r.ID, MerchantID: r.MerchantID, StoreID: r.StoreID, Role: Role(r.Role), Name: r.Name,
		Phone: r.Phone, Status: r.Status, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// CreateStaff inserts a staff member with a password hash.
func (s *GormStorage) CreateStaff(ctx context.Context, st *Staff, passwordHash string) error {
	r := staffRow{MerchantID: st.MerchantID, StoreID: st.StoreID, Role: string(st.Role), Name: st.Name, Phone: st.Phone,
		PasswordHash: passwordHash, Status: st.Status, CreatedAt: st.CreatedAt, UpdatedAt: st.UpdatedAt}
	if err := s.db.Writer(ctx).Create(&r).Error; err != nil {
		if storage.IsDuplicate(err) {
			return ErrPhoneTaken
		}
		return fmt.Errorf("create staff: %w", err)
	}
	st.ID = r.ID
	return nil
}

// oneStaff reads the staff row matching where. Every request authenticates
// by reading its staff row, so this goes around gorm (see
// storage.QueryOne); a locking read must run inside a transaction.
func (s *GormStorage) oneStaff(ctx context.Context, lock bool, where string, args ...any) (staffRow, error) {
	q := "SELECT " + staffColumns + " FROM staff WHERE " + where + " LIMIT 1"
	if lock {
		q += s.db.ForUpdate()
	}
	r, found, err := storage.QueryOne(ctx, s.db, scanStaff, q, args...)
	if err != nil {
		return staffRow{}, fmt.Errorf("read staff: %w", err)
	}
	if !found {
		return staffRow{}, ErrStaffNotFound
	}
	return r, nil
}

// Staff reads a staff member by id.
func (s *GormStorage) Staff(ctx context.Context, id int64) (Staff, error) {
	r, err := s.oneStaff(ctx, false, "id = ?", id)
	return r.staff(), err
}

// StaffForUpdate reads and locks a staff member of a merchant.
func (s *GormStorage) StaffForUpdate(ctx context.Context, merchantID, id int64) (Staff, error) {
	r, err := s.oneStaff(ctx, true, "merchant_id = ? AND id = ?", merchantID, id)
	return r.staff(), err
}

// StaffByPhone reads a staff member and their password hash by phone.
func (s *GormStorage) StaffByPhone(ctx context.Context, phone string) (Staff, string, error) {
	r, err := s.oneStaff(ctx, false, "phone = ?", phone)
	if err != nil {
		return Staff{}, "", paydesk.ErrNotFound
	}
	return r.staff(), r.PasswordHash, nil
}

// ListStaff lists a merchant's staff, of one store when storeID is not 0.
func (s *GormStorage) ListStaff(ctx context.Context, merchantID, storeID int64) ([]Staff, error) {
	q := s.db.Reader(ctx).Where("merchant_id = ?", merchantID)
	if storeID != 0 {
		q = q.Where("store_id = ?", storeID)
	}
	var rows []staffRow
	if err := q.Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list staff: %w", err)
	}
	out := make([]Staff, len(rows))
	for i, r := range rows {
		out[i] = r.staff()
	}
	return out, nil
}

// UpdateStaffStatus sets a staff member's status.
func (s *GormStorage) UpdateStaffStatus(ctx context.Context, id int64, status string) error {
	return s.db.Writer(ctx).Model(&staffRow{}).Where("id = ?", id).
		Updates(map[string]any{"status": status, "updated_at": paydesk.SystemClock()}).Error
}

// UpdateStaffPassword sets a staff member's password hash.
func (s *GormStorage) UpdateStaffPassword(ctx context.Context, id int64, hash string) error {
	return s.db.Writer(ctx).Model(&staffRow{}).Where("id = ?", id).
		Updates(map[string]any{"password_hash": hash, "updated_at": paydesk.SystemClock()}).Error
}

// LockActiveOwners locks the merchant's active owners and counts them, so
// two owners disabling each other at once cannot both succeed.
func (s *GormStorage) LockActiveOwners(ctx context.Context, merchantID int64) (int, error) {
	var ids []int64
	err := s.db.Writer(ctx).Raw("SELECT id FROM staff WHERE merchant_id = ? AND role = ? AND status = ? ORDER BY id"+s.db.ForUpdate(),
		merchantID, string(Owner), Active).Scan(&ids).Error
	return len(ids), err
}

type auditRow struct {
	ID         int64
	MerchantID int64
	ActorID    int64
	Action     string
	TargetID   int64
	Detail     string
	IP         string `gorm:"column:ip"`
	CreatedAt  time.Time
}

func (auditRow) TableName() string { return "audit_events" }

// Audit appends an event to the audit log.
func (s *GormStorage) Audit(ctx context.Context, e AuditEvent) error {
	r := auditRow{MerchantID: e.MerchantID, ActorID: e.ActorID, Action: e.Action, TargetID: e.TargetID,
		Detail: truncate(e.Detail, 255), IP: truncate(e.IP, 64), CreatedAt: e.CreatedAt}
	if err := s.db.Writer(ctx).Create(&r).Error; err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// AuditEvents lists a merchant's newest audit events.
func (s *GormStorage) AuditEvents(ctx context.Context, merchantID int64, limit int) ([]AuditEvent, error) {
	var rows []auditRow
	if err := s.db.Reader(ctx).Where("merchant_id = ?", merchantID).Order("id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list audit events: %w", err)
	}
	out := make([]AuditEvent, len(rows))
	for i, r := range rows {
		out[i] = AuditEvent{ID: r.ID, MerchantID: r.MerchantID, ActorID: r.ActorID, Action: r.Action, TargetID: r.TargetID,
			Detail: r.Detail, IP: r.IP, CreatedAt: r.CreatedAt}
	}
	return out, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
