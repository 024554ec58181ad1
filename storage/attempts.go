package storage

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sync/atomic"
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
	// keys are ClaimCheck's per-key mutexes.
	keys keyLocks
	// writes counts this Attempts' writes, each bumped once before it and
	// once after it is committed: a row read ahead (ReadAhead) when the
	// count was n is as fresh as a read under the key's mutex while the
	// count is still n.
	writes atomic.Uint64
}

// NewAttempts returns counters stored in db.
func NewAttempts(db *DB, clock paydesk.Clock) *Attempts { return &Attempts{db: db, clock: clock} }

// writing marks a write of the attempts table, at once and again when the
// transaction in ctx (if any) has ended: the caller defers what it returns
// around the write.
func (a *Attempts) writing(ctx context.Context) func() {
	a.writes.Add(1)
	return func() { AfterTx(ctx, func() { a.writes.Add(1) }) }
}

// AttemptRead is a key's attempts row read ahead of ClaimCheckAhead, by a
// statement the caller runs anyway (the payment code's wallet): one read
// fewer on the hot path. ReadAhead starts one; the caller's statement
// LEFT JOINs the table (AttemptJoinSQL, with Key as its argument) and
// scans AttemptColumnsSQL into Dest.
type AttemptRead struct {
	Key string
	gen uint64 // the Attempts' write count before the read
	// Scanned through Dest; key is NULL when the key has no row.
	key                      sql.NullString
	failures                 sql.NullInt64
	windowStart, lockedUntil sql.NullTime
	scanned                  bool
}

// ReadAhead starts a read-ahead of key's row (see AttemptRead).
func (a *Attempts) ReadAhead(key string) *AttemptRead {
	return &AttemptRead{Key: key, gen: a.writes.Load()}
}

// AttemptJoinSQL is the LEFT JOIN that reads a key's attempts row, as
// alias, along with another; its one argument is the key.
func AttemptJoinSQL(alias string) string {
	return " LEFT JOIN attempts " + alias + " ON " + alias + ".attempt_key = ?"
}

// AttemptColumnsSQL are the columns Dest scans, of the join as alias.
func AttemptColumnsSQL(alias string) string {
	return alias + ".attempt_key, " + alias + ".failures, " + alias + ".window_start, " + alias + ".locked_until"
}

// Dest are the scan targets of AttemptColumnsSQL's columns. The read
// counts as done once they are handed out: a caller whose scan failed
// must not go on to ClaimCheckAhead with it.
func (r *AttemptRead) Dest() []any {
	r.scanned = true
	return []any{&r.key, &r.failures, &r.windowStart, &r.lockedUntil}
}

// row returns the row read ahead, if it is still as good as a read now:
// read (Dest scanned) and no write of a's since the read began.
func (r *AttemptRead) row(a *Attempts) (row attemptRow, found, ok bool) {
	if r == nil || !r.scanned || a.writes.Load() != r.gen {
		return attemptRow{}, false, false
	}
	if !r.key.Valid {
		return attemptRow{}, false, true
	}
	row = attemptRow{AttemptKey: r.key.String, Failures: int(r.failures.Int64), WindowStart: r.windowStart.Time}
	if r.lockedUntil.Valid {
		t := r.lockedUntil.Time
		row.LockedUntil = &t
	}
	return row, true, true
}

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
	if !found {
		return nil
	}
	return r.lockedOut(a.clock())
}

// lockedOut returns ErrTooManyAttempts, with RetryAfter set, while the
// row's key is locked at now.
func (r attemptRow) lockedOut(now time.Time) error {
	if r.LockedUntil != nil {
		if left := r.LockedUntil.Sub(now); left > 0 {
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
	defer a.writing(ctx)()
	res := a.db.Writer(ctx).Exec(claimUpdate, windowStart, windowStart, now, key, now, windowStart, rule.Max)
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

// claimUpdate counts one attempt of a key that is not locked and has
// attempts left in its window (a window that has passed starts afresh),
// increment and compare in one statement. Its arguments: the window's
// start twice, now, the key, now, the window's start, the rule's max.
// MySQL assigns left to right and sees the new values of columns set
// before; failures is set first, so both CASEs read the old window_start.
const claimUpdate = `UPDATE attempts SET
    failures = CASE WHEN window_start <= ? THEN 1 ELSE failures + 1 END,
    window_start = CASE WHEN window_start <= ? THEN ? ELSE window_start END
  WHERE attempt_key = ? AND (locked_until IS NULL OR locked_until <= ?)
    AND (window_start <= ? OR failures < ?)`

// ClaimCheck is Claim, check and Release in one, for the hot path (a
// payment code checked at every payment): it decides whether an attempt of
// key under rule is granted as Claim does (refused while key is locked or
// once the window's rule.Max attempts are counted), runs check only for a
// granted attempt, and counts the attempt unless check says it must not
// count (a right code, an expired one: release true). An attempt that is
// counted stays counted, and the caller goes on as after Claim: Failed,
// which locks key once its attempts reached rule.Max.
//
// The attempts of one key in one process are decided one at a time, under
// a mutex of that key held in this Attempts: each reads the key's row with
// a plain SELECT (no transaction, no row lock), is checked, and if counted
// writes its count (seeding the row of a first failure) before the next is
// read. So an attempt that check releases costs that one SELECT and
// nothing else: a right payment code writes no row, takes no database lock
// and commits nothing, where a locking read needed a transaction on the
// single writer (and on MySQL a seeded row for every code id).
//
// The bound is per process. In one process at most rule.Max attempts of a
// window are checked. Several processes on one database (instances, or
// several Attempts in one process) decide each on its own, from the same
// committed count: with n of them a burst checks at most rule.Max+n-1
// guesses of a window, since all n may read the count one below the max
// and each check its guess before any of their writes lands. Every
// checked wrong guess is counted all the same (a write that finds the
// window full or the key locked by another process leaves the row to
// them), so the key locks as soon as any process sees the max.
//
// check must be quick and touch no database: it runs under the key's
// mutex. ClaimCheck must not run inside a transaction: a count must be
// committed before the next attempt of the key reads it.
func (a *Attempts) ClaimCheck(ctx context.Context, key string, rule AttemptRule, check func() (release bool)) (released bool, err error) {
	return a.ClaimCheckAhead(ctx, &AttemptRead{Key: key}, rule, check)
}

// ClaimCheckAhead is ClaimCheck of ahead.Key, on the row read ahead when
// no write of this Attempts came since its read began (a write of another
// process is as likely to be missed by it as by ClaimCheck's own read a
// moment later), else on a read of its own under the key's mutex.
func (a *Attempts) ClaimCheckAhead(ctx context.Context, ahead *AttemptRead, rule AttemptRule, check func() (release bool)) (released bool, err error) {
	key := ahead.Key
	if InTxContext(ctx) {
		return false, paydesk.ErrInternal.WithMessage("storage: Attempts.ClaimCheck must not run inside a database transaction")
	}
	unlock, err := a.keys.lock(ctx, key)
	if err != nil {
		return false, fmt.Errorf("claim attempt: %w", err)
	}
	defer unlock()
	now := a.clock()
	windowStart := now.Add(-rule.Window)
	r, found, fresh := ahead.row(a)
	if !fresh {
		if r, found, err = QueryOne(ctx, a.db, scanAttempt, "SELECT "+attemptColumns+" FROM attempts WHERE attempt_key = ? LIMIT 1", key); err != nil {
			return false, fmt.Errorf("claim attempt: %w", err)
		}
	}
	if found {
		if err := r.lockedOut(now); err != nil {
			return false, err
		}
	}
	if found && r.WindowStart.After(windowStart) && r.Failures >= rule.Max {
		// The window's attempts are all taken. As for Claim, only failures
		// lock (Failed), and the last counted one may be locking the key
		// right now: say so if it did, else ask to retry in a moment.
		if err := a.Check(ctx, key); err != nil {
			return false, err
		}
		e := *ErrTooManyAttempts
		e.RetryAfter = 1
		return false, &e
	}
	if check() {
		return true, nil
	}
	if !found {
		if err := a.seed(ctx, key, now); err != nil {
			return false, fmt.Errorf("claim attempt: %w", err)
		}
	}
	// Claim's conditional UPDATE. It matches nothing only when another
	// process counted the window's last attempt or locked the key since
	// the read above; this attempt was checked all the same, and the
	// caller's Failed locks the key if that process has not.
	defer a.writing(ctx)()
	if err := a.db.Writer(ctx).Exec(claimUpdate, windowStart, windowStart, now, key, now, windowStart, rule.Max).Error; err != nil {
		return false, fmt.Errorf("claim attempt: %w", err)
	}
	return false, nil
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
	defer a.writing(ctx)()
	res := a.db.Writer(ctx).Exec(`UPDATE attempts SET locked_until = ?, failures = 0, window_start = ?
	  WHERE attempt_key = ? AND failures >= ? AND window_start > ? AND (locked_until IS NULL OR locked_until <= ?)`,
		now.Add(rule.Lockout), now, key, rule.Max, now.Add(-rule.Window), now)
	return res.RowsAffected == 1, res.Error
}

// Release gives back a claimed attempt that must not count against key.
func (a *Attempts) Release(ctx context.Context, key string) error {
	defer a.writing(ctx)()
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
	defer a.writing(ctx)()
	return a.db.Writer(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&seed).Error
}

// Reset forgets key's failures, after a success.
func (a *Attempts) Reset(ctx context.Context, key string) error {
	defer a.writing(ctx)()
	if err := a.db.Writer(ctx).Where("attempt_key = ?", key).Delete(&attemptRow{}).Error; err != nil {
		return fmt.Errorf("reset attempts: %w", err)
	}
	return nil
}
