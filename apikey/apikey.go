// Package apikey holds the API keys a merchant's own systems (its web shop,
// its back office) call paydesk with: which merchant and store a key acts
// for, what it may do (its scopes), and how a presented key is recognised.
//
// A key is a bearer credential: "pdk_live_" or "pdk_test_" followed by 32
// random bytes. It is shown once, when created; the database keeps only
// HMAC-SHA256 of it under the server's key pepper. A fast keyed hash is
// right here, unlike for passwords: a key has 256 bits of entropy, so no
// guessing attack exists for a slow hash (argon2, bcrypt) to slow down, and
// a slow hash would cost every API request tens of milliseconds. The pepper
// means a copy of the table alone cannot even test a candidate key.
//
// The package knows nothing of HTTP or casbin: mobile-api reads the key from
// the Authorization header, calls Authenticate, and asks the casbin policy
// whether one of the key's scopes may call the route (rbac.ScopeSubject).
package apikey

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"github.com/paydesk/paydesk"
)

// Kind says whether a key moves live money or acts in test mode.
type Kind string

// The two kinds of key.
const (
	Live Kind = "live"
	Test Kind = "test"
)

// Scope is one kind of thing a key may do. The casbin policy gives each
// scope its routes (policy.csv, subjects "scope:<scope>").
type Scope string

// The scopes a key can be given.
const (
	PaymentsWrite  Scope = "payments:write"  // collection QRs, payment links, scans, checkout sessions
	OrdersRead     Scope = "orders:read"     // query orders and their refunds
	OrdersWrite    Scope = "orders:write"    // close unpaid orders
	RefundsWrite   Scope = "refunds:write"   // refund paid orders
	StatementsRead Scope = "statements:read" // settlements and statements, for reconciliation
)

// Scopes returns every scope, in a fixed order.
func Scopes() []Scope {
	return []Scope{PaymentsWrite, OrdersRead, OrdersWrite, RefundsWrite, StatementsRead}
}

// Valid reports whether s is a scope a key can be given.
func (s Scope) Valid() bool { return slices.Contains(Scopes(), s) }

// Key is one API key, without its secret.
type Key struct {
	ID         int64
	MerchantID int64
	// StoreID binds the key to one store: what it creates is that store's,
	// and it sees only that store's orders. 0: the whole merchant.
	StoreID int64
	Name    string
	Kind    Kind
	// Prefix is the key's first characters, to tell keys apart in a list.
	Prefix    string
	Scopes    []Scope
	CreatedBy int64
	CreatedAt time.Time
	RevokedAt *time.Time
}

// Has reports whether the key was given scope s.
func (k Key) Has(s Scope) bool { return slices.Contains(k.Scopes, s) }

// Errors with stable codes.
var (
	ErrKeyInvalid  = &paydesk.Error{Kind: paydesk.KindUnauthorized, Code: "API_KEY_INVALID", Message: "the API key is not valid"}
	ErrKeyRevoked  = &paydesk.Error{Kind: paydesk.KindUnauthorized, Code: "API_KEY_REVOKED", Message: "the API key has been revoked"}
	ErrKeyNotFound = &paydesk.Error{Kind: paydesk.KindNotFound, Code: "API_KEY_NOT_FOUND", Message: "no such API key"}
)

// secretBytes is the random part of a key.
const secretBytes = 32

// Prefix is how every paydesk API key starts; the HTTP layer tells a key
// from an access token by it.
const Prefix = "pdk_"

// prefixLen is how much of a key is kept in clear, for lists: "pdk_live_"
// and eight characters of the random part.
const prefixLen = len("pdk_live_") + 8

// newSecret returns a fresh key of kind k.
func newSecret(k Kind) string {
	b := make([]byte, secretBytes)
	rand.Read(b)
	return Prefix + string(k) + "_" + base64.RawURLEncoding.EncodeToString(b)
}

// IsKey reports whether s has the shape of an API key (not whether it is one).
func IsKey(s string) bool { return strings.HasPrefix(s, Prefix) }

// kindOf returns the kind a key's text says it has, false when it has not
// the shape of a key at all.
func kindOf(secret string) (Kind, bool) {
	rest, ok := strings.CutPrefix(secret, Prefix)
	if !ok {
		return "", false
	}
	kind, random, ok := strings.Cut(rest, "_")
	if !ok || (Kind(kind) != Live && Kind(kind) != Test) {
		return "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(random)
	if err != nil || len(raw) != secretBytes {
		return "", false
	}
	return Kind(kind), true
}

// Hasher turns a key into what is stored: HMAC-SHA256 under the pepper.
type Hasher struct{ pepper []byte }

// MinPepperLen is the shortest pepper NewHasher accepts.
const MinPepperLen = 16

// NewHasher returns a Hasher under pepper, which must stay the same for as
// long as the keys hashed under it are to work.
func NewHasher(pepper []byte) (*Hasher, error) {
	if len(pepper) < MinPepperLen {
		return nil, paydesk.ErrInvalid.WithMessage("the API key pepper must be at least %d bytes", MinPepperLen)
	}
	return &Hasher{pepper: slices.Clone(pepper)}, nil
}

// Hash returns the hex HMAC-SHA256 of secret.
func (h *Hasher) Hash(secret string) string {
	m := hmac.New(sha256.New, h.pepper)
	m.Write([]byte(secret))
	return hex.EncodeToString(m.Sum(nil))
}
