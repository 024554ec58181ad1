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

// Check returns ErrTooManyAttempts, with RetryAfter set, while key is locked.
func (a *Attempts) Check(ctx context.Context, key string) error {
	var rows []attemptRow
	if err := a.db.Reader(ctx).Where("attempt_key = ?", key).Limit(1).Find(&rows).Error; err != nil {
		return fmt.Errorf("check attempts: %w", err)
	}
	if len(rows) == 1 && rows[0].LockedUntil != nil {
		if left := rows[0].LockedUntil.Sub(a.clock()); left > 0 {
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
			var rows []attemptRow
			w := a.db.Writer(ctx)
			if err := w.Raw("SELECT attempt_key, failures, window_start, locked_until FROM attempts WHERE attempt_key = ?"+a.db.ForUpdate(), key).Scan(&rows).Error; err != nil {
				return err
			}
			r := attemptRow{AttemptKey: key, Failures: 1, WindowStart: now}
			if len(rows) == 1 && now.Sub(rows[0].WindowStart) < rule.Window {
				r = rows[0]
				r.Failures++
			}
			if r.Failures >= rule.Max {
				until := now.Add(rule.Lockout)
				r.LockedUntil, r.Failures, r.WindowStart, locked = &until, 0, now, true
			}
			return w.Model(&attemptRow{}).Where("attempt_key = ?", key).
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
