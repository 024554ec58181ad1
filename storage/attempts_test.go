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
// first of them seeding the row), and a right attempt gives its claim back
// in the same transaction: any number of them never lock the key.
func TestAttemptClaimCheckHoldsUnderABurst(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		clock := testkit.NewClock(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
		a := storage.NewAttempts(db, clock.Now)
		rule := storage.AttemptRule{Max: 5, Window: 15 * time.Minute, Lockout: 15 * time.Minute}

		for range 20 {
			released, err := a.ClaimCheck(ctx, "right", rule, func() bool { return true })
			if err != nil || !released {
				t.Fatalf("right attempt: released=%v err=%v", released, err)
			}
		}
		if err := a.Check(ctx, "right"); err != nil {
			t.Fatalf("20 right attempts locked the key: %v", err)
		}

		var (
			wg              sync.WaitGroup
			mu              sync.Mutex
			checked, refuse int
		)
		for range 100 {
			wg.Go(func() {
				ran := false
				released, err := a.ClaimCheck(ctx, "burst", rule, func() bool { ran = true; return false })
				if err == nil && (!ran || released) {
					t.Errorf("granted attempt: check ran=%v released=%v", ran, released)
				}
				if err == nil {
					if _, ferr := a.Failed(ctx, "burst", rule); ferr != nil {
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
					refuse++
				default:
					t.Errorf("claim check: %v", err)
				}
			})
		}
		wg.Wait()
		if checked != rule.Max || refuse != 100-rule.Max {
			t.Fatalf("100 wrong attempts: %d checked, %d refused; want %d checked", checked, refuse, rule.Max)
		}
		// Locked now: even a right attempt is refused, unchecked.
		_, err := a.ClaimCheck(ctx, "burst", rule, func() bool { t.Error("a locked key's attempt was checked"); return true })
		var pe *paydesk.Error
		if !errors.As(err, &pe) || pe.Code != "TOO_MANY_ATTEMPTS" || pe.RetryAfter != 900 {
			t.Fatalf("attempt on a locked key = %v, want TOO_MANY_ATTEMPTS with Retry-After 900", err)
		}
	})
}
