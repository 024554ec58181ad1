package storage

import (
	"context"
	"sync"
)

// keyLocks is a mutex per key, for the keys in use only: an entry lives
// while some goroutine holds or waits for its key and is removed when the
// last one leaves, so a process that sees millions of keys keeps a map of
// the few being decided right now.
type keyLocks struct {
	mu    sync.Mutex
	locks map[string]*keyLock
}

type keyLock struct {
	ch   chan struct{} // holds one token while the key is locked
	refs int           // holders and waiters, under keyLocks.mu
}

// lock waits for key's mutex, or for ctx to end (then it returns ctx's
// error and holds nothing). The caller calls the returned unlock once.
func (l *keyLocks) lock(ctx context.Context, key string) (unlock func(), err error) {
	l.mu.Lock()
	if l.locks == nil {
		l.locks = make(map[string]*keyLock)
	}
	k := l.locks[key]
	if k == nil {
		k = &keyLock{ch: make(chan struct{}, 1)}
		l.locks[key] = k
	}
	k.refs++
	l.mu.Unlock()
	select {
	case k.ch <- struct{}{}:
		return func() { <-k.ch; l.leave(key, k) }, nil
	case <-ctx.Done():
		l.leave(key, k)
		return nil, ctx.Err()
	}
}

// leave drops one reference to k, and k itself with the last.
func (l *keyLocks) leave(key string, k *keyLock) {
	l.mu.Lock()
	if k.refs--; k.refs == 0 {
		delete(l.locks, key)
	}
	l.mu.Unlock()
}

// len is the number of keys held or waited for (for tests).
func (l *keyLocks) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.locks)
}
