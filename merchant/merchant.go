// Package merchant holds the tenancy of paydesk: the merchants that use it,
// their stores and their settings (fees, settlement cycle, time zone). The
// people who work there, how they sign in and the audit trail are package
// cashier.
package merchant

import (
	"strings"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/ledger"
)

// Merchant is a business that collects payments. Everything its staff
// collect goes into its accounts.
type Merchant struct {
	ID       int64
	Name     string
	Currency paydesk.Currency
	FeeRate  paydesk.Rate
	// TimeZone is where the merchant's business day starts and ends.
	TimeZone string
	// SettlementDays is N in T+N: how many days after a business day its
	// money becomes available.
	SettlementDays int
	Status         string
	// Marker, when set, is unique: a tool that made the merchant (the
	// demo) finds it again by it.
	Marker    string
	Accounts  Accounts
	CreatedAt time.Time
}

// Accounts are a merchant's ledger accounts. Book balance is pending +
// available + frozen; marketing only records voucher and coupon money, which
// is not part of the merchant's cleared balances.
type Accounts struct {
	Pending   ledger.AccountID // collected, not yet settled
	Available ledger.AccountID // settled, withdrawable
	Frozen    ledger.AccountID // in a payout in flight
	Marketing ledger.AccountID // vouchers and coupons spent at the merchant
}

// Location returns the merchant's time zone, falling back to Asia/Shanghai.
func (m Merchant) Location() *time.Location {
	if loc, err := time.LoadLocation(m.TimeZone); err == nil {
		return loc
	}
	loc, _ := time.LoadLocation(DefaultTimeZone)
	return loc
}

// DefaultTimeZone is the business-day time zone of a merchant that sets none.
const DefaultTimeZone = "Asia/Shanghai"

// Store is one shop of a merchant.
type Store struct {
	ID         int64
	MerchantID int64
	Name       string
	Address    string
	// QRToken is the unguessable identifier printed in the store's static QR.
	QRToken   string
	CreatedAt time.Time
}

// Merchant status values.
const (
	Active   = "active"
	Disabled = "disabled"
)

// Errors with stable codes.
var (
	ErrStoreNotFound    = &paydesk.Error{Kind: paydesk.KindNotFound, Code: "STORE_NOT_FOUND", Message: "no such store"}
	ErrMerchantNotFound = &paydesk.Error{Kind: paydesk.KindNotFound, Code: "MERCHANT_NOT_FOUND", Message: "no such merchant"}
)

func validName(s string, field string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || len([]rune(s)) > 64 {
		return "", paydesk.ErrInvalid.WithMessage("%s must be 1 to 64 characters", field)
	}
	return s, nil
}
