package merchant

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/internal/readcache"
	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/storage"
)

// Service carries out the merchant use cases.
type Service struct {
	store  Storage
	ledger *ledger.Ledger
	// staff opens a merchant's first owner and keeps the audit trail.
	staff     *cashier.Service
	clock     paydesk.Clock
	observers []Observer
	// cache holds merchants for Merchant; nil (no WithCache) reads every time.
	cache *readcache.Cache[int64, Merchant]
}

// Observer learns of a change of a merchant's terms inside the
// transaction that makes it, so what it writes (the outbox's
// merchant.updated, which tells every instance to read the merchant
// again) commits or rolls back with the change.
type Observer interface {
	MerchantUpdated(ctx context.Context, m Merchant) error
}

// Option tunes a Service.
type Option func(*Service)

// WithObserver adds an observer of changed terms.
func WithObserver(o Observer) Option {
	return func(s *Service) { s.observers = append(s.observers, o) }
}

// WithCache keeps up to size merchants for Merchant, each for at most
// ttl: every payment reads its merchant and fee. A change made through
// this Service is seen at once (it forgets the merchant after its
// transaction); one made elsewhere, within ttl, or as soon as Forget is
// called for it (on the merchant.updated event).
func WithCache(ttl time.Duration, size int) Option {
	return func(s *Service) { s.cache = readcache.New[int64, Merchant](size, ttl, s.clock) }
}

// NewService returns a Service.
func NewService(store Storage, l *ledger.Ledger, staff *cashier.Service, clock paydesk.Clock, opts ...Option) *Service {
	s := &Service{store: store, ledger: l, staff: staff, clock: clock}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Staff returns the staff service the merchant's owners are opened and its
// changes audited with, for services that hold only a merchant.Service.
func (s *Service) Staff() *cashier.Service { return s.staff }

// NewMerchant is what the platform operator gives to open a merchant.
type NewMerchant struct {
	Name           string
	Currency       paydesk.Currency // default CNY
	FeeRate        paydesk.Rate     // default 0.38%
	TimeZone       string           // default Asia/Shanghai
	SettlementDays int              // default 1 (T+1); 0 means T+0 only if SettleSameDay
	SettleSameDay  bool
	StoreName      string
	OwnerName      string
	OwnerPhone     string
	OwnerPassword  string
	// Marker, optional and unique, lets the tool that opens the merchant
	// find it again (MerchantByMarker); a taken marker is MARKER_TAKEN.
	Marker string
}

// Opened is a new merchant with its first store and owner.
type Opened struct {
	Merchant Merchant
	Store    Store
	Owner    cashier.Staff
}

// CreateMerchant opens a merchant with its ledger accounts, a first store
// and a first owner, all in one transaction.
func (s *Service) CreateMerchant(ctx context.Context, nm NewMerchant) (Opened, error) {
	name, err := validName(nm.Name, "merchant name")
	if err != nil {
		return Opened{}, err
	}
	if nm.Currency == "" {
		nm.Currency = paydesk.DefaultCurrency
	}
	if len(nm.Currency) != 3 {
		return Opened{}, paydesk.ErrInvalid.WithMessage("currency must be a 3-letter ISO code")
	}
	if nm.FeeRate == 0 {
		nm.FeeRate = paydesk.DefaultFeeRate
	}
	if nm.FeeRate < 0 || nm.FeeRate > 100_000 {
		return Opened{}, paydesk.ErrInvalid.WithMessage("fee rate must be between 0 and 10%%")
	}
	if nm.TimeZone == "" {
		nm.TimeZone = DefaultTimeZone
	}
	if _, err := time.LoadLocation(nm.TimeZone); err != nil {
		return Opened{}, paydesk.ErrInvalid.WithMessage("unknown time zone %q", nm.TimeZone)
	}
	if nm.SettlementDays == 0 && !nm.SettleSameDay {
		nm.SettlementDays = 1
	}
	if nm.SettlementDays < 0 || nm.SettlementDays > 30 {
		return Opened{}, paydesk.ErrInvalid.WithMessage("settlement cycle must be T+0 to T+30")
	}
	if len(nm.Marker) > 64 {
		return Opened{}, paydesk.ErrInvalid.WithMessage("marker must be at most 64 bytes")
	}
	if nm.StoreName == "" {
		nm.StoreName = name
	}
	var out Opened
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		now := s.clock()
		m := Merchant{Name: name, Currency: nm.Currency, FeeRate: nm.FeeRate, TimeZone: nm.TimeZone,
			SettlementDays: nm.SettlementDays, Status: Active, Marker: nm.Marker, CreatedAt: now}
		if err := s.store.CreateMerchant(ctx, &m); err != nil {
			return err
		}
		// The platform's accounts its fees go to (set up by now, unless
		// this is a book's first merchant).
		if _, err := s.ledger.Platform(ctx, m.Currency); err != nil {
			return err
		}
		for _, a := range []struct {
			id  *ledger.AccountID
			typ string
		}{{&m.Accounts.Pending, "pending"}, {&m.Accounts.Available, "available"}, {&m.Accounts.Frozen, "frozen"}, {&m.Accounts.Marketing, "marketing"}} {
			acc, err := s.ledger.CreateAccount(ctx, ledger.Account{Code: fmt.Sprintf("merchant:%d:%s", m.ID, a.typ), Type: "merchant_" + a.typ, Currency: m.Currency})
			if err != nil {
				return err
			}
			*a.id = acc.ID
		}
		if err := s.store.SetMerchantAccounts(ctx, m.ID, m.Accounts); err != nil {
			return err
		}
		st, err := s.createStore(ctx, m.ID, NewStore{Name: nm.StoreName})
		if err != nil {
			return err
		}
		owner, err := s.staff.FirstOwner(ctx, m.ID, cashier.NewStaff{Name: nm.OwnerName, Phone: nm.OwnerPhone, Password: nm.OwnerPassword})
		if err != nil {
			return err
		}
		out = Opened{Merchant: m, Store: st, Owner: owner}
		return s.staff.Record(ctx, cashier.Actor{MerchantID: m.ID}, cashier.AuditMerchantCreated, m.ID, name)
	})
	return out, err
}

// Merchant returns a merchant: from the cache (WithCache) outside a
// transaction, from the database inside one, which may rely on its own
// writes or locks.
func (s *Service) Merchant(ctx context.Context, id int64) (Merchant, error) {
	if storage.InTxContext(ctx) {
		return s.store.Merchant(ctx, id)
	}
	return s.cache.Get(id, func() (Merchant, error) { return s.store.Merchant(ctx, id) })
}

// Forget drops merchant id from the cache, so the next Merchant reads the
// row: another instance changed it (its merchant.updated event arrived).
func (s *Service) Forget(id int64) { s.cache.Forget(id) }

// changed forgets merchant id once the transaction in ctx, which changes
// its row, has ended: not before, or a reader could cache the row as it
// was until the commit. Every use case that writes a merchant row calls
// it, and tells the Observers, whose merchant.updated event carries the
// change to the other instances.
func (s *Service) changed(ctx context.Context, id int64) {
	storage.AfterTx(ctx, func() { s.cache.Forget(id) })
}

// StoreByQRToken finds the store behind a static store QR.
func (s *Service) StoreByQRToken(ctx context.Context, token string) (Store, error) {
	return s.store.StoreByQRToken(ctx, token)
}

func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// asNotFound turns any not-found from the store into err, so that objects of
// other merchants are indistinguishable from objects that do not exist.
func asNotFound(got error, err *paydesk.Error) error {
	if errors.Is(got, paydesk.ErrNotFound) {
		return err
	}
	return got
}
