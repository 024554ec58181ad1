// Package cashier holds the people who work at a merchant's counters and
// behind them (owners, managers, cashiers): their staff accounts, the acting
// staff member of a use case (Actor), sign-in, password confirmation, who
// may manage whom, and the audit trail of every change. The tenancy they
// belong to (merchants, stores, settings) is package merchant; the roles
// and what each may call are package rbac.
package cashier

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/internal/readcache"
	"github.com/paydesk/paydesk/rbac"
	"github.com/paydesk/paydesk/storage"
)

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
	Role       rbac.Role
	Name       string
	Phone      string
	Status     string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Actor is the authenticated staff member calling a use case, and where
// they called from. Every staff use case (a payment, a refund only owners
// may make, a change of staff) takes one.
type Actor struct {
	StaffID    int64
	MerchantID int64
	StoreID    int64
	Role       rbac.Role
	IP         string
}

// OperatorActor is the platform operator acting on merchant id from the
// command line: an owner's rights, no staff account (StaffID 0 in the
// audit log).
func OperatorActor(merchantID int64) Actor {
	return Actor{MerchantID: merchantID, Role: rbac.Owner, IP: "operator"}
}

// Errors with stable codes.
var (
	ErrInvalidCredentials = paydesk.ErrInvalidCredentials
	// ErrStaffDisabled refuses the sign-in of a disabled staff member (403:
	// the password was right, the account may not sign in). A token issued
	// before the disabling is refused with the same code as 401 by the
	// HTTP layer, since there the credentials are what no longer holds.
	ErrStaffDisabled = &paydesk.Error{Kind: paydesk.KindForbidden, Code: "STAFF_DISABLED", Message: "this account is disabled"}
	// ErrPhoneTaken says only that the number cannot be used: the same for
	// a phone on the merchant's own staff and one on another merchant's, so
	// it tells nobody where the number works (see Add).
	ErrPhoneTaken    = paydesk.ErrPhoneTaken.WithMessage("this phone number cannot be used for a new staff account, use another")
	ErrLastOwner     = &paydesk.Error{Kind: paydesk.KindConflict, Code: "LAST_OWNER", Message: "a merchant keeps at least one active owner"}
	ErrStaffNotFound = &paydesk.Error{Kind: paydesk.KindNotFound, Code: "STAFF_NOT_FOUND", Message: "no such staff member"}
)

// Service carries out the staff use cases.
type Service struct {
	store    Storage
	stores   Stores
	attempts *storage.Attempts
	clock    paydesk.Clock
	// passwords hashes staff passwords; DefaultPasswordParams unless
	// WithPasswords says otherwise.
	passwords *paydesk.Passwords
	observers []Observer
	sessions  Sessions
	// cache holds staff rows for ByID; nil (no WithCache) reads every time.
	cache *readcache.Cache[int64, Staff]
}

// Sessions ends a staff member's sign-in sessions, inside the transaction
// in ctx; *rbac.Tokens is one.
type Sessions interface {
	RevokeSubject(ctx context.Context, kind rbac.Kind, id int64) (int64, error)
}

// WithSessions ends the sessions of staff who are disabled or change or
// have their password reset, in the transaction of the change. Without
// it (a service that runs no API: another domain's tests) none are ended.
func WithSessions(t Sessions) Option {
	return func(s *Service) { s.sessions = t }
}

// Observer learns that a staff member was disabled inside the transaction
// that disables them, so what it writes (the staff.disabled push event)
// commits or rolls back with the change.
type Observer interface {
	StaffDisabled(ctx context.Context, st Staff) error
}

// Option tunes a Service.
type Option func(*Service)

// WithObserver adds an observer of disabled staff.
func WithObserver(o Observer) Option {
	return func(s *Service) { s.observers = append(s.observers, o) }
}

// WithCache keeps up to size staff rows for ByID, each for at most ttl:
// the per-request authentication reads the same few rows all day. A
// change made through this Service is seen at once (it forgets the row
// after its transaction); one made elsewhere, within ttl, or as soon as
// Forget is called for it (on another instance's staff.disabled event).
func WithCache(ttl time.Duration, size int) Option {
	return func(s *Service) { s.cache = readcache.New[int64, Staff](size, ttl, s.clock) }
}

// WithPasswords hashes staff passwords with p instead of
// paydesk.DefaultPasswordParams; tests pass cheap costs to run fast.
func WithPasswords(p paydesk.PasswordParams) Option {
	return func(s *Service) { s.passwords = paydesk.NewPasswords(p) }
}

// NewService returns a Service. stores answers whether a store is the
// merchant's (merchant.GormStorage is one), for staff added to a store.
func NewService(store Storage, stores Stores, attempts *storage.Attempts, clock paydesk.Clock, opts ...Option) *Service {
	s := &Service{store: store, stores: stores, attempts: attempts, clock: clock, passwords: paydesk.NewPasswords(paydesk.DefaultPasswordParams)}
	for _, o := range opts {
		o(s)
	}
	return s
}

func validName(s string, field string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || len([]rune(s)) > 64 {
		return "", paydesk.ErrInvalid.WithMessage("%s must be 1 to 64 characters", field)
	}
	return s, nil
}

// asNotFound turns any not-found from the store into err, so that staff of
// other merchants are indistinguishable from staff that do not exist.
func asNotFound(got error, err *paydesk.Error) error {
	if errors.Is(got, paydesk.ErrNotFound) {
		return err
	}
	return got
}
