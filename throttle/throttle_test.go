package throttle_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paydesk/paydesk/internal/testkit"
	"github.com/paydesk/paydesk/throttle"
)

// each runs fn against every Limiter: Memory, and Redis at
// PAYDESK_TEST_REDIS (default redis://127.0.0.1:6379/0; "skip" skips it).
func each(t *testing.T, fn func(t *testing.T, l throttle.Limiter, c *testkit.Clock, key func(string) string)) {
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		c := testkit.NewClock(time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC))
		fn(t, throttle.NewMemory(c.Now), c, func(s string) string { return s })
	})
	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		rc := testkit.Redis(t)
		run := testkit.Unique("test-") + ":"
		c := testkit.NewClock(time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC))
		fn(t, throttle.NewRedis(rc, c.Now), c, func(s string) string { return run + s })
	})
}

func TestBucketSlowsItsKeyOnly(t *testing.T) {
	each(t, func(t *testing.T, l throttle.Limiter, c *testkit.Clock, key func(string) string) {
		ctx := context.Background()
		r := throttle.Rate{Burst: 3, Every: 10 * time.Second}
		take := func(k string) time.Duration {
			t.Helper()
			w, err := l.Take(ctx, key(k), r)
			if err != nil {
				t.Fatal(err)
			}
			return w
		}
		for i := 0; i < 3; i++ {
			if w := take("a"); w != 0 {
				t.Fatalf("take %d of a burst of 3: wait %v", i, w)
			}
		}
		if w := take("a"); w <= 0 || w > 10*time.Second {
			t.Fatalf("4th take: wait %v, want (0, 10s]", w)
		}
		if w := take("b"); w != 0 {
			t.Fatalf("another key: wait %v", w)
		}
		c.Advance(4 * time.Second)
		if w := take("a"); w <= 5*time.Second || w > 6*time.Second {
			t.Fatalf("4 s on: wait %v, want 6 s", w)
		}
		c.Advance(6 * time.Second)
		if w := take("a"); w != 0 {
			t.Fatalf("a token later: wait %v", w)
		}
		if w := take("a"); w == 0 {
			t.Fatal("the refilled token was taken twice")
		}
		// A long idle time refills to the burst, not beyond.
		c.Advance(time.Hour)
		for i := 0; i < 3; i++ {
			if w := take("a"); w != 0 {
				t.Fatalf("after an hour, take %d: wait %v", i, w)
			}
		}
		if w := take("a"); w == 0 {
			t.Fatal("the bucket held more than its burst")
		}
	})
}

// TestBucketUnderConcurrentTakes: of many requests at once, exactly the
// burst gets through.
func TestBucketUnderConcurrentTakes(t *testing.T) {
	each(t, func(t *testing.T, l throttle.Limiter, c *testkit.Clock, key func(string) string) {
		r := throttle.Rate{Burst: 10, Every: time.Minute}
		var ok atomic.Int64
		var wg sync.WaitGroup
		for i := 0; i < 64; i++ {
			wg.Go(func() {
				w, err := l.Take(context.Background(), key("shared"), r)
				if err != nil {
					t.Error(err)
				}
				if w == 0 {
					ok.Add(1)
				}
			})
		}
		wg.Wait()
		if ok.Load() != 10 {
			t.Fatalf("%d of 64 concurrent takes got through a burst of 10", ok.Load())
		}
	})
}
