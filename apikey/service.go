package apikey

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/merchant"
	"github.com/paydesk/paydesk/rbac"
)

// Storage is what the service needs from the database.
type Storage interface {
	// CreateKey inserts k with its hash and sets k.ID.
	CreateKey(ctx context.Context, k *Key, hash string) error
	// KeyByHash returns the key stored under hash, revoked or not;
	// ErrKeyInvalid when there is none.
	KeyByHash(ctx context.Context, hash string) (Key, error)
	// Keys returns the merchant's keys, newest first.
	Keys(ctx context.Context, merchantID int64) ([]Key, error)
	// RevokeKey marks the merchant's key revoked at now, once;
	// ErrKeyNotFound when the merchant has no such key.
	RevokeKey(ctx context.Context, merchantID, id int64, now paydesk.Clock) (Key, error)
}

// Stores checks that a store is the merchant's (merchant.Service does).
type Stores interface {
	Store(ctx context.Context, actor cashier.Actor, id int64) (merchant.Store, error)
}

// Service creates, lists, revokes and recognises API keys.
type Service struct {
	store  Storage
	hash   *Hasher
	stores Stores
	clock  paydesk.Clock
}

// NewService returns a Service. A nil clock is the system clock.
func NewService(store Storage, h *Hasher, stores Stores, clock paydesk.Clock) *Service {
	if clock == nil {
		clock = paydesk.SystemClock
	}
	return &Service{store: store, hash: h, stores: stores, clock: clock}
}

// NewKey is what an owner asks for.
type NewKey struct {
	Name    string
	Kind    Kind
	StoreID int64
	Scopes  []Scope
}

// Create makes a key for the owner's merchant and returns it with its
// secret, which is never shown again. Only owners create keys: a key
// acts for the whole merchant (or a store) without a person behind it.
func (s *Service) Create(ctx context.Context, owner cashier.Actor, req NewKey) (Key, string, error) {
	if owner.Role != rbac.Owner {
		return Key{}, "", paydesk.ErrForbidden.WithMessage("only an owner creates API keys")
	}
	req.Name = strings.TrimSpace(req.Name)
	if req.Name == "" || len(req.Name) > 64 {
		return Key{}, "", paydesk.ErrInvalid.WithMessage("name must be 1 to 64 bytes")
	}
	if req.Kind == "" {
		req.Kind = Live
	}
	if req.Kind != Live && req.Kind != Test {
		return Key{}, "", paydesk.ErrInvalid.WithMessage("kind must be live or test")
	}
	if len(req.Scopes) == 0 {
		return Key{}, "", paydesk.ErrInvalid.WithMessage("give the key at least one scope (%s)", scopeList(Scopes()))
	}
	var scopes []Scope
	for _, sc := range req.Scopes {
		if !sc.Valid() {
			return Key{}, "", paydesk.ErrInvalid.WithMessage("unknown scope %q (want %s)", truncate(string(sc), 32), scopeList(Scopes()))
		}
		if !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	if req.StoreID < 0 {
		return Key{}, "", paydesk.ErrInvalid.WithMessage("store_id must be positive")
	}
	if req.StoreID > 0 && req.Kind == Test {
		return Key{}, "", paydesk.ErrInvalid.WithMessage("a test key acts for the merchant's sandbox as a whole: leave store_id out")
	}
	if req.StoreID > 0 {
		if _, err := s.stores.Store(ctx, owner, req.StoreID); err != nil {
			return Key{}, "", err
		}
	}
	secret := newSecret(req.Kind)
	k := Key{MerchantID: owner.MerchantID, StoreID: req.StoreID, Name: req.Name, Kind: req.Kind, Prefix: secret[:prefixLen],
		Scopes: scopes, CreatedBy: owner.StaffID, CreatedAt: s.clock().UTC().Truncate(time.Microsecond)}
	if err := s.store.CreateKey(ctx, &k, s.hash.Hash(secret)); err != nil {
		return Key{}, "", fmt.Errorf("create API key of merchant %d: %w", owner.MerchantID, err)
	}
	return k, secret, nil
}

// List returns the merchant's keys, revoked ones included, newest first.
func (s *Service) List(ctx context.Context, owner cashier.Actor) ([]Key, error) {
	return s.store.Keys(ctx, owner.MerchantID)
}

// Revoke ends a key at once: the next request with it is refused. Revoking
// a revoked key answers it as it is.
func (s *Service) Revoke(ctx context.Context, owner cashier.Actor, id int64) (Key, error) {
	if owner.Role != rbac.Owner {
		return Key{}, paydesk.ErrForbidden.WithMessage("only an owner revokes API keys")
	}
	return s.store.RevokeKey(ctx, owner.MerchantID, id, s.clock)
}

// Authenticate returns the key secret is, read from the database on every
// call so that a revocation applies to the very next request.
func (s *Service) Authenticate(ctx context.Context, secret string) (Key, error) {
	kind, ok := kindOf(secret)
	if !ok {
		return Key{}, ErrKeyInvalid
	}
	k, err := s.store.KeyByHash(ctx, s.hash.Hash(secret))
	if err != nil {
		return Key{}, err
	}
	if k.Kind != kind {
		return Key{}, ErrKeyInvalid // unreachable unless the table was edited
	}
	if k.RevokedAt != nil {
		return Key{}, ErrKeyRevoked
	}
	return k, nil
}

// Actor is the key as the caller of a use case: the merchant's scope
// (Owner) when the key has no store, one store's (Manager) when it has.
// StaffID is 0: no person made the request; what it creates (orders,
// refunds) carries no cashier.
func (k Key) Actor(ip string) cashier.Actor { return ActorFor(k.MerchantID, k.StoreID, ip) }

// ActorFor is Key.Actor from the key's merchant and store alone, as an
// authenticated request carries them.
func ActorFor(merchantID, storeID int64, ip string) cashier.Actor {
	a := cashier.Actor{MerchantID: merchantID, StoreID: storeID, Role: rbac.Owner, IP: ip}
	if storeID != 0 {
		a.Role = rbac.Manager
	}
	return a
}

func scopeList(ss []Scope) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(s)
	}
	return strings.Join(parts, ", ")
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// joinScopes and splitScopes are how scopes are stored: space-separated.
func joinScopes(ss []Scope) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(s)
	}
	return strings.Join(parts, " ")
}

func splitScopes(s string) []Scope {
	var out []Scope
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		out = append(out, Scope(f))
	}
	return out
}
