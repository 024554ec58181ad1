package merchant

import (
	"context"

	"github.com/paydesk/paydesk"
)

// Storage is what the merchant service needs from the database.
type Storage interface {
	paydesk.TxRunner
	CreateMerchant(ctx context.Context, m *Merchant) error
	SetMerchantAccounts(ctx context.Context, id int64, a Accounts) error
	Merchant(ctx context.Context, id int64) (Merchant, error)
	// MerchantByMarker finds the merchant with a marker, ErrMerchantNotFound if none.
	MerchantByMarker(ctx context.Context, marker string) (Merchant, error)
	// Merchants lists merchants by id, after afterID, at most limit.
	Merchants(ctx context.Context, afterID int64, limit int) ([]Merchant, error)
	UpdateMerchantTerms(ctx context.Context, id int64, t Terms) error
	CreateStore(ctx context.Context, s *Store) error
	Store(ctx context.Context, merchantID, id int64) (Store, error)
	StoreByQRToken(ctx context.Context, token string) (Store, error)
	Stores(ctx context.Context, merchantID int64) ([]Store, error)
	UpdateStore(ctx context.Context, st Store) error

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
