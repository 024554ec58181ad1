package storage_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paydesk/paydesk/internal/testkit"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

func digestOf(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestIdempotencyKeys(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		clock := testkit.NewClock(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
		k := storage.NewIdempotencyKeys(db, clock.Now)
		a, b := digestOf("request a"), digestOf("request b")

		if got, err := k.Begin(ctx, "staff:1", "key-1", a); got != nil || err != nil {
			t.Fatalf("first Begin = %v, %v; want the claim", got, err)
		}
		// While the first runs: in progress, or a conflict for another request.
		if _, err := k.Begin(ctx, "staff:1", "key-1", a); !errors.Is(err, storage.ErrIdempotencyInProgress) {
			t.Fatalf("duplicate while running: %v, want IDEMPOTENCY_IN_PROGRESS", err)
		}
		if _, err := k.Begin(ctx, "staff:1", "key-1", b); !errors.Is(err, storage.ErrIdempotencyConflict) {
			t.Fatalf("other request while running: %v, want IDEMPOTENCY_CONFLICT", err)
		}
		body := []byte(`{"id":7,"state":"PAID","subject":"茶 <b>&amp;</b>"}` + "\n")
		if err := k.Complete(ctx, "staff:1", "key-1", 200, body); err != nil {
			t.Fatal(err)
		}
		got, err := k.Begin(ctx, "staff:1", "key-1", a)
		if err != nil || got == nil || got.Status != 200 || string(got.Body) != string(body) {
			t.Fatalf("retry = %+v, %v; want the stored 200 byte for byte", got, err)
		}
		if _, err := k.Begin(ctx, "staff:1", "key-1", b); !errors.Is(err, storage.ErrIdempotencyConflict) {
			t.Fatalf("other request after completion: %v, want IDEMPOTENCY_CONFLICT", err)
		}
		// The same key of another caller is another key.
		if got, err := k.Begin(ctx, "customer:1", "key-1", b); got != nil || err != nil {
			t.Fatalf("another scope's key = %v, %v; want a fresh claim", got, err)
		}

		// Released claims can be claimed again; completed ones are not released.
		if err := k.Release(ctx, "customer:1", "key-1"); err != nil {
			t.Fatal(err)
		}
		if got, err := k.Begin(ctx, "customer:1", "key-1", a); got != nil || err != nil {
			t.Fatalf("after release = %v, %v; want a fresh claim", got, err)
		}
		if err := k.Release(ctx, "staff:1", "key-1"); err != nil {
			t.Fatal(err)
		}
		if got, _ := k.Begin(ctx, "staff:1", "key-1", a); got == nil {
			t.Fatal("Release dropped a completed response")
		}

		// An abandoned claim is taken over once its lease has run out, once.
		if _, err := k.Begin(ctx, "staff:2", "dead", a); err != nil {
			t.Fatal(err)
		}
		clock.Advance(storage.DefaultIdempotencyLease - time.Second)
		if _, err := k.Begin(ctx, "staff:2", "dead", a); !errors.Is(err, storage.ErrIdempotencyInProgress) {
			t.Fatalf("within the lease: %v, want IDEMPOTENCY_IN_PROGRESS", err)
		}
		clock.Advance(2 * time.Second)
		if got, err := k.Begin(ctx, "staff:2", "dead", a); got != nil || err != nil {
			t.Fatalf("after the lease = %v, %v; want the claim", got, err)
		}
		if _, err := k.Begin(ctx, "staff:2", "dead", a); !errors.Is(err, storage.ErrIdempotencyInProgress) {
			t.Fatalf("after a take-over: %v, want IDEMPOTENCY_IN_PROGRESS", err)
		}

		// Purge forgets old keys.
		clock.Advance(24 * time.Hour)
		n, err := k.Purge(ctx, clock.Now().Add(-time.Hour))
		if err != nil || n != 3 {
			t.Fatalf("purge = %d, %v; want 3 keys", n, err)
		}
		if got, err := k.Begin(ctx, "staff:1", "key-1", b); got != nil || err != nil {
			t.Fatalf("a purged key = %v, %v; want a fresh claim", got, err)
		}

		for _, bad := range [][3]string{{"", "k", a}, {"s", "", a}, {"s", string(make([]byte, 129)), a}, {"s", "k", "short"}} {
			if _, err := k.Begin(ctx, bad[0], bad[1], bad[2]); err == nil {
				t.Errorf("Begin(%q, %q, %q) accepted", bad[0], bad[1], bad[2])
			}
		}
		if err := k.Complete(ctx, "staff:1", "key-1", 200, make([]byte, storage.MaxIdempotentBody+1)); err == nil {
			t.Error("Complete stored a body over the limit")
		}
	})
}

// Of many requests racing for one key exactly one claims it; the others
// are told it is in progress, and after completion all get the response.
func TestIdempotencyKeysConcurrentClaims(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		k := storage.NewIdempotencyKeys(db, time.Now)
		d := digestOf("pay 100")
		var claims, busy atomic.Int32
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				got, err := k.Begin(ctx, "staff:9", "race", d)
				switch {
				case errors.Is(err, storage.ErrIdempotencyInProgress):
					busy.Add(1)
				case err != nil:
					t.Error(err)
				case got == nil:
					claims.Add(1)
				default:
					t.Errorf("replay before completion: %+v", got)
				}
			})
		}
		wg.Wait()
		if claims.Load() != 1 || busy.Load() != 15 {
			t.Fatalf("%d claims and %d in progress, want 1 and 15", claims.Load(), busy.Load())
		}
		if err := k.Complete(ctx, "staff:9", "race", 201, []byte("{}")); err != nil {
			t.Fatal(err)
		}
		if got, err := k.Begin(ctx, "staff:9", "race", d); err != nil || got == nil || got.Status != 201 {
			t.Fatalf("after completion = %+v, %v", got, err)
		}
	})
}
