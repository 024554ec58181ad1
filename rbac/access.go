package rbac

import (
	"errors"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// issuer is checked on every access token, so a token another service signed
// with a shared secret by mistake is still refused.
const issuer = "paydesk"

// leeway absorbs clock skew between the instances that sign and verify.
// Small, because an expired token must stop working soon after it expires.
const leeway = 5 * time.Second

// accessClaims is the access token's payload. The principal travels in it so
// that most requests need no database read to know who is calling; "sub" is
// the principal's ID, the other fields are ours.
type accessClaims struct {
	jwt.RegisteredClaims
	Kind       Kind  `json:"knd"`
	MerchantID int64 `json:"mid,omitempty"`
	StoreID    int64 `json:"sid,omitempty"`
	Role       Role  `json:"rol"`
	// Session is the login (refresh family) the token was issued for.
	// Tokens signed before it existed lack it; they stay valid until they
	// expire, but a logout cannot close their sockets early.
	Session string `json:"ses,omitempty"`
}

func (t *Tokens) signAccess(p Principal, session string, now time.Time) (string, error) {
	c := accessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuer,
			Subject:   strconv.FormatInt(p.ID, 10),
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(t.opt.AccessTTL)),
			ID:        randomText(16),
		},
		Kind: p.Kind, MerchantID: p.MerchantID, StoreID: p.StoreID, Role: p.Role, Session: session,
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.secret)
}

// Verify checks an access token and returns the principal in it. The
// algorithm is pinned to HS256 (so "none" and public-key confusion are
// refused), exp and iat are required, and the signature is checked before
// any claim is believed. It answers ErrTokenExpired for a genuine token past
// its expiry and ErrTokenInvalid for anything else.
//
// Verify does not consult the database. Whether the staff member behind a
// valid token is still enabled is the caller's question (the HTTP layer
// loads the staff row on every request), which is how disabling someone
// takes effect at once without a token denylist.
func (t *Tokens) Verify(accessToken string) (Principal, error) {
	var c accessClaims
	_, err := t.parser.ParseWithClaims(accessToken, &c, func(*jwt.Token) (any, error) { return t.secret, nil })
	if err != nil {
		// The parser checks the signature before the claims, so an
		// "expired" answer is only ever given for a token we signed.
		if errors.Is(err, jwt.ErrTokenExpired) && !errors.Is(err, jwt.ErrTokenSignatureInvalid) {
			return Principal{}, ErrTokenExpired
		}
		return Principal{}, ErrTokenInvalid
	}
	id, err := strconv.ParseInt(c.Subject, 10, 64)
	if err != nil || c.IssuedAt == nil {
		return Principal{}, ErrTokenInvalid
	}
	p := Principal{Kind: c.Kind, ID: id, MerchantID: c.MerchantID, StoreID: c.StoreID, Role: c.Role}
	if p.Validate() != nil {
		return Principal{}, ErrTokenInvalid
	}
	return p, nil
}

// Grant is what an access token authorises beyond its principal: how long,
// and for which login session.
type Grant struct {
	// ExpiresAt is when the token expires.
	ExpiresAt time.Time
	// Session is the ID of the login session (Session.ID) the token was
	// issued for; empty in tokens signed before tokens carried it.
	Session string
}

// Grant checks an access token as Verify does and returns its grant. A
// connection that outlives the request which opened it (a websocket) must
// end when the token expires, since the token is what authorised it, and
// when its session ends (a logout), since the holder asked to be let go.
func (t *Tokens) Grant(accessToken string) (Grant, error) {
	var c accessClaims
	if _, err := t.parser.ParseWithClaims(accessToken, &c, func(*jwt.Token) (any, error) { return t.secret, nil }); err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) && !errors.Is(err, jwt.ErrTokenSignatureInvalid) {
			return Grant{}, ErrTokenExpired
		}
		return Grant{}, ErrTokenInvalid
	}
	return Grant{ExpiresAt: c.ExpiresAt.Time, Session: c.Session}, nil
}

// Expiry checks an access token as Verify does and returns when it
// expires (Grant's ExpiresAt).
func (t *Tokens) Expiry(accessToken string) (time.Time, error) {
	g, err := t.Grant(accessToken)
	return g.ExpiresAt, err
}

func newAccessParser(clock func() time.Time) *jwt.Parser {
	return jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithIssuer(issuer),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(clock),
		jwt.WithStrictDecoding(),
	)
}
