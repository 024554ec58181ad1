package storage

import (
	"context"
	"fmt"
	"math"
	"time"

	"gorm.io/gorm/clause"

	"github.com/paydesk/paydesk"
)

// AttemptRule says how many failures within Window lock a key, and for how long.
type AttemptRule struct {
	Max     int
	Window  time.Duration
	Lockout time.Duration
}

// Attempts counts failed attempts per key (a phone, an IP, a payment code)
// and locks a key that fails too often. Keys are opaque to it.
type Attempts struct {
	db    *DB
	clock paydesk.Clock
}

// NewAttempts returns counters stored in db.
func NewAttempts(db *DB, clock paydesk.Clock) *Attempts { return &Attempts{db: db, clock: clock} }

// ErrTooManyAttempts is returned for a locked key.
var ErrTooManyAttempts = &paydesk.Error{Kind: paydesk.KindRateLimited, Code: "TOO_MANY_ATTEMPTS", Message: "too many failed attempts, try again later"}

type attemptRow struct {
	AttemptKey  string `gorm:"primaryKey"`
	Failures    int
	WindowStart time.Time
	LockedUntil *time.Time
}

func (attemptRow) TableName() string { return "attempts" }

// attemptColumns are the columns scanAttempt reads, in its order.
const attemptColumns = "attempt_key, failures, window_start, locked_until"

func scanAttempt(sc Scanner, r *attemptRow) error {
	return sc.Scan(&r.AttemptKey, &r.Failures, &r.WindowStart, &r.LockedUntil)
}

// Check returns ErrTooManyAttempts, with RetryAfter set, while key is locked.
func (a *Attempts) Check(ctx context.Context, key string) error {
	r, found, err := QueryOne(ctx, a.db, scanAttempt, "SELECT "+attemptColumns+" FROM attempts WHERE attempt_key = ? LIMIT 1", key)
	if err != nil {
		return fmt.Errorf("check attempts: %w", err)
	}
	if found && r.LockedUntil != nil {
		if left := r.LockedUntil.Sub(a.clock()); left > 0 {
			e := *ErrTooManyAttempts
			e.RetryAfter = int(math.Ceil(left.Seconds()))
			return &e
		}
	}
	return nil
}

// Fail records a failure of key under rule and reports whether the key is
// now locked.
func (a *Attempts) Fail(ctx context.Context, key string, rule AttemptRule) (locked bool, err error) {
	now := a.clock()
	// Make sure the row exists first, outside the transaction: a locking
	// read of a missing row takes a gap lock on MySQL, and concurrent first
	// failures would then deadlock on their inserts.
	seed := attemptRow{AttemptKey: key, WindowStart: now}
	if err := a.db.Writer(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&seed).Error; err != nil {
		return false, fmt.Errorf("record failed attempt: %w", err)
	}
	for try := 0; try < 5; try++ {
		err = a.db.InTx(ctx, func(ctx context.Context) error {
			old, found, err := QueryOne(ctx, a.db, scanAttempt, "SELECT "+attemptColumns+" FROM attempts WHERE attempt_key = ?"+a.db.ForUpdate(), key)
			if err != nil {
				return err
			}
			r := attemptRow{AttemptKey: key, Failures: 1, WindowStart: now}
			if found && now.Sub(old.WindowStart) < rule.Window {
				r = old
				r.Failures++
			}
			if r.Failures >= rule.Max {
				until := now.Add(rule.Lockout)
				r.LockedUntil, r.Failures, r.WindowStart, locked = &until, 0, now, true
			}
			return a.db.Writer(ctx).Model(&attemptRow{}).Where("attempt_key = ?", key).
				Updates(map[string]any{"failures": r.Failures, "window_start": r.WindowStart, "locked_until": r.LockedUntil}).Error
		})
		if !IsRetryable(err) {
			break
		}
	}
	if err != nil {
		return false, fmt.Errorf("record failed attempt: %w", err)
	}
	return locked, nil
}

// Reset forgets key's failures, after a success.
func (a *Attempts) Reset(ctx context.Context, key string) error {
	if err := a.db.Writer(ctx).Where("attempt_key = ?", key).Delete(&attemptRow{}).Error; err != nil {
		return fmt.Errorf("reset attempts: %w", err)
	}
	return nil
}
