package storage

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// The holders of one key take turns, other keys do not wait for them, and
// the map forgets a key when its last holder or waiter leaves.
func TestKeyLocksTakeTurnsAndForget(t *testing.T) {
	var l keyLocks
	ctx := context.Background()
	var wg sync.WaitGroup
	in, most := 0, 0
	var mu sync.Mutex
	for range 50 {
		wg.Go(func() {
			unlock, err := l.lock(ctx, "k")
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			in++
			most = max(most, in)
			mu.Unlock()
			time.Sleep(100 * time.Microsecond) // widen the window for a second holder
			mu.Lock()
			in--
			mu.Unlock()
			unlock()
		})
	}
	unlockOther, err := l.lock(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	unlockOther()
	wg.Wait()
	if most != 1 {
		t.Fatalf("%d holders of one key at once, want 1", most)
	}
	if n := l.len(); n != 0 {
		t.Fatalf("%d keys left in the map after every holder left, want 0", n)
	}

	// A waiter whose context ends gives up and leaves no entry behind.
	unlock, err := l.lock(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() {
		_, err := l.lock(cctx, "k")
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("lock with a cancelled context = %v, want context.Canceled", err)
	}
	unlock()
	if n := l.len(); n != 0 {
		t.Fatalf("%d keys left after a cancelled waiter, want 0", n)
	}
}
