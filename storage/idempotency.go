package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/paydesk/paydesk"
)

// IdempotencyKeys stores the responses of money-moving requests by the
// client's Idempotency-Key, Stripe-like: the first request under a key
// claims it, runs, and stores its response; a retry of the same request
// gets that response again, a different request under the same key is
// refused, and a duplicate that arrives while the first still runs is told
// so. The rows live in the idempotency_keys table, so the rules hold across
// instances and restarts. Keys and scopes are opaque here.
type IdempotencyKeys struct {
	db    *DB
	clock paydesk.Clock
	// lease is how long a claim without a stored response holds the key.
	// After it, the request is taken to have died with its instance, and a
	// retry may claim the key again (the business numbers behind it,
	// out_trade_no and request_no, still keep the retry from paying twice).
	lease time.Duration
}

// DefaultIdempotencyLease is how long an unfinished request keeps its key.
// It is far longer than any request may run (the server's timeouts end
// them within a minute or two).
const DefaultIdempotencyLease = 5 * time.Minute

// MaxIdempotentBody bounds a stored response: the responses of the
// money-moving routes are a few hundred bytes, and MySQL's TEXT holds 64 KiB.
const MaxIdempotentBody = 60 << 10

// NewIdempotencyKeys returns the store over db with the default lease.
func NewIdempotencyKeys(db *DB, clock paydesk.Clock) *IdempotencyKeys {
	return &IdempotencyKeys{db: db, clock: clock, lease: DefaultIdempotencyLease}
}

// WithLease returns a copy of k whose unfinished claims expire after d.
func (k *IdempotencyKeys) WithLease(d time.Duration) *IdempotencyKeys {
	c := *k
	c.lease = d
	return &c
}

// Errors of Begin. The conflict is the root package's, so every layer
// answers it with the same code.
var (
	ErrIdempotencyConflict   = paydesk.ErrIdempotencyConflict
	ErrIdempotencyInProgress = &paydesk.Error{Kind: paydesk.KindConflict, Code: "IDEMPOTENCY_IN_PROGRESS", Message: "a request with this Idempotency-Key is still being processed; retry shortly", RetryAfter: 1}
)

// StoredResponse is the first response to a request, replayed to its retries.
type StoredResponse struct {
	Status int
	Body   []byte
}

type idempotencyRow struct {
	ID            int64
	Scope         string
	IdemKey       string
	RequestDigest string
	StatusCode    int
	ResponseBody  string
	CreatedAt     time.Time
	CompletedAt   *time.Time
}

func (idempotencyRow) TableName() string { return "idempotency_keys" }

// Begin claims key within scope for a request whose fingerprint is digest.
// It returns (nil, nil) when the caller now holds the key: it runs the
// request and then calls Complete, or Release if there is nothing to keep.
// It returns the stored response for a retry of a finished request,
// ErrIdempotencyConflict when the key was used for another request, and
// ErrIdempotencyInProgress while the first request still runs.
func (k *IdempotencyKeys) Begin(ctx context.Context, scope, key, digest string) (*StoredResponse, error) {
	if scope == "" || len(scope) > 64 || key == "" || len(key) > 128 || len(digest) != 64 {
		return nil, paydesk.ErrInvalid.WithMessage("idempotency: scope must be 1-64 bytes, key 1-128 bytes and digest 64 hex digits")
	}
	now := k.clock().UTC().Truncate(time.Microsecond) // what both databases keep
	for try := 0; try < 3; try++ {
		claim := idempotencyRow{Scope: scope, IdemKey: key, RequestDigest: digest, CreatedAt: now}
		err := k.db.Writer(ctx).Create(&claim).Error
		if err == nil {
			return nil, nil
		}
		if !IsDuplicate(err) {
			return nil, fmt.Errorf("claim idempotency key: %w", err)
		}
		var rows []idempotencyRow
		if err := k.db.Writer(ctx).Where("scope = ? AND idem_key = ?", scope, key).Limit(1).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("read idempotency key: %w", err)
		}
		if len(rows) == 0 {
			continue // released between our insert and our read: claim again
		}
		r := rows[0]
		switch {
		case r.RequestDigest != digest:
			return nil, ErrIdempotencyConflict.WithMessage("this Idempotency-Key was used for a different request")
		case r.CompletedAt != nil:
			return &StoredResponse{Status: r.StatusCode, Body: []byte(r.ResponseBody)}, nil
		case now.Sub(r.CreatedAt) < k.lease:
			return nil, ErrIdempotencyInProgress
		}
		// An abandoned claim: take it over, unless another retry just did.
		res := k.db.Writer(ctx).Model(&idempotencyRow{}).
			Where("id = ? AND completed_at IS NULL AND created_at < ?", r.ID, now.Add(-k.lease)).
			Update("created_at", now)
		if res.Error != nil {
			return nil, fmt.Errorf("take over idempotency key: %w", res.Error)
		}
		if res.RowsAffected == 1 {
			return nil, nil
		}
	}
	return nil, ErrIdempotencyInProgress
}

// Complete stores the response of the request that holds key.
func (k *IdempotencyKeys) Complete(ctx context.Context, scope, key string, status int, body []byte) error {
	if len(body) > MaxIdempotentBody {
		return fmt.Errorf("store idempotent response: body of %d bytes is over %d", len(body), MaxIdempotentBody)
	}
	now := k.clock()
	err := k.db.Writer(ctx).Model(&idempotencyRow{}).Where("scope = ? AND idem_key = ? AND completed_at IS NULL", scope, key).
		Updates(map[string]any{"status_code": status, "response_body": string(body), "completed_at": now}).Error
	if err != nil {
		return fmt.Errorf("store idempotent response: %w", err)
	}
	return nil
}

// Release gives up an unfinished claim, so that a retry under the same key
// runs the request afresh: for answers not worth keeping (a fault of the
// server, a dependency that was down).
func (k *IdempotencyKeys) Release(ctx context.Context, scope, key string) error {
	err := k.db.Writer(ctx).Where("scope = ? AND idem_key = ? AND completed_at IS NULL", scope, key).Delete(&idempotencyRow{}).Error
	if err != nil {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}

// Purge forgets keys claimed before the cutoff, for a periodic job: clients
// retry within minutes, not days (Stripe keeps keys for 24 hours).
func (k *IdempotencyKeys) Purge(ctx context.Context, before time.Time) (int64, error) {
	res := k.db.Writer(ctx).Where("created_at < ?", before).Delete(&idempotencyRow{})
	if res.Error != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", res.Error)
	}
	return res.RowsAffected, nil
}
