package wallet

import (
	"testing"
	"time"

	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// The hot reads scan wallets and vouchers by hand; they must read what gorm
// reads, column for column, NULLs included.
func TestScansMatchGorm(t *testing.T) {
	at := time.Date(2026, 11, 25, 10, 0, 0, 123456000, time.UTC)
	token, last4, bank := "card-token", "1234", "ICBC"
	carded := walletRow{Phone: "13800138000", PasswordHash: "hash", Currency: "CNY", CodeID: "code0001", CodeSecret: "00ff",
		TOTPSecret: "totp", NoPasswordLimit: 1, CardToken: &token, CardLast4: &last4, CardBank: &bank,
		CashAccountID: 2, CouponAccountID: 3, CreatedAt: at, UpdatedAt: at.Add(time.Second)}
	cardless := carded
	cardless.Phone, cardless.CodeID, cardless.CardToken, cardless.CardLast4, cardless.CardBank = "13800138001", "code0002", nil, nil, nil
	ref, used := "order:1", at.Add(time.Minute)
	spent := voucherRow{WalletID: 4, Reference: "v1", Amount: 5, Currency: "CNY", MerchantID: 6, ExpiresAt: at.Add(time.Hour),
		Status: "used", UsedBy: &ref, UsedAt: &used, CreatedAt: at}
	active := spent
	active.Reference, active.Status, active.UsedBy, active.UsedAt = "v2", "active", nil, nil
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		storagetest.ScanMatchesGorm(t, db, []walletRow{carded, cardless}, scanWallet, "SELECT "+walletColumns+" FROM wallets")
		storagetest.ScanMatchesGorm(t, db, []voucherRow{spent, active}, scanVoucher, "SELECT "+voucherColumns+" FROM wallet_vouchers")
	})
}
