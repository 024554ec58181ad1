package push_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/paydesk/paydesk/push"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// TestSequencesAreDense emits from many goroutines at once, for two
// merchants and a wallet shared between them, and checks that each
// sequence is 1..n without a hole or a repeat.
func TestSequencesAreDense(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ob := push.NewOutbox(db, nil)
		const workers, each = 8, 10
		var wg sync.WaitGroup
		errs := make(chan error, workers*each)
		for w := range workers {
			wg.Go(func() {
				for i := range each {
					e := push.Event{MerchantID: int64(1 + w%2), Type: push.PaymentPaid, OrderID: int64(w*100 + i)}
					if i%2 == 0 {
						e.WalletID = 7
					}
					if _, err := ob.Emit(context.Background(), e); err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		for m := int64(1); m <= 2; m++ {
			events, err := ob.MerchantEvents(context.Background(), m, 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			wantDense(t, fmt.Sprintf("merchant %d", m), events, func(e push.Event) int64 { return e.Seq }, workers*each/2)
		}
		events, err := ob.WalletEvents(context.Background(), 7, 0, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		wantDense(t, "wallet 7", events, func(e push.Event) int64 { return e.WalletSeq }, workers*each/2)
	})
}

func wantDense(t *testing.T, what string, events []push.Event, seq func(push.Event) int64, n int) {
	t.Helper()
	var got []int64
	for _, e := range events {
		got = append(got, seq(e))
	}
	want := make([]int64, n)
	for i := range want {
		want[i] = int64(i + 1)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%s: sequence %v, want 1..%d", what, got, n)
	}
}

// TestRollbackGivesTheNumberBack: an event exists only if its transaction
// commits, and a rolled-back number is taken by the next event.
func TestRollbackGivesTheNumberBack(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ob := push.NewOutbox(db, nil)
		ctx := context.Background()
		first, err := ob.Emit(ctx, push.Event{MerchantID: 3, Type: push.PaymentPaid, WalletID: 9})
		if err != nil || first.Seq != 1 || first.WalletSeq != 1 {
			t.Fatalf("first = %+v, %v", first, err)
		}
		boom := errors.New("boom")
		err = db.InTx(ctx, func(ctx context.Context) error {
			e, err := ob.Emit(ctx, push.Event{MerchantID: 3, Type: push.PaymentClosed, WalletID: 9})
			if err != nil || e.Seq != 2 {
				t.Errorf("in tx = %+v, %v", e, err)
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		next, err := ob.Emit(ctx, push.Event{MerchantID: 3, Type: push.SettlementUpdated, Data: json.RawMessage(`{"batch":1}`)})
		if err != nil || next.Seq != 2 || next.WalletSeq != 0 {
			t.Fatalf("after rollback = %+v, %v", next, err)
		}
		events, err := ob.MerchantEvents(ctx, 3, 0, 10)
		if err != nil || len(events) != 2 || events[1].Type != push.SettlementUpdated || string(events[1].Data) != `{"batch":1}` {
			t.Fatalf("events = %+v, %v", events, err)
		}
		if last, err := ob.LastSeq(ctx, push.Audience{WalletID: 9}); err != nil || last != 1 {
			t.Fatalf("wallet last seq = %d, %v; want 1", last, err)
		}
		for _, bad := range []push.Event{{Type: push.PaymentPaid}, {MerchantID: 3}, {MerchantID: 3, Type: "x", Data: json.RawMessage(`[1]`)}} {
			if _, err := ob.Emit(ctx, bad); err == nil {
				t.Errorf("Emit(%+v) succeeded", bad)
			}
		}
	})
}
