package rbac_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paydesk/paydesk/rbac"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

func TestGormSessionStoreRoundTrip(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		store := rbac.NewGormSessionStore(db)
		now := time.Date(2026, 11, 25, 10, 0, 0, 123456000, time.UTC)
		in := rbac.RefreshSession{TokenHash: "ab12", Family: "fam", Principal: cashier, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := store.Create(ctx, &in); err != nil || in.ID == 0 {
			t.Fatalf("Create: id %d, %v", in.ID, err)
		}
		out, ok, err := store.ByHash(ctx, "ab12")
		if err != nil || !ok {
			t.Fatalf("ByHash: %v, %v", ok, err)
		}
		if out != in {
			t.Fatalf("read back %+v, want %+v", out, in)
		}
		if _, ok, err := store.ByHash(ctx, "cd34"); ok || err != nil {
			t.Fatalf("ByHash of an unknown hash = %v, %v", ok, err)
		}
		// A second identical hash is refused by the unique index: a token
		// identifies exactly one session.
		dup := in
		if err := store.Create(ctx, &dup); !storage.IsDuplicate(err) {
			t.Fatalf("second session with one hash: %v, want a duplicate error", err)
		}
	})
}

// The conditional UPDATE alone, without the row lock Tokens.Refresh also
// takes, lets exactly one of many concurrent rotations through.
func TestMarkRotatedHasOneWinner(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		store := rbac.NewGormSessionStore(db)
		now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
		s := rbac.RefreshSession{TokenHash: "ab12", Family: "fam", Principal: cashier, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := store.Create(ctx, &s); err != nil {
			t.Fatal(err)
		}
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			wins  atomic.Int32
		)
		for range 16 {
			wg.Go(func() {
				<-start
				ok, err := store.MarkRotated(ctx, s.ID, now)
				if err != nil {
					t.Errorf("MarkRotated: %v", err)
				}
				if ok {
					wins.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		if n := wins.Load(); n != 1 {
			t.Fatalf("%d concurrent rotations succeeded, want 1", n)
		}
		// A revoked session cannot be rotated either.
		s2 := rbac.RefreshSession{TokenHash: "cd34", Family: "fam2", Principal: cashier, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := store.Create(ctx, &s2); err != nil {
			t.Fatal(err)
		}
		if err := store.RevokeFamily(ctx, "fam2", now); err != nil {
			t.Fatal(err)
		}
		if ok, err := store.MarkRotated(ctx, s2.ID, now); ok || err != nil {
			t.Fatalf("MarkRotated of a revoked session = %v, %v; want false", ok, err)
		}
	})
}
