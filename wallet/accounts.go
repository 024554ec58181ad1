package wallet

import (
	"fmt"

	"github.com/paydesk/paydesk/ledger"
)

// Types of a wallet's own ledger accounts. The platform's accounts it draws
// on (bank:clearing, platform:marketing, bank:card-refunds) are the
// ledger's chart (ledger.Platform).
const (
	TypeCash       = "wallet_cash"
	TypeCouponCash = "wallet_coupon"
)

// CashAccountCode names a wallet's cash account.
func CashAccountCode(id WalletID) string { return fmt.Sprintf("wallet:%d:cash", id) }

// CouponAccountCode names the account that holds a wallet's coupon money.
func CouponAccountCode(id WalletID) string { return fmt.Sprintf("wallet:%d:coupon", id) }

// MerchantAccounts are where a payment's money goes. Pending receives what
// the customer paid (cash and card) and is part of the merchant's cleared
// balances; Marketing receives what vouchers and coupons paid, which is
// recorded but not cleared (seed 004, FAQ 5).
type MerchantAccounts struct {
	Pending   ledger.AccountID
	Marketing ledger.AccountID
}
