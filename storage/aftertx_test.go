package storage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// AfterTx runs its hook when the outermost transaction has ended, not
// when a nested one returns, and by then a reader on another connection
// sees the committed row; after a rollback it runs all the same; outside
// a transaction it runs at once.
func TestAfterTx(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		at := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
		seen := func() bool {
			_, found, err := storage.QueryOne(ctx, db, scanAttempt, selectAttempts+" WHERE attempt_key = ?", "after-tx")
			if err != nil {
				t.Fatal(err)
			}
			return found
		}
		ran, sawRow := 0, false
		err := db.InTx(ctx, func(ctx context.Context) error {
			insertAttempt(t, ctx, db, attempt{Key: "after-tx", WindowStart: at})
			return db.InTx(ctx, func(ctx context.Context) error { // joins the outer one
				storage.AfterTx(ctx, func() { ran++; sawRow = seen() })
				return nil
			})
		})
		if err != nil || ran != 1 || !sawRow {
			t.Fatalf("after commit: err %v, ran %d times, saw the row %v; want once, seeing it", err, ran, sawRow)
		}

		ran = 0
		boom := errors.New("boom")
		err = db.InTx(ctx, func(ctx context.Context) error {
			storage.AfterTx(ctx, func() { ran++ })
			if ran != 0 {
				t.Error("the hook ran inside the transaction")
			}
			return boom
		})
		if !errors.Is(err, boom) || ran != 1 {
			t.Fatalf("after rollback: err %v, ran %d times; want boom, once", err, ran)
		}

		ran = 0
		storage.AfterTx(ctx, func() { ran++ })
		if ran != 1 {
			t.Fatalf("outside a transaction: ran %d times, want at once", ran)
		}
	})
}
