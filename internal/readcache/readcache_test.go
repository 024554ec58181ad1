package readcache_test

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paydesk/paydesk/internal/readcache"
	"github.com/paydesk/paydesk/internal/testkit"
)

var start = time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)

// counter is a row in a pretend database: its value, and how often it was read.
type counter struct {
	v     atomic.Int64
	reads atomic.Int64
}

func (c *counter) load() (int64, error) {
	c.reads.Add(1)
	return c.v.Load(), nil
}

func mustGet(t *testing.T, c *readcache.Cache[string, int64], key string, load func() (int64, error)) int64 {
	t.Helper()
	v, err := c.Get(key, load)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return v
}

// A fresh entry is served without a read; once the TTL has passed the row
// is read again.
func TestTTL(t *testing.T) {
	clock := testkit.NewClock(start)
	c := readcache.New[string, int64](10, time.Second, clock.Now)
	var row counter
	row.v.Store(1)
	mustGet(t, c, "a", row.load)
	row.v.Store(2)
	clock.Advance(999 * time.Millisecond)
	if v := mustGet(t, c, "a", row.load); v != 1 || row.reads.Load() != 1 {
		t.Fatalf("within the TTL: %d after %d reads, want the cached 1 after 1", v, row.reads.Load())
	}
	clock.Advance(time.Millisecond)
	if v := mustGet(t, c, "a", row.load); v != 2 || row.reads.Load() != 2 {
		t.Fatalf("at the TTL: %d after %d reads, want 2 read again", v, row.reads.Load())
	}
}

// Forget drops the entry: the next Get reads the row.
func TestForget(t *testing.T) {
	c := readcache.New[string, int64](10, time.Hour, testkit.NewClock(start).Now)
	var row counter
	mustGet(t, c, "a", row.load)
	row.v.Store(7)
	c.Forget("a")
	if v := mustGet(t, c, "a", row.load); v != 7 {
		t.Fatalf("after Forget: %d, want 7", v)
	}
}

// A load that fails is not cached, and its error reaches the caller.
func TestErrorsAreNotCached(t *testing.T) {
	c := readcache.New[string, int64](10, time.Hour, testkit.NewClock(start).Now)
	boom := errors.New("boom")
	if _, err := c.Get("a", func() (int64, error) { return 0, boom }); !errors.Is(err, boom) {
		t.Fatalf("Get = %v, want boom", err)
	}
	if c.Len() != 0 {
		t.Fatalf("a failed load left %d entries", c.Len())
	}
}

// The cache never holds more than its size, whatever the keys.
func TestSizeBound(t *testing.T) {
	clock := testkit.NewClock(start)
	c := readcache.New[int, int](3, time.Second, clock.Now)
	for i := range 100 {
		if _, err := c.Get(i, func() (int, error) { return i, nil }); err != nil {
			t.Fatal(err)
		}
		if c.Len() > 3 {
			t.Fatalf("after %d keys: %d entries, want at most 3", i+1, c.Len())
		}
		if i%10 == 0 {
			clock.Advance(400 * time.Millisecond)
		}
	}
	// The newest key is always kept.
	if v, _ := c.Get(99, func() (int, error) { return -1, nil }); v != 99 {
		t.Fatalf("the newest key was evicted: %d", v)
	}
}

// A nil cache caches nothing.
func TestNilCacheLoads(t *testing.T) {
	var c *readcache.Cache[string, int64]
	var row counter
	mustGet(t, c, "a", row.load)
	mustGet(t, c, "a", row.load)
	c.Forget("a")
	if row.reads.Load() != 2 || c.Len() != 0 {
		t.Fatalf("nil cache: %d reads, %d entries", row.reads.Load(), c.Len())
	}
}

// The race the generation exists for: a load reads the old row, the
// writer changes it and forgets the key, then the load returns. The old
// value must not be stored, or it would be served for a whole TTL after
// the change.
func TestForgetDuringLoadDropsTheLoad(t *testing.T) {
	c := readcache.New[string, int64](10, time.Hour, testkit.NewClock(start).Now)
	read, release := make(chan struct{}), make(chan struct{})
	done := make(chan int64)
	go func() {
		v, _ := c.Get("a", func() (int64, error) {
			close(read)
			<-release
			return 1, nil // what the row held when it was read
		})
		done <- v
	}()
	<-read
	c.Forget("a") // the row is 2 from now on
	close(release)
	if v := <-done; v != 1 {
		t.Fatalf("the racing load returned %d, want what it read, 1", v)
	}
	if v := mustGet(t, c, "a", func() (int64, error) { return 2, nil }); v != 2 {
		t.Fatalf("after the racing load: %d, want 2 (the stale 1 was stored)", v)
	}
}

// Under -race: writers change rows and forget them while readers get them.
// A Get that starts after a Forget returned never sees a value older than
// the one written before that Forget.
func TestConcurrentForgetNeverLeavesStale(t *testing.T) {
	c := readcache.New[int, int64](4, time.Hour, nil)
	const keys = 8
	var rows [keys]atomic.Int64
	var forgotten [keys]atomic.Int64 // the newest value whose Forget returned
	var writers, readers sync.WaitGroup
	stop := make(chan struct{})
	for k := range keys {
		writers.Go(func() {
			for v := int64(1); ; v++ {
				select {
				case <-stop:
					return
				default:
				}
				rows[k].Store(v)
				c.Forget(k)
				forgotten[k].Store(v)
			}
		})
	}
	var stale atomic.Int64
	for r := range 4 {
		readers.Go(func() {
			for i := range 20_000 {
				k := (i + r) % keys
				floor := forgotten[k].Load()
				v, _ := c.Get(k, func() (int64, error) { return rows[k].Load(), nil })
				if v < floor {
					stale.Add(1)
				}
			}
		})
	}
	readers.Wait()
	close(stop)
	writers.Wait()
	if n := stale.Load(); n > 0 {
		t.Fatalf("%d reads returned a value older than one already forgotten", n)
	}
}
