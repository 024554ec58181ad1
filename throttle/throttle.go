// Package throttle is the token buckets that slow a client down: a bucket
// per key (a client IP and a route class, a credential) holds Burst tokens
// and gains one every Every; each request takes one, and a request that
// finds the bucket empty is refused with the time until the next token.
//
// A bucket only ever slows its own key: it never locks anyone out for
// longer than one token's time, and keys are chosen so that an attacker's
// requests empty the attacker's buckets, not their victims'. Memory keeps
// the buckets in the process; Redis shares them between instances.
package throttle

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/paydesk/paydesk"
)

// Rate is a bucket's size and refill: Burst requests at once, then one per
// Every.
type Rate struct {
	Burst int
	Every time.Duration
}

// Limiter takes tokens from buckets.
type Limiter interface {
	// Take takes a token from key's bucket of rate r. It returns 0 when it
	// did, else how long until the bucket has a token again (nothing is
	// taken then).
	Take(ctx context.Context, key string, r Rate) (wait time.Duration, err error)
}

// maxMemoryBuckets is how many buckets Memory keeps before it forgets the
// full ones (a full bucket is the same as a missing one).
const maxMemoryBuckets = 100_000

// Memory is a Limiter in the process, for a single instance.
type Memory struct {
	clock paydesk.Clock
	mu    sync.Mutex
	b     map[string]*rate.Limiter
}

// NewMemory returns buckets kept in memory, timed by clock (the system
// clock if nil).
func NewMemory(clock paydesk.Clock) *Memory {
	if clock == nil {
		clock = paydesk.SystemClock
	}
	return &Memory{clock: clock, b: map[string]*rate.Limiter{}}
}

// Take implements Limiter.
func (m *Memory) Take(_ context.Context, key string, r Rate) (time.Duration, error) {
	now := m.clock()
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.b[key]
	if !ok {
		if len(m.b) >= maxMemoryBuckets {
			m.forgetFull(now)
		}
		l = rate.NewLimiter(rate.Every(r.Every), r.Burst)
		m.b[key] = l
	}
	if l.AllowN(now, 1) {
		return 0, nil
	}
	return waitFor(l.TokensAt(now), r), nil
}

// forgetFull drops the buckets that have refilled; it runs under mu.
func (m *Memory) forgetFull(now time.Time) {
	for k, l := range m.b {
		if l.TokensAt(now) >= float64(l.Burst()) {
			delete(m.b, k)
		}
	}
}

// waitFor is how long a bucket holding tokens waits for a whole one.
func waitFor(tokens float64, r Rate) time.Duration {
	w := time.Duration((1 - tokens) * float64(r.Every))
	if w <= 0 {
		w = time.Millisecond
	}
	return w
}
