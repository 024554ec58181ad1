package push

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// TestEmittedHook: the wake-up hook hears of an event written at once when
// Emit writes it, and of events gathered in a Bulk when the Bulk writes
// them, once per merchant.
func TestEmittedHook(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ob := NewOutbox(db, nil)
		var (
			mu   sync.Mutex
			told []int64
		)
		f := func(m int64) {
			mu.Lock()
			defer mu.Unlock()
			told = append(told, m)
		}
		ob.emitted.Store(&f)
		heard := func() []int64 {
			mu.Lock()
			defer mu.Unlock()
			out := told
			told = nil
			return out
		}
		ctx := context.Background()
		if _, err := ob.Emit(ctx, Event{MerchantID: 4, Type: PaymentPaid}); err != nil {
			t.Fatal(err)
		}
		if got := heard(); !slices.Equal(got, []int64{4}) {
			t.Fatalf("at once: told %v", got)
		}
		err := db.InTx(ctx, func(ctx context.Context) error {
			ctx, bulk := db.WithBulk(ctx)
			for _, m := range []int64{5, 4, 5, 6} {
				if _, err := ob.Emit(ctx, Event{MerchantID: m, Type: PaymentPaid, WalletID: 3}); err != nil {
					return err
				}
			}
			if got := heard(); len(got) != 0 {
				t.Errorf("told %v before Flush", got)
			}
			return bulk.Flush(ctx)
		})
		if err != nil {
			t.Fatal(err)
		}
		got := heard()
		slices.Sort(got)
		if !slices.Equal(got, []int64{4, 5, 6}) {
			t.Fatalf("in a Bulk: told %v, want 4, 5, 6 once each", got)
		}
	})
}
