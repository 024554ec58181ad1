package rbac

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/storage"
)

// TokenOptions tune Tokens. The zero value gives the defaults.
type TokenOptions struct {
	// AccessTTL is the life of an access token (default 15 minutes). Short,
	// because an access token cannot be revoked, only outlived.
	AccessTTL time.Duration
	// RefreshTTL is the life of a refresh token (default 30 days). Each
	// refresh starts a new one, so a device in daily use stays logged in.
	RefreshTTL time.Duration
	// SessionEnded, if set, is told of every login session that ends
	// before its time: a logout, or a family revoked because one of its
	// refresh tokens was reused. It runs inside the transaction that
	// revokes the session, so what it writes (an outbox event that closes
	// the session's websockets on every instance) commits with the
	// revocation; its error undoes the revocation. Disabling someone ends
	// all their sessions through RevokeSubject instead, which does not
	// call it: the disable has its own event.
	SessionEnded func(ctx context.Context, s Session) error
}

// Session is one login: a refresh family and whose it is. Its ID travels
// in every access token issued for it (the "ses" claim), so a connection
// opened with such a token can be closed when the session ends.
type Session struct {
	ID        string
	Principal Principal
}

// Pair is what a login or a refresh hands the client.
type Pair struct {
	AccessToken  string
	RefreshToken string
	// ExpiresIn is the access token's life in seconds, as OAuth's expires_in.
	ExpiresIn int
}

// MinSecretLen is the shortest signing secret NewTokens accepts: HS256 needs
// a key at least as long as its 256-bit output (RFC 7518 §3.2).
const MinSecretLen = 32

// Tokens issues and checks the credentials of staff and customers: signed,
// short-lived access tokens that need no database to verify, and opaque
// refresh tokens kept server-side so they can be rotated and revoked.
// A Tokens is safe for concurrent use.
type Tokens struct {
	store  SessionStore
	secret []byte
	clock  paydesk.Clock
	opt    TokenOptions
	parser *jwt.Parser
}

// NewTokens returns Tokens that sign with secret and keep refresh sessions in
// store. A nil clock means the system clock.
func NewTokens(store SessionStore, secret []byte, clock paydesk.Clock, opt TokenOptions) (*Tokens, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("rbac: token secret has %d bytes, want at least %d", len(secret), MinSecretLen)
	}
	if clock == nil {
		clock = paydesk.SystemClock
	}
	if opt.AccessTTL <= 0 {
		opt.AccessTTL = 15 * time.Minute
	}
	if opt.RefreshTTL <= 0 {
		opt.RefreshTTL = 30 * 24 * time.Hour
	}
	t := &Tokens{store: store, secret: append([]byte(nil), secret...), clock: clock, opt: opt}
	t.parser = newAccessParser(clock)
	return t, nil
}

// now is the clock in UTC at the microsecond, the precision both databases keep.
func (t *Tokens) now() time.Time { return t.clock().UTC().Truncate(time.Microsecond) }

// Issue starts a new session for p, after a successful login.
func (t *Tokens) Issue(ctx context.Context, p Principal) (Pair, error) {
	if err := p.Validate(); err != nil {
		return Pair{}, err
	}
	now := t.now()
	token, hash := newRefreshToken()
	s := RefreshSession{TokenHash: hash, Family: randomText(16), Principal: p, IssuedAt: now, ExpiresAt: now.Add(t.opt.RefreshTTL)}
	if err := t.store.Create(ctx, &s); err != nil {
		return Pair{}, fmt.Errorf("issue tokens for %s: %w", p, err)
	}
	return t.pair(p, s.Family, token, now)
}

// errReused leaves the rotation transaction so that the family is revoked
// outside it: a revocation inside would be rolled back with the error.
var errReused = errors.New("refresh token reused")

// Refresh exchanges a refresh token for a new pair and retires the old
// token. A retired token presented again means two parties hold it (a
// client bug or a theft); Refresh then revokes the whole family, so the
// thief's copy and the owner's current token die alike, and answers
// ErrRefreshTokenReused. Of two concurrent refreshes with one token exactly
// one succeeds and the other counts as reuse, so clients must refresh one
// request at a time.
//
// The principal is copied from the session, not re-read: a disabled staff
// member's sessions are revoked when they are disabled (RevokeSubject), and
// every request re-reads the staff row anyway.
//
// Call Refresh outside any transaction: it commits the revocation of a
// reused family even though it returns an error.
func (t *Tokens) Refresh(ctx context.Context, refreshToken string) (Pair, error) {
	hash, ok := hashRefreshToken(refreshToken)
	if !ok {
		return Pair{}, ErrRefreshTokenInvalid
	}
	var (
		now   time.Time
		next  string
		old   RefreshSession
		err   error
		tries int
	)
	for {
		now = t.now()
		err = t.store.InTx(ctx, func(ctx context.Context) error {
			var (
				found bool
				err   error
			)
			old, found, err = t.store.ByHash(ctx, hash)
			switch {
			case err != nil:
				return err
			case !found:
				return ErrRefreshTokenInvalid.WithMessage("unknown refresh token; log in again")
			case !old.RevokedAt.IsZero():
				return ErrRefreshTokenInvalid.WithMessage("the session was logged out; log in again")
			case !old.RotatedAt.IsZero():
				return errReused
			case !now.Before(old.ExpiresAt):
				return ErrRefreshTokenInvalid.WithMessage("the refresh token has expired; log in again")
			}
			if rotated, err := t.store.MarkRotated(ctx, old.ID, now); err != nil {
				return err
			} else if !rotated {
				// Only reachable where ByHash cannot lock: the row changed
				// between our read and our write, which is reuse too.
				return errReused
			}
			var nextHash string
			next, nextHash = newRefreshToken()
			s := RefreshSession{TokenHash: nextHash, Family: old.Family, Principal: old.Principal, IssuedAt: now, ExpiresAt: now.Add(t.opt.RefreshTTL)}
			return t.store.Create(ctx, &s)
		})
		// A deadlock or a busy database aborted the whole transaction, so
		// nothing happened and trying again is safe.
		if tries++; !storage.IsRetryable(err) || tries == 3 {
			break
		}
	}
	if errors.Is(err, errReused) {
		if err := t.end(ctx, old, now); err != nil {
			return Pair{}, fmt.Errorf("refresh: revoke reused family: %w", err)
		}
		return Pair{}, ErrRefreshTokenReused
	}
	if err != nil {
		var coded *paydesk.Error
		if errors.As(err, &coded) {
			return Pair{}, err
		}
		return Pair{}, fmt.Errorf("refresh: %w", err)
	}
	return t.pair(old.Principal, old.Family, next, now)
}

// Logout revokes the session that refreshToken belongs to, every token of
// its family, and tells TokenOptions.SessionEnded. The access token already
// handed out lives on until it expires (for requests; its websockets are
// closed by SessionEnded). Logging out an unknown or already revoked token
// succeeds: either way the token no longer works, which is all the caller
// asked for.
func (t *Tokens) Logout(ctx context.Context, refreshToken string) error {
	hash, ok := hashRefreshToken(refreshToken)
	if !ok {
		return nil
	}
	s, found, err := t.store.ByHash(ctx, hash)
	if err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	if !found || !s.RevokedAt.IsZero() {
		return nil
	}
	if err := t.end(ctx, s, t.now()); err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	return nil
}

// end revokes the family of s and tells SessionEnded, in one transaction.
func (t *Tokens) end(ctx context.Context, s RefreshSession, now time.Time) error {
	return t.store.InTx(ctx, func(ctx context.Context) error {
		if err := t.store.RevokeFamily(ctx, s.Family, now); err != nil {
			return err
		}
		if t.opt.SessionEnded == nil {
			return nil
		}
		return t.opt.SessionEnded(ctx, Session{ID: s.Family, Principal: s.Principal})
	})
}

// CheckSession answers ErrSessionEnded if login session id (Grant's
// Session) was logged out or revoked. A connection that outlives its
// request checks it when it opens, so a logged-out access token, which
// still verifies until it expires, cannot open a new one. A token that
// names no session (id "") passes.
func (t *Tokens) CheckSession(ctx context.Context, id string) error {
	if id == "" {
		return nil
	}
	ok, err := t.store.FamilyActive(ctx, id)
	if err != nil {
		return fmt.Errorf("check session: %w", err)
	}
	if !ok {
		return ErrSessionEnded
	}
	return nil
}

// RevokeSubject revokes every session of the principal (kind, id), on every
// device, and returns how many refresh tokens it revoked. Disabling a staff
// member calls it in the same transaction, so no refresh can outlive the
// change; their access tokens stop working because every request re-reads
// the staff row.
func (t *Tokens) RevokeSubject(ctx context.Context, kind Kind, id int64) (int64, error) {
	n, err := t.store.RevokeSubject(ctx, kind, id, t.now())
	if err != nil {
		return 0, fmt.Errorf("revoke sessions: %w", err)
	}
	return n, nil
}

// Purge deletes refresh sessions that expired more than a refresh lifetime
// ago; without it the table grows by a row per refresh forever. A token that
// old would be refused as unknown instead of expired, which changes nothing
// for its holder. Run it now and then (daily is plenty).
func (t *Tokens) Purge(ctx context.Context) (int64, error) {
	n, err := t.store.DeleteExpired(ctx, t.now().Add(-t.opt.RefreshTTL))
	if err != nil {
		return 0, fmt.Errorf("purge sessions: %w", err)
	}
	return n, nil
}

func (t *Tokens) pair(p Principal, session, refreshToken string, now time.Time) (Pair, error) {
	access, err := t.signAccess(p, session, now)
	if err != nil {
		return Pair{}, fmt.Errorf("sign access token: %w", err)
	}
	return Pair{AccessToken: access, RefreshToken: refreshToken, ExpiresIn: int(t.opt.AccessTTL / time.Second)}, nil
}

// refreshTokenBytes of randomness make a refresh token unguessable, which is
// also why an unsalted SHA-256 is enough to store it: there is no dictionary
// of likely tokens to try.
const refreshTokenBytes = 32

func newRefreshToken() (token, hash string) {
	token = randomText(refreshTokenBytes)
	hash, _ = hashRefreshToken(token)
	return token, hash
}

// hashRefreshToken returns the stored form of token, and false for a string
// that cannot be one of ours, which is refused without a database query.
func hashRefreshToken(token string) (string, bool) {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(raw) != refreshTokenBytes {
		return "", false
	}
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:]), true
}

// randomText returns n random bytes in unpadded base64url.
func randomText(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails: the runtime aborts if the system's source does
	return base64.RawURLEncoding.EncodeToString(b)
}
