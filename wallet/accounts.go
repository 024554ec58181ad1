package wallet

import (
	"context"
	"fmt"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/ledger"
)

// Codes and types of the ledger accounts the wallet uses.
const (
	// ClearingAccount mirrors the banks: card debits come from it, payouts go
	// to it. It goes negative by design, since it stands for the outside world.
	ClearingAccount = "bank:clearing"
	// MarketingAccount is the platform's marketing budget: it funds coupons
	// when they are issued and vouchers when they are spent, and goes
	// negative by what marketing has cost.
	MarketingAccount = "platform:marketing"
	// CardRefundsAccount holds refunds on their way back to a card: a refund
	// books the card's share here in the refund's transaction, and the money
	// moves on to the clearing account once the bank has credited the card
	// (or to the wallet's cash if the card can no longer take it).
	CardRefundsAccount = "bank:card-refunds"

	TypeClearing   = "bank_clearing"
	TypeMarketing  = "platform_marketing"
	TypeCardRefund = "bank_card_refunds"
	TypeCash       = "wallet_cash"
	TypeCouponCash = "wallet_coupon"
)

// CashAccountCode names a wallet's cash account.
func CashAccountCode(id WalletID) string { return fmt.Sprintf("wallet:%d:cash", id) }

// CouponAccountCode names the account that holds a wallet's coupon money.
func CouponAccountCode(id WalletID) string { return fmt.Sprintf("wallet:%d:coupon", id) }

// PlatformAccounts are the platform's accounts a wallet's money comes from.
type PlatformAccounts struct {
	Clearing    ledger.Account
	Marketing   ledger.Account
	CardRefunds ledger.Account
}

// EnsurePlatformAccounts creates the platform accounts if they do not exist,
// and returns them; calling it again (on every start, from every instance)
// is harmless.
func EnsurePlatformAccounts(ctx context.Context, l *ledger.Ledger, currency paydesk.Currency) (PlatformAccounts, error) {
	clearing, err := l.CreateAccount(ctx, ledger.Account{Code: ClearingAccount, Type: TypeClearing, Currency: currency, AllowNegative: true})
	if err != nil {
		return PlatformAccounts{}, fmt.Errorf("ensure %s: %w", ClearingAccount, err)
	}
	marketing, err := l.CreateAccount(ctx, ledger.Account{Code: MarketingAccount, Type: TypeMarketing, Currency: currency, AllowNegative: true})
	if err != nil {
		return PlatformAccounts{}, fmt.Errorf("ensure %s: %w", MarketingAccount, err)
	}
	refunds, err := l.CreateAccount(ctx, ledger.Account{Code: CardRefundsAccount, Type: TypeCardRefund, Currency: currency})
	if err != nil {
		return PlatformAccounts{}, fmt.Errorf("ensure %s: %w", CardRefundsAccount, err)
	}
	return PlatformAccounts{Clearing: clearing, Marketing: marketing, CardRefunds: refunds}, nil
}

// MerchantAccounts are where a payment's money goes. Pending receives what
// the customer paid (cash and card) and is part of the merchant's cleared
// balances; Marketing receives what vouchers and coupons paid, which is
// recorded but not cleared (seed 004, FAQ 5).
type MerchantAccounts struct {
	Pending   ledger.AccountID
	Marketing ledger.AccountID
}
