package cashier

import (
	"testing"
	"time"

	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// The hot read scans staff by hand; it must read what gorm reads, column
// for column.
func TestScansMatchGorm(t *testing.T) {
	at := time.Date(2026, 11, 25, 10, 0, 0, 123456000, time.UTC)
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		storagetest.ScanMatchesGorm(t, db, []staffRow{{MerchantID: 21, StoreID: 22, Role: "cashier", Name: "Li",
			Phone: "13800138000", PasswordHash: "hash", Status: "active", CreatedAt: at, UpdatedAt: at.Add(time.Second)}},
			scanStaff, "SELECT "+staffColumns+" FROM staff")
	})
}
