// Package readcache keeps, for a short while, rows that every request
// reads and that almost never change: the acting staff member
// (cashier.Service.ByID) and the merchant with its fee
// (merchant.Service.Merchant).
//
// Correctness rests on three rules, the last two kept by the callers:
//   - a load that an invalidation may have overtaken is never stored: Get
//     notes the generation before it reads, and stores only if no Forget
//     came in between, so a racing fill cannot bring back a stale row;
//   - the service that writes a row forgets it after its transaction has
//     ended (storage.AfterTx), never before the change is visible;
//   - a caller inside a transaction reads the database, not the cache: it
//     may need its own writes or a lock, and what it reads may not commit.
//
// Other instances learn of a change through the outbox where there is an
// event for it, and in any case within the TTL, which bounds how long any
// cached row can lag the database.
package readcache

import (
	"sync"
	"time"
)

// Cache maps keys to values loaded from the database, at most Size of
// them, each for at most TTL. The zero value is not usable; a nil *Cache
// caches nothing (Get always loads). Safe for concurrent use.
type Cache[K comparable, V any] struct {
	ttl   time.Duration
	size  int
	clock func() time.Time

	mu      sync.Mutex
	gen     uint64 // bumped by every Forget
	entries map[K]entry[V]
}

type entry[V any] struct {
	v       V
	expires time.Time
}

// New returns a cache of at most size entries kept for ttl each, timed by
// clock (time.Now if nil).
func New[K comparable, V any](size int, ttl time.Duration, clock func() time.Time) *Cache[K, V] {
	if clock == nil {
		clock = time.Now
	}
	return &Cache[K, V]{ttl: ttl, size: max(size, 1), clock: clock, entries: make(map[K]entry[V])}
}

// Get returns the value of key: the cached one while it is fresh, else
// what load returns, which is cached unless load failed or key was
// forgotten while it ran. Concurrent misses of a key each load.
func (c *Cache[K, V]) Get(key K, load func() (V, error)) (V, error) {
	if c == nil {
		return load()
	}
	c.mu.Lock()
	now := c.clock()
	if e, ok := c.entries[key]; ok && now.Before(e.expires) {
		c.mu.Unlock()
		return e.v, nil
	}
	gen := c.gen
	c.mu.Unlock()

	v, err := load()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		// A Forget came while loading: v may be from before the change.
		return v, nil
	}
	if _, ok := c.entries[key]; !ok && len(c.entries) >= c.size {
		c.evict(now)
	}
	// Timed from before the load, so no entry outlives its TTL counted
	// from when it was read.
	c.entries[key] = entry[V]{v: v, expires: now.Add(c.ttl)}
	return v, nil
}

// evict makes room for one entry: the expired ones go, or else one
// arbitrary entry (map order), which is enough for a bound on memory.
func (c *Cache[K, V]) evict(now time.Time) {
	for k, e := range c.entries {
		if !now.Before(e.expires) {
			delete(c.entries, k)
		}
	}
	for k := range c.entries {
		if len(c.entries) < c.size {
			return
		}
		delete(c.entries, k)
	}
}

// Forget drops key, and makes every load in flight (of any key) not be
// stored: invalidations are rare, so sparing the other keys' fills is not
// worth a generation per key.
func (c *Cache[K, V]) Forget(key K) {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.gen++
	delete(c.entries, key)
	c.mu.Unlock()
}

// Len returns how many entries are held, fresh or not.
func (c *Cache[K, V]) Len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
