package rbac

import (
	"context"
	"time"

	"github.com/paydesk/paydesk"
)

// RefreshSession is one refresh token as the server keeps it. A login starts
// a family; every refresh retires the current member (RotatedAt) and adds the
// next one, so the family is the chain of tokens of one logged-in device.
type RefreshSession struct {
	ID int64
	// TokenHash is the hex SHA-256 of the token. The token itself is never
	// stored: a copy of the database must not be a copy of the sessions.
	TokenHash string
	Family    string
	Principal Principal
	IssuedAt  time.Time
	ExpiresAt time.Time
	RotatedAt time.Time // zero while this is the family's current token
	RevokedAt time.Time // zero until the family is logged out or revoked
}

// SessionStore keeps refresh sessions. Its methods join the transaction
// carried by ctx, which is how Tokens makes a rotation atomic.
type SessionStore interface {
	paydesk.TxRunner

	// Create stores s and sets its ID.
	Create(ctx context.Context, s *RefreshSession) error
	// ByHash returns the session whose token hashes to hash, and false when
	// there is none. Inside a transaction the row stays locked until the
	// transaction ends, so two refreshes of one token queue instead of racing.
	ByHash(ctx context.Context, hash string) (RefreshSession, bool, error)
	// MarkRotated retires session id at at, if it is neither rotated nor
	// revoked yet, and reports whether it did. The condition is in the
	// UPDATE itself, so of two concurrent callers exactly one gets true.
	MarkRotated(ctx context.Context, id int64, at time.Time) (bool, error)
	// RevokeFamily revokes every session of family not revoked yet.
	RevokeFamily(ctx context.Context, family string, at time.Time) error
	// FamilyActive reports whether family has a session not revoked.
	FamilyActive(ctx context.Context, family string) (bool, error)
	// RevokeSubject revokes every session of the principal (kind, id) and
	// returns how many it revoked.
	RevokeSubject(ctx context.Context, kind Kind, id int64, at time.Time) (int64, error)
	// DeleteExpired deletes the sessions that expired before before and
	// returns how many.
	DeleteExpired(ctx context.Context, before time.Time) (int64, error)
}
