package cashier

import (
	"context"
	"fmt"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/rbac"
	"github.com/paydesk/paydesk/storage"
)

// GormStorage keeps staff and the audit log in the database.
type GormStorage struct{ db *storage.DB }

// NewGormStorage returns Storage over db.
func NewGormStorage(db *storage.DB) *GormStorage { return &GormStorage{db: db} }

var _ Storage = (*GormStorage)(nil)

// InTx runs fn in a transaction.
func (s *GormStorage) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return s.db.InTx(ctx, fn)
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
	return Staff{ID: r.ID, MerchantID: r.MerchantID, StoreID: r.StoreID, Role: rbac.Role(r.Role), Name: r.Name,
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
		merchantID, string(rbac.Owner), Active).Scan(&ids).Error
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
