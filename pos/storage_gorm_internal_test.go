package pos

import (
	"testing"
	"time"

	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// The hot reads scan orders by hand; they must read what gorm reads, column
// for column, NULLs included.
func TestScanOrderMatchesGorm(t *testing.T) {
	at := time.Date(2026, 11, 25, 10, 0, 0, 123456000, time.UTC)
	token, paid, closed := "tok", at.Add(time.Minute), at.Add(2*time.Minute)
	full := orderRow{ID: 1, MerchantID: 2, StoreID: 3, CashierID: 4, OutTradeNo: "T1", Kind: "scan", Method: "wallet_code",
		Subject: "tea", Amount: 5, Currency: "CNY", State: "paid", WalletID: 6, FundingVoucher: 7, FundingCoupon: 8,
		FundingCash: 9, FundingCard: 10, FundingDetail: `{"cash":9}`, Fee: 11, Refunded: 12, CloseReason: "none",
		RequestDigest: "digest", PayToken: &token, ExpiresAt: at.Add(time.Hour), PaidAt: &paid, ClosedAt: &closed,
		CreatedAt: at, UpdatedAt: at.Add(time.Second)}
	bare := full
	bare.ID, bare.OutTradeNo, bare.PayToken, bare.PaidAt, bare.ClosedAt = 13, "T2", nil, nil, nil
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		storagetest.ScanMatchesGorm(t, db, []orderRow{full, bare}, scanOrder, selectOrders)
	})
}
