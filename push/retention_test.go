package push_test

import (
	"context"
	"testing"
	"time"

	"github.com/paydesk/paydesk/internal/testkit"
	"github.com/paydesk/paydesk/push"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// TestPurge: Purge deletes the events older than its cutoff, in batches
// (merchant 2 has more than one batch of them), and nothing newer; the
// sequences go on where they were. A client resuming from a number whose
// events were purged is told to resync, whether some of the events after
// its number are left (merchant 1, the wallet) or none (merchant 2); one
// resuming from the last purged number or later gets the rest as usual.
func TestPurge(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		clock := testkit.NewClock(time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC))
		ob := push.NewOutbox(db, clock.Now)
		for range 3 {
			emit(t, ob, push.Event{MerchantID: 1, Type: push.PaymentPaid, WalletID: 7})
		}
		const many = 520
		err := db.InTx(ctx, func(ctx context.Context) error {
			for range many {
				if _, err := ob.Emit(ctx, push.Event{MerchantID: 2, Type: push.PaymentPaid}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(8 * 24 * time.Hour)
		for range 2 {
			emit(t, ob, push.Event{MerchantID: 1, Type: push.PaymentPaid, WalletID: 7})
		}

		n, err := ob.Purge(ctx, clock.Now().Add(-push.DefaultRetention))
		if err != nil || n != 3+many {
			t.Fatalf("Purge = %d, %v; want %d", n, err, 3+many)
		}
		if n, err := ob.Purge(ctx, clock.Now().Add(-push.DefaultRetention)); err != nil || n != 0 {
			t.Fatalf("Purge again = %d, %v; want 0", n, err)
		}
		left, err := ob.MerchantEvents(ctx, 1, 0, 10)
		if err != nil || len(left) != 2 || left[0].Seq != 4 || left[1].Seq != 5 {
			t.Fatalf("merchant 1 kept %+v, %v; want seq 4 and 5", left, err)
		}
		if left, err := ob.MerchantEvents(ctx, 2, 0, 10); err != nil || len(left) != 0 {
			t.Fatalf("merchant 2 kept %d events, %v", len(left), err)
		}
		if last, err := ob.LastSeq(ctx, push.Audience{WalletID: 7}); err != nil || last != 5 {
			t.Fatalf("wallet last seq = %d, %v; want 5", last, err)
		}

		h := startHub(t, ob, push.Config{})
		subscribe := func(a push.Audience, after int64) *push.Stream {
			t.Helper()
			s, err := h.Subscribe(ctx, a, after, true)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(s.Close)
			return s
		}
		owner2 := push.Audience{MerchantID: 2, StaffID: 2, Role: owner.Role}
		for _, tt := range []struct {
			name   string
			aud    push.Audience
			after  int64
			want   []int64 // seqs of the events, then the ready's
			resync bool
		}{
			{"merchant, some purged", owner, 1, []int64{5}, true},
			{"merchant, from the start", owner, 0, []int64{5}, true},
			{"merchant, from the last purged", owner, 3, []int64{4, 5, 5}, false},
			{"merchant, up to date", owner, 5, []int64{5}, false},
			{"merchant, all purged", owner2, 10, []int64{many}, true},
			{"wallet, some purged", push.Audience{WalletID: 7}, 2, []int64{5}, true},
			{"wallet, from the last purged", push.Audience{WalletID: 7}, 3, []int64{4, 5, 5}, false},
		} {
			got := receive(t, subscribe(tt.aud, tt.after), len(tt.want))
			last := got[len(got)-1]
			if !equal(seqs(got), tt.want) || last.Type != "ready" || last.Resync != tt.resync {
				t.Errorf("%s: got %+v, want seqs %v ending in ready with resync %v", tt.name, got, tt.want, tt.resync)
			}
		}

		// After the resync the stream is live, and numbering went on.
		s := subscribe(owner, 1)
		receive(t, s, 1)
		emit(t, ob, push.Event{MerchantID: 1, Type: push.PaymentPaid})
		if got := receive(t, s, 1); got[0].Seq != 6 || got[0].Type != "payment.paid" {
			t.Fatalf("live after resync = %+v, want seq 6", got)
		}
		quiet(t, s)
	})
}
