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

// Claim counts one attempt of key under rule before the caller checks the
// secret, and refuses it (ErrTooManyAttempts, with RetryAfter) when key is
// locked or has used up its rule.Max attempts of the window. The count is
// taken by one conditional UPDATE (increment and compare in the same
// statement), so a burst of concurrent attempts gets at most rule.Max
// through between them, on SQLite and MySQL alike; a check that reads the
// counter and writes it later would let the whole burst through.
//
// After a granted claim the caller reports the outcome: Failed for a wrong
// secret (which locks the key once its attempts reached the max), Reset for
// a success that proves the key's owner, or Release for an attempt that
// must not count (a right code that is not a login, an expired code).
//
// Claim is the primitive any throttle can build on (per account, per IP,
// token buckets): it never reads before it writes.
func (a *Attempts) Claim(ctx context.Context, key string, rule AttemptRule) error {
	now := a.clock()
	if err := a.seed(ctx, key, now); err != nil {
		return fmt.Errorf("claim attempt: %w", err)
	}
	windowStart := now.Add(-rule.Window)
	// MySQL assigns left to right and sees the new values of columns set
	// before; failures is set first, so both CASEs read the old window_start.
	res := a.db.Writer(ctx).Exec(`UPDATE attempts SET
	    failures = CASE WHEN window_start <= ? THEN 1 ELSE failures + 1 END,
	    window_start = CASE WHEN window_start <= ? THEN ? ELSE window_start END
	  WHERE attempt_key = ? AND (locked_until IS NULL OR locked_until <= ?)
	    AND (window_start <= ? OR failures < ?)`,
		windowStart, windowStart, now, key, now, windowStart, rule.Max)
	if res.Error != nil {
		return fmt.Errorf("claim attempt: %w", res.Error)
	}
	if res.RowsAffected == 1 {
		return nil
	}
	// Refused: the key is locked, or the window's attempts are all taken.
	// Only failures lock (Failed): attempts still being checked may turn
	// out right (one code shown to many cashiers at once), so a refusal
	// here locks nothing and asks to retry in a moment.
	if err := a.Check(ctx, key); err != nil {
		return err
	}
	e := *ErrTooManyAttempts
	e.RetryAfter = 1
	return &e
}

// ClaimCheck is Claim, check and Release in one transaction, for the hot
// path (a payment code checked at every payment): it decides whether an
// attempt of key under rule is granted exactly as Claim does, runs check
// only for a granted attempt, and counts the attempt unless check says it
// must not count (a right code, an expired one: release true). An attempt
// that is counted stays counted, and the caller goes on as after Claim
// (Failed).
//
// Against a burst of guesses it is Claim: the key's row is read under the
// write lock (SQLite's IMMEDIATE transaction, MySQL's FOR UPDATE), so the
// attempts of a key are decided one at a time, each seeing every attempt
// counted before it, and no more than rule.Max of a window are checked.
// What it saves is work: an attempt that check releases writes nothing,
// so a right payment code costs a locked read and an empty commit (no log
// write, no fsync) instead of a seed and two commits. On MySQL a key with
// no row yet is seeded first in a statement of its own (a locking read of
// a missing row takes a gap lock, and two first attempts would deadlock
// on their inserts); on SQLite the transaction holds the only write lock,
// and a counted first attempt inserts its row.
//
// check must be quick and touch no database: it runs under the lock.
func (a *Attempts) ClaimCheck(ctx context.Context, key string, rule AttemptRule, check func() (release bool)) (released bool, err error) {
	now := a.clock()
	windowStart := now.Add(-rule.Window)
	sqlite := a.db.ForUpdate() == ""
	for try := 0; ; try++ {
		var granted, missing bool
		err = a.db.InTx(ctx, func(ctx context.Context) error {
			granted, missing, released = false, false, false
			r, found, err := QueryOne(ctx, a.db, scanAttempt, "SELECT "+attemptColumns+" FROM attempts WHERE attempt_key = ? LIMIT 1"+a.db.ForUpdate(), key)
			switch {
			case err != nil:
				return err
			case !found && !sqlite:
				missing = true
				return nil
			case found && r.LockedUntil != nil && r.LockedUntil.After(now):
				return nil // locked
			case found && r.WindowStart.After(windowStart) && r.Failures >= rule.Max:
				return nil // the window's attempts are all taken
			}
			granted = true
			if released = check(); released {
				return nil
			}
			if !found {
				seed := attemptRow{AttemptKey: key, Failures: 1, WindowStart: now}
				return a.db.Writer(ctx).Create(&seed).Error
			}
			// The same conditional UPDATE as Claim's: under the lock it
			// matches the row just read.
			res := a.db.Writer(ctx).Exec(`UPDATE attempts SET
			    failures = CASE WHEN window_start <= ? THEN 1 ELSE failures + 1 END,
			    window_start = CASE WHEN window_start <= ? THEN ? ELSE window_start END
			  WHERE attempt_key = ? AND (locked_until IS NULL OR locked_until <= ?)
			    AND (window_start <= ? OR failures < ?)`,
				windowStart, windowStart, now, key, now, windowStart, rule.Max)
			if res.Error == nil && res.RowsAffected != 1 {
				return fmt.Errorf("attempts row %q changed under its lock", key)
			}
			return res.Error
		})
		if err != nil {
			return false, fmt.Errorf("claim attempt: %w", err)
		}
		if granted {
			return released, nil
		}
		if missing && try == 0 {
			if err := a.seed(ctx, key, now); err != nil {
				return false, fmt.Errorf("claim attempt: %w", err)
			}
			continue
		}
		// Refused: as Claim, only failures lock (Failed), so a refusal of
		// a key that is not locked asks to retry in a moment.
		if err := a.Check(ctx, key); err != nil {
			return false, err
		}
		e := *ErrTooManyAttempts
		e.RetryAfter = 1
		return false, &e
	}
}

// Failed reports that a claimed attempt of key was wrong: once the key's
// attempts in the window reached rule.Max it is locked for rule.Lockout,
// with a fresh budget after. It reports whether this failure locked it.
func (a *Attempts) Failed(ctx context.Context, key string, rule AttemptRule) (locked bool, err error) {
	if locked, err = a.lock(ctx, key, rule, a.clock()); err != nil {
		return false, fmt.Errorf("record failed attempt: %w", err)
	}
	return locked, nil
}

// lock locks key if its attempts reached rule.Max within the window and it
// is not locked already, in one statement. Attempts still in flight count:
// a burst of wrong guesses is locked by the first of them to fail.
func (a *Attempts) lock(ctx context.Context, key string, rule AttemptRule, now time.Time) (bool, error) {
	res := a.db.Writer(ctx).Exec(`UPDATE attempts SET locked_until = ?, failures = 0, window_start = ?
	  WHERE attempt_key = ? AND failures >= ? AND window_start > ? AND (locked_until IS NULL OR locked_until <= ?)`,
		now.Add(rule.Lockout), now, key, rule.Max, now.Add(-rule.Window), now)
	return res.RowsAffected == 1, res.Error
}

// Release gives back a claimed attempt that must not count against key.
func (a *Attempts) Release(ctx context.Context, key string) error {
	if err := a.db.Writer(ctx).Exec("UPDATE attempts SET failures = failures - 1 WHERE attempt_key = ? AND failures > 0", key).Error; err != nil {
		return fmt.Errorf("release attempt: %w", err)
	}
	return nil
}

// Fail records a failure of key that was not claimed in advance (Claim,
// then Failed) and reports whether the key is now locked. Only for
// failures that cannot race with a check of the secret.
func (a *Attempts) Fail(ctx context.Context, key string, rule AttemptRule) (locked bool, err error) {
	if err := a.Claim(ctx, key, rule); err != nil {
		if paydesk.ErrorCode(err) == ErrTooManyAttempts.Code {
			return true, nil
		}
		return false, err
	}
	return a.Failed(ctx, key, rule)
}

// seed makes sure key's row exists, in a statement of its own: a locking
// read of a missing row takes a gap lock on MySQL, and concurrent first
// attempts would then deadlock on their inserts.
func (a *Attempts) seed(ctx context.Context, key string, now time.Time) error {
	seed := attemptRow{AttemptKey: key, WindowStart: now}
	return a.db.Writer(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&seed).Error
}

// Reset forgets key's failures, after a success.
func (a *Attempts) Reset(ctx context.Context, key string) error {
	if err := a.db.Writer(ctx).Where("attempt_key = ?", key).Delete(&attemptRow{}).Error; err != nil {
		return fmt.Errorf("reset attempts: %w", err)
	}
	return nil
}
