package cashier

import (
	"context"

	"github.com/paydesk/paydesk"
)

// Storage is what the staff service needs from the database.
type Storage interface {
	paydesk.TxRunner
	// CreateStaff inserts s with its password hash; a taken phone is ErrPhoneTaken.
	CreateStaff(ctx context.Context, s *Staff, passwordHash string) error
	Staff(ctx context.Context, id int64) (Staff, error)
	// StaffForUpdate reads a staff row under a row lock.
	StaffForUpdate(ctx context.Context, merchantID, id int64) (Staff, error)
	StaffByPhone(ctx context.Context, phone string) (Staff, string, error)
	ListStaff(ctx context.Context, merchantID, storeID int64) ([]Staff, error)
	UpdateStaffStatus(ctx context.Context, id int64, status string) error
	UpdateStaffPassword(ctx context.Context, id int64, passwordHash string) error
	// LockActiveOwners locks and counts the merchant's active owners.
	LockActiveOwners(ctx context.Context, merchantID int64) (int, error)

	Audit(ctx context.Context, e AuditEvent) error
	AuditEvents(ctx context.Context, merchantID int64, limit int) ([]AuditEvent, error)
}

// Stores is what staff management asks of tenancy: a manager or cashier
// joins a store, which must be their merchant's. merchant.GormStorage is one.
type Stores interface {
	// CheckStore returns nil when the store is the merchant's, and
	// merchant.ErrStoreNotFound when it is not.
	CheckStore(ctx context.Context, merchantID, storeID int64) error
}
