// Package rbac answers the two questions every authenticated request asks:
// who is calling (tokens: short-lived signed access tokens and rotating,
// server-side refresh tokens) and may that role call this route (a casbin
// model and policy, embedded in the binary and replaceable by a file).
//
// It knows nothing of HTTP: the middleware in mobile-api reads the bearer
// token, calls Tokens.Verify and Enforcer.Allowed, and maps the coded errors
// returned here to statuses. Scoping to the caller's merchant, store or own
// orders is not decided here but in the queries, from the Principal.
package rbac

import (
	"fmt"

	"github.com/paydesk/paydesk"
)

// Role is what a principal may do, as named in the casbin policy.
type Role string

// The roles of SPEC §1. The platform operator has no role: it works through
// the command line, never through the API.
const (
	Owner    Role = "owner"
	Manager  Role = "manager"
	Cashier  Role = "cashier"
	Customer Role = "customer"
)

// Roles returns every role, in order of decreasing power, for tests and
// tools that walk the role × route matrix.
func Roles() []Role { return []Role{Owner, Manager, Cashier, Customer} }

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool {
	switch r {
	case Owner, Manager, Cashier, Customer:
		return true
	}
	return false
}

// IsStaff reports whether r is a role of a merchant's staff: owner,
// manager or cashier.
func (r Role) IsStaff() bool { return r == Owner || r == Manager || r == Cashier }

// APIKey is the role of every API key (package apikey). It has no lines
// of its own in the policy: a key may call a route when one of its scopes
// may, and a scope is a casbin subject of its own (ScopeSubject).
const APIKey Role = "apikey"

// scopePrefix starts the casbin subject of an API key scope.
const scopePrefix = "scope:"

// ScopeSubject is the casbin subject of an API key scope, as policy.csv
// names it: "scope:payments:write".
func ScopeSubject(scope string) Role { return Role(scopePrefix + scope) }

// IsScope reports whether r is the subject of an API key scope.
func (r Role) IsScope() bool {
	return len(r) > len(scopePrefix) && string(r[:len(scopePrefix)]) == scopePrefix
}

// Kind says which table a principal lives in: staff of a merchant, or a
// customer of the wallet. IDs are only unique within a kind.
type Kind string

// The two kinds of principal.
const (
	KindStaff    Kind = "staff"    // an owner, manager or cashier of a merchant
	KindCustomer Kind = "customer" // a wallet user
	KindAPIKey   Kind = "apikey"   // a merchant's own system, by API key
)

// Principal is the authenticated caller, as carried in an access token. The
// HTTP layer must still load the staff row on every request: a token stays
// valid for its whole life, but a disabled staff member must lose access at
// once (SPEC §7), and only the database knows about that.
type Principal struct {
	Kind       Kind
	ID         int64
	MerchantID int64 // 0 for customers
	StoreID    int64 // 0 for owners, who see every store, and customers
	Role       Role
}

// Validate refuses a principal whose fields contradict each other, so that a
// token is never issued for, or accepted from, an identity no query could scope.
func (p Principal) Validate() error {
	bad := func(format string, args ...any) error {
		return paydesk.ErrInvalid.WithMessage("principal: "+format, args...)
	}
	if p.ID <= 0 {
		return bad("id %d is not positive", p.ID)
	}
	switch p.Kind {
	case KindStaff:
		switch {
		case p.Role != Owner && p.Role != Manager && p.Role != Cashier:
			return bad("staff cannot have role %q", p.Role)
		case p.MerchantID <= 0:
			return bad("staff %d has no merchant", p.ID)
		case p.Role == Owner && p.StoreID != 0:
			return bad("owner %d is bound to store %d; owners see every store", p.ID, p.StoreID)
		case p.Role != Owner && p.StoreID <= 0:
			return bad("%s %d has no store", p.Role, p.ID)
		}
	case KindCustomer:
		if p.Role != Customer || p.MerchantID != 0 || p.StoreID != 0 {
			return bad("customer %d must have role customer and no merchant or store", p.ID)
		}
	case KindAPIKey:
		if p.Role != APIKey || p.MerchantID <= 0 || p.StoreID < 0 {
			return bad("API key %d must have role apikey and a merchant", p.ID)
		}
	default:
		return bad("unknown kind %q", p.Kind)
	}
	return nil
}

// String names the principal in logs and the audit trail.
func (p Principal) String() string {
	switch p.Kind {
	case KindCustomer:
		return fmt.Sprintf("customer:%d", p.ID)
	case KindAPIKey:
		return fmt.Sprintf("apikey:%d(merchant %d, store %d)", p.ID, p.MerchantID, p.StoreID)
	}
	return fmt.Sprintf("staff:%d(%s, merchant %d, store %d)", p.ID, p.Role, p.MerchantID, p.StoreID)
}

// The errors of this package. All are KindUnauthorized: the client's answer
// to each is to get new credentials, never to retry the same request.
// Clients switch on the code: TOKEN_EXPIRED means "refresh", any
// REFRESH_TOKEN_* means "log in again".
var (
	// ErrTokenInvalid: the access token is malformed, forged or not ours.
	ErrTokenInvalid = &paydesk.Error{Kind: paydesk.KindUnauthorized, Code: "TOKEN_INVALID", Message: "the access token is invalid"}
	// ErrTokenExpired: the access token was genuine but its time is up.
	ErrTokenExpired = &paydesk.Error{Kind: paydesk.KindUnauthorized, Code: "TOKEN_EXPIRED", Message: "the access token has expired; refresh it"}
	// ErrRefreshTokenInvalid: the refresh token is unknown, expired or revoked (logged out).
	ErrRefreshTokenInvalid = &paydesk.Error{Kind: paydesk.KindUnauthorized, Code: "REFRESH_TOKEN_INVALID", Message: "the refresh token is not valid; log in again"}
	// ErrRefreshTokenReused: a refresh token was presented after it had
	// already been exchanged. Either a client bug or a stolen token; the
	// whole session has been revoked, and it deserves an audit entry.
	ErrRefreshTokenReused = &paydesk.Error{Kind: paydesk.KindUnauthorized, Code: "REFRESH_TOKEN_REUSED", Message: "the refresh token was already used; the session has been revoked, log in again"}
	// ErrSessionEnded: the access token's login session was logged out (or
	// revoked); it may still serve requests until it expires, but it opens
	// no more long-lived connections.
	ErrSessionEnded = &paydesk.Error{Kind: paydesk.KindUnauthorized, Code: "SESSION_ENDED", Message: "this login was logged out; log in again"}
)
