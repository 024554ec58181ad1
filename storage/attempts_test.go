package storage_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/internal/testkit"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

func TestAttemptsLockAfterMaxFailuresInWindow(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		clock := testkit.NewClock(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
		a := storage.NewAttempts(db, clock.Now)
		rule := storage.AttemptRule{Max: 5, Window: 15 * time.Minute, Lockout: 15 * time.Minute}

		for i := 1; i <= 4; i++ {
			if locked, err := a.Fail(ctx, "phone:1", rule); err != nil || locked {
				t.Fatalf("failure %d: locked=%v err=%v", i, locked, err)
			}
			clock.Advance(time.Minute)
		}
		if err := a.Check(ctx, "phone:1"); err != nil {
			t.Fatalf("locked after 4 failures: %v", err)
		}
		if locked, err := a.Fail(ctx, "phone:1", rule); err != nil || !locked {
			t.Fatalf("5th failure: locked=%v err=%v", locked, err)
		}
		err := a.Check(ctx, "phone:1")
		var pe *paydesk.Error
		if !errors.As(err, &pe) || pe.Code != "TOO_MANY_ATTEMPTS" || pe.RetryAfter != 900 {
			t.Fatalf("check while locked = %v, want TOO_MANY_ATTEMPTS with Retry-After 900", err)
		}
		if err := a.Check(ctx, "phone:2"); err != nil {
			t.Fatalf("another key is locked too: %v", err)
		}
		clock.Advance(15 * time.Minute)
		if err := a.Check(ctx, "phone:1"); err != nil {
			t.Fatalf("still locked after the lock-out: %v", err)
		}

		// Failures spread wider than the window never lock.
		for i := 0; i < 10; i++ {
			if locked, _ := a.Fail(ctx, "phone:3", rule); locked {
				t.Fatalf("locked by failures %v apart", 16*time.Minute)
			}
			clock.Advance(16 * time.Minute)
		}
		a.Fail(ctx, "phone:4", rule)
		if err := a.Reset(ctx, "phone:4"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestAttemptsCountConcurrentFailures(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		a := storage.NewAttempts(db, paydesk.SystemClock)
		rule := storage.AttemptRule{Max: 20, Window: time.Hour, Lockout: time.Hour}
		var wg sync.WaitGroup
		var mu sync.Mutex
		locks := 0
		for range 20 {
			wg.Go(func() {
				locked, err := a.Fail(ctx, "ip:10.0.0.1", rule)
				if err != nil {
					t.Error(err)
				}
				if locked {
					mu.Lock()
					locks++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if locks != 1 {
			t.Fatalf("20 concurrent failures with Max 20 locked %d times, want exactly once", locks)
		}
	})
}

// 100 claims of one key at once: exactly Max are granted, the rest refused,
// and the granted ones failing lock the key, on both databases.
func TestAttemptClaimsHoldUnderABurst(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		clock := testkit.NewClock(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
		a := storage.NewAttempts(db, clock.Now)
		rule := storage.AttemptRule{Max: 5, Window: 15 * time.Minute, Lockout: 15 * time.Minute}
		var (
			wg              sync.WaitGroup
			mu              sync.Mutex
			granted, refuse int
		)
		for range 100 {
			wg.Go(func() {
				err := a.Claim(ctx, "burst", rule)
				if err == nil {
					// Every granted guess is wrong.
					if _, ferr := a.Failed(ctx, "burst", rule); ferr != nil {
						t.Errorf("failed: %v", ferr)
					}
				}
				mu.Lock()
				defer mu.Unlock()
				switch paydesk.ErrorCode(err) {
				case "":
					granted++
				case "TOO_MANY_ATTEMPTS":
					refuse++
				default:
					t.Errorf("claim: %v", err)
				}
			})
		}
		wg.Wait()
		if granted != rule.Max || refuse != 100-rule.Max {
			t.Fatalf("100 claims: %d granted, %d refused; want %d granted", granted, refuse, rule.Max)
		}
		if err := a.Check(ctx, "burst"); paydesk.ErrorCode(err) != "TOO_MANY_ATTEMPTS" {
			t.Fatalf("after the burst the key is not locked: %v", err)
		}
		// Released claims do not count; after the lock-out the budget is fresh.
		clock.Advance(rule.Lockout)
		for range 10 {
			if err := a.Claim(ctx, "burst", rule); err != nil {
				t.Fatalf("claim after the lock-out: %v", err)
			}
			if err := a.Release(ctx, "burst"); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// ClaimCheck is Claim under a burst (at most Max wrong guesses checked, the
// first of them seeding the row), and a right attempt writes nothing: any
// number of them, at once, leave no row and never lock the key.
func TestAttemptClaimCheckHoldsUnderABurst(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		clock := testkit.NewClock(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
		a := storage.NewAttempts(db, clock.Now)
		rule := storage.AttemptRule{Max: 5, Window: 15 * time.Minute, Lockout: 15 * time.Minute}

		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				released, err := a.ClaimCheck(ctx, "right", rule, func() bool { return true })
				if err != nil || !released {
					t.Errorf("right attempt: released=%v err=%v", released, err)
				}
			})
		}
		wg.Wait()
		if n := attemptRows(t, db, "right"); n != 0 {
			t.Fatalf("20 right attempts left %d rows in attempts, want none", n)
		}
		if err := a.Check(ctx, "right"); err != nil {
			t.Fatalf("20 right attempts locked the key: %v", err)
		}

		checked, refused := wrongBurst(t, 100, "burst", rule, a)
		if checked != rule.Max || refused != 100-rule.Max {
			t.Fatalf("100 wrong attempts: %d checked, %d refused; want %d checked", checked, refused, rule.Max)
		}
		// Locked now: even a right attempt is refused, unchecked.
		_, err := a.ClaimCheck(ctx, "burst", rule, func() bool { t.Error("a locked key's attempt was checked"); return true })
		var pe *paydesk.Error
		if !errors.As(err, &pe) || pe.Code != "TOO_MANY_ATTEMPTS" || pe.RetryAfter != 900 {
			t.Fatalf("attempt on a locked key = %v, want TOO_MANY_ATTEMPTS with Retry-After 900", err)
		}

		// After the lock-out the budget is fresh, and right attempts do
		// not use it up.
		clock.Advance(rule.Lockout)
		for range 2 * rule.Max {
			if released, err := a.ClaimCheck(ctx, "burst", rule, func() bool { return true }); err != nil || !released {
				t.Fatalf("right attempt after the lock-out: released=%v err=%v", released, err)
			}
		}
		checked, _ = wrongBurst(t, 20, "burst", rule, a)
		if checked != rule.Max {
			t.Fatalf("20 wrong attempts after the lock-out: %d checked, want %d", checked, rule.Max)
		}
	})
}

// Two processes on one database decide each on its own: a burst through
// both checks at most Max+1 guesses of a window, and locks the key.
func TestAttemptClaimCheckBoundAcrossInstances(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		clock := testkit.NewClock(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
		rule := storage.AttemptRule{Max: 5, Window: 15 * time.Minute, Lockout: 15 * time.Minute}
		checked, refused := wrongBurst(t, 100, "burst", rule, storage.NewAttempts(db, clock.Now), storage.NewAttempts(db, clock.Now))
		if checked < rule.Max || checked > rule.Max+1 || checked+refused != 100 {
			t.Fatalf("100 wrong attempts through two instances: %d checked, %d refused; want %d or %d checked", checked, refused, rule.Max, rule.Max+1)
		}
		if err := storage.NewAttempts(db, clock.Now).Check(context.Background(), "burst"); paydesk.ErrorCode(err) != "TOO_MANY_ATTEMPTS" {
			t.Fatalf("after the burst the key is not locked: %v", err)
		}
	})
}

func TestAttemptClaimCheckRefusesATransaction(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		a := storage.NewAttempts(db, paydesk.SystemClock)
		rule := storage.AttemptRule{Max: 5, Window: time.Minute, Lockout: time.Minute}
		err := db.InTx(context.Background(), func(ctx context.Context) error {
			_, err := a.ClaimCheck(ctx, "in-tx", rule, func() bool { t.Error("checked inside a transaction"); return true })
			return err
		})
		if paydesk.ErrorCode(err) != "INTERNAL" {
			t.Fatalf("ClaimCheck inside a transaction = %v, want INTERNAL", err)
		}
	})
}

// wrongBurst makes n wrong attempts of key at once, attempt i through
// instance i mod len(as), each checked one failing (Failed), and returns how
// many were checked and how many refused.
func wrongBurst(t *testing.T, n int, key string, rule storage.AttemptRule, as ...*storage.Attempts) (checked, refused int) {
	t.Helper()
	ctx := context.Background()
	var (
		wg sync.WaitGroup
		mu sync.Mutex
	)
	for i := range n {
		a := as[i%len(as)]
		wg.Go(func() {
			ran := false
			released, err := a.ClaimCheck(ctx, key, rule, func() bool { ran = true; return false })
			if err == nil && (!ran || released) {
				t.Errorf("granted attempt: check ran=%v released=%v", ran, released)
			}
			if err == nil {
				if _, ferr := a.Failed(ctx, key, rule); ferr != nil {
					t.Errorf("failed: %v", ferr)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			switch paydesk.ErrorCode(err) {
			case "":
				checked++
			case "TOO_MANY_ATTEMPTS":
				if ran {
					t.Errorf("a refused attempt was checked")
				}
				refused++
			default:
				t.Errorf("claim check: %v", err)
			}
		})
	}
	wg.Wait()
	return checked, refused
}

// attemptRows counts the rows of key in attempts.
func attemptRows(t *testing.T, db *storage.DB, key string) int64 {
	t.Helper()
	var n int64
	if err := db.Reader(context.Background()).Raw("SELECT COUNT(*) FROM attempts WHERE attempt_key = ?", key).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// readAhead reads key's attempts row as a caller's statement would, joined
// to a row of its own.
func readAhead(t *testing.T, db *storage.DB, a *storage.Attempts, key string) *storage.AttemptRead {
	t.Helper()
	ahead := a.ReadAhead(key)
	var one int
	q := "SELECT o.one, " + storage.AttemptColumnsSQL("att") + " FROM (SELECT 1 AS one) o" + storage.AttemptJoinSQL("att")
	if err := db.Reader(context.Background()).Raw(q, key).Row().Scan(append([]any{&one}, ahead.Dest()...)...); err != nil {
		t.Fatalf("read ahead: %v", err)
	}
	return ahead
}

// A row read ahead decides the claim as a read under the key's mutex would,
// so long as this Attempts wrote nothing since it was read: a lock taken
// after the read ahead is seen, and a lock read ahead refuses at once.
func TestAttemptClaimCheckAheadSeesItsOwnWrites(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		clock := testkit.NewClock(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
		a := storage.NewAttempts(db, clock.Now)
		rule := storage.AttemptRule{Max: 3, Window: 15 * time.Minute, Lockout: 15 * time.Minute}

		// Fresh: the key has no row, and a right attempt writes none.
		ahead := readAhead(t, db, a, "k")
		if released, err := a.ClaimCheckAhead(ctx, ahead, rule, func() bool { return true }); err != nil || !released {
			t.Fatalf("right attempt on a fresh read: released=%v err=%v", released, err)
		}

		// Stale: read ahead (no row), then the key is locked through a.
		ahead = readAhead(t, db, a, "k")
		for range rule.Max {
			if _, err := a.Fail(ctx, "k", rule); err != nil {
				t.Fatal(err)
			}
		}
		_, err := a.ClaimCheckAhead(ctx, ahead, rule, func() bool { t.Error("checked on a stale read of a locked key"); return true })
		if paydesk.ErrorCode(err) != "TOO_MANY_ATTEMPTS" {
			t.Fatalf("attempt read ahead of the lock = %v, want TOO_MANY_ATTEMPTS", err)
		}

		// Read ahead while locked: refused from the row read ahead.
		ahead = readAhead(t, db, a, "k")
		_, err = a.ClaimCheckAhead(ctx, ahead, rule, func() bool { t.Error("a locked key's attempt was checked"); return true })
		var pe *paydesk.Error
		if !errors.As(err, &pe) || pe.Code != "TOO_MANY_ATTEMPTS" || pe.RetryAfter != 900 {
			t.Fatalf("attempt read ahead on a locked key = %v, want TOO_MANY_ATTEMPTS with Retry-After 900", err)
		}

		// A write inside a transaction counts again when the transaction
		// ends: a row read ahead between the write and the commit missed it.
		err = db.InTx(ctx, func(ctx context.Context) error {
			_, err := a.Fail(ctx, "tx", storage.AttemptRule{Max: 1, Window: time.Minute, Lockout: time.Minute})
			ahead = readAhead(t, db, a, "tx")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = a.ClaimCheckAhead(ctx, ahead, rule, func() bool { return false })
		if paydesk.ErrorCode(err) != "TOO_MANY_ATTEMPTS" {
			t.Fatalf("attempt read ahead of a lock committed in a transaction = %v, want TOO_MANY_ATTEMPTS", err)
		}
	})
}
