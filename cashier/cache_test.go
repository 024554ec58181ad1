package cashier_test

import (
	"context"
	"testing"
	"time"

	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/rbac"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// With WithCache, ByID serves a staff row from memory, but a change made
// through the service is seen by the next ByID, a transaction reads the
// database, and a row changed behind the service's back is read again
// once the TTL has passed (or Forget is called).
func TestByIDCache(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db, cashier.WithCache(time.Second, 100))
		c := f.add(t, f.owner, rbac.Cashier, f.open.Store.ID, "13800000002")
		status := func(ctx context.Context) string {
			t.Helper()
			st, err := f.staff.ByID(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			return st.Status
		}
		status(ctx) // cached
		if _, err := f.staff.Disable(ctx, f.owner, c.ID); err != nil {
			t.Fatal(err)
		}
		if s := status(ctx); s != cashier.Disabled {
			t.Fatalf("after Disable: %s", s)
		}

		// Behind the service's back, as another instance would.
		if err := db.Writer(ctx).Exec("UPDATE staff SET status = ? WHERE id = ?", cashier.Active, c.ID).Error; err != nil {
			t.Fatal(err)
		}
		if s := status(ctx); s != cashier.Disabled {
			t.Fatalf("within the TTL: %s, want the cached disabled (is the row cached at all?)", s)
		}
		err := db.InTx(ctx, func(ctx context.Context) error {
			if s := status(ctx); s != cashier.Active {
				t.Errorf("inside a transaction: %s, want the row's active", s)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		f.staff.Forget(c.ID)
		if s := status(ctx); s != cashier.Active {
			t.Fatalf("after Forget: %s", s)
		}

		if err := db.Writer(ctx).Exec("UPDATE staff SET status = ? WHERE id = ?", cashier.Disabled, c.ID).Error; err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(time.Second)
		if s := status(ctx); s != cashier.Disabled {
			t.Fatalf("after the TTL: %s", s)
		}
	})
}

// A Disable inside a caller's transaction forgets the row when that
// transaction ends, not when Disable returns: a ByID in between (another
// request) must not cache the row as it was before the commit.
func TestByIDCacheForgetsAfterTheOuterTransaction(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db, cashier.WithCache(time.Hour, 100))
		c := f.add(t, f.owner, rbac.Cashier, f.open.Store.ID, "13800000002")
		err := db.InTx(ctx, func(txCtx context.Context) error {
			if _, err := f.staff.Disable(txCtx, f.owner, c.ID); err != nil {
				return err
			}
			// Another request, outside the transaction, reads the row as
			// committed (active) and caches it.
			if st, err := f.staff.ByID(ctx, c.ID); err != nil || st.Status != cashier.Active {
				t.Errorf("before the commit: %+v, %v", st, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if st, err := f.staff.ByID(ctx, c.ID); err != nil || st.Status != cashier.Disabled {
			t.Fatalf("after the commit: %+v, %v; want disabled", st, err)
		}
	})
}
