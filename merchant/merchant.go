// Package merchant holds the merchants that use paydesk, their stores and
// their staff (owners, managers, cashiers): who they are, how they log in,
// who may manage whom, and the audit trail of every change.
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

// Role is what a staff member may do.
type Role string

const (
	Owner   Role = "owner"
	Manager Role = "manager"
	Cashier Role = "cashier"
)

// Valid reports whether r is a staff role.
func (r Role) Valid() bool { return r == Owner || r == Manager || r == Cashier }

// Staff status values.
const (
	Active   = "active"
	Disabled = "disabled"
)

// Staff is a person who works for a merchant. Owners belong to the whole
// merchant (StoreID 0); managers and cashiers to one store.
type Staff struct {
	ID         int64
	MerchantID int64
	StoreID    int64
	Role       Role
	Name       string
	Phone      string
	Status     string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Actor is the authenticated caller of a use case, and where they called from.
type Actor struct {
	StaffID    int64
	MerchantID int64
	StoreID    int64
	Role       Role
	IP         string
}

// Errors with stable codes.
var (
	ErrInvalidCredentials = &paydesk.Error{Kind: paydesk.KindUnauthorized, Code: "INVALID_CREDENTIALS", Message: "wrong phone number or password"}
	ErrStaffDisabled      = &paydesk.Error{Kind: paydesk.KindForbidden, Code: "STAFF_DISABLED", Message: "this account is disabled"}
	// ErrPhoneTaken says only that the number cannot be used: the same for
	// a phone on the merchant's own staff and one on another merchant's, so
	// it tells nobody where the number works (see AddStaff).
	ErrPhoneTaken       = &paydesk.Error{Kind: paydesk.KindConflict, Code: "PHONE_TAKEN", Message: "this phone number cannot be used for a new staff account, use another"}
	ErrLastOwner        = &paydesk.Error{Kind: paydesk.KindConflict, Code: "LAST_OWNER", Message: "a merchant keeps at least one active owner"}
	ErrStaffNotFound    = &paydesk.Error{Kind: paydesk.KindNotFound, Code: "STAFF_NOT_FOUND", Message: "no such staff member"}
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
