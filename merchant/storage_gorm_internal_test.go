package merchant

import (
	"testing"
	"time"

	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// The hot read scans merchants by hand; they must read what gorm
// reads, column for column.
func TestScansMatchGorm(t *testing.T) {
	at := time.Date(2026, 11, 25, 10, 0, 0, 123456000, time.UTC)
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		storagetest.ScanMatchesGorm(t, db, []merchantRow{{Name: "Tea House", Currency: "CNY", FeeRate: 38,
			TimeZone: "Asia/Shanghai", SettlementDays: 2, Status: "active", PendingAccount: 11, AvailableAccount: 12,
			FrozenAccount: 13, MarketingAccount: 14, CreatedAt: at, UpdatedAt: at.Add(time.Second)}},
			scanMerchant, "SELECT "+merchantColumns+" FROM merchants")
	})
}
