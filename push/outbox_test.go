package push_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"gorm.io/gorm"

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

// bulkBatch is 40 events for merchants 3, 1 and 2, interleaved, a third of
// them of wallet 7 and a third of wallet 8, each with its index as order id.
func bulkBatch() []push.Event {
	var batch []push.Event
	for i := range 40 {
		e := push.Event{MerchantID: []int64{3, 1, 2, 1}[i%4], Type: push.PaymentPaid, OrderID: int64(100 + i),
			Data: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))}
		switch i % 3 {
		case 1:
			e.WalletID = 7
		case 2:
			e.WalletID = 8
		}
		batch = append(batch, e)
	}
	return batch
}

// emitInBulk emits events inside a transaction and a Bulk, flushes, checks
// what Emit and the flush did inside the transaction, and returns fail to
// roll back or not.
func emitInBulk(t *testing.T, db *storage.DB, ob *push.Outbox, events []push.Event, fail error) error {
	t.Helper()
	count := func(ctx context.Context) (n int64) {
		if err := db.Writer(ctx).Raw("SELECT COUNT(*) FROM events").Scan(&n).Error; err != nil {
			t.Error(err)
		}
		return n
	}
	return db.InTx(context.Background(), func(ctx context.Context) error {
		before := count(ctx)
		ctx, bulk := db.WithBulk(ctx)
		for _, e := range events {
			got, err := ob.Emit(ctx, e)
			if err != nil {
				return err
			}
			if got.ID != 0 || got.Seq != 0 || got.WalletSeq != 0 || got.CreatedAt.IsZero() || got.OrderID != e.OrderID {
				t.Errorf("Emit in a Bulk = %+v, want it unnumbered", got)
			}
		}
		if _, err := ob.Emit(ctx, push.Event{MerchantID: 1}); err == nil {
			t.Error("an invalid event was gathered")
		}
		if n := count(ctx); n != before {
			t.Errorf("%d events written before Flush", n-before)
		}
		if err := bulk.Flush(ctx); err != nil {
			return err
		}
		if n := count(ctx); n != before+int64(len(events)) {
			t.Errorf("%d events written by Flush, want %d", n-before, len(events))
		}
		return fail
	})
}

// TestEmitInBulk: events emitted inside a Bulk are numbered at Flush, in
// the order they were emitted, after the numbers given before, densely,
// in the transaction of the batch: a rollback writes nothing and gives the
// numbers back.
func TestEmitInBulk(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		ob := push.NewOutbox(db, nil)
		// Merchant 1 and wallet 7 have numbers already; the others not yet.
		emit(t, ob, push.Event{MerchantID: 1, Type: push.PaymentPaid, OrderID: 1, WalletID: 7})
		emit(t, ob, push.Event{MerchantID: 1, Type: push.PaymentPaid, OrderID: 2})
		batch := bulkBatch()

		boom := errors.New("boom")
		if err := emitInBulk(t, db, ob, batch, boom); !errors.Is(err, boom) {
			t.Fatal(err)
		}
		for _, c := range []struct {
			a    push.Audience
			want int64
		}{{push.Audience{MerchantID: 1}, 2}, {push.Audience{MerchantID: 3}, 0}, {push.Audience{WalletID: 7}, 1}, {push.Audience{WalletID: 8}, 0}} {
			if got, err := ob.LastSeq(ctx, c.a); err != nil || got != c.want {
				t.Fatalf("after a rolled-back batch, last seq of %+v = %d, %v; want %d", c.a, got, err, c.want)
			}
		}

		if err := emitInBulk(t, db, ob, batch, nil); err != nil {
			t.Fatal(err)
		}
		after := emit(t, ob, push.Event{MerchantID: 1, Type: push.PaymentClosed, OrderID: 999, WalletID: 8})

		// Each sequence: what came before, the batch's events in the order
		// they were emitted, what came after; 1..n.
		wantOrders := map[string][]int64{"merchant 1": {1, 2}, "wallet 7": {1}}
		for _, e := range batch {
			m, w := fmt.Sprintf("merchant %d", e.MerchantID), fmt.Sprintf("wallet %d", e.WalletID)
			wantOrders[m] = append(wantOrders[m], e.OrderID)
			if e.WalletID != 0 {
				wantOrders[w] = append(wantOrders[w], e.OrderID)
			}
		}
		wantOrders["merchant 1"] = append(wantOrders["merchant 1"], 999)
		wantOrders["wallet 8"] = append(wantOrders["wallet 8"], 999)
		if after.Seq != int64(len(wantOrders["merchant 1"])) || after.WalletSeq != int64(len(wantOrders["wallet 8"])) {
			t.Fatalf("the event after the batch = %+v", after)
		}
		check := func(what string, events []push.Event, err error, seq func(push.Event) int64) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			wantDense(t, what, events, seq, len(wantOrders[what]))
			var orders []int64
			for _, e := range events {
				orders = append(orders, e.OrderID)
				if e.OrderID >= 100 && e.OrderID < 999 {
					b := batch[e.OrderID-100]
					if e.ID == 0 || e.MerchantID != b.MerchantID || e.WalletID != b.WalletID || string(e.Data) != string(b.Data) || e.Type != b.Type {
						t.Errorf("%s: event %+v, emitted %+v", what, e, b)
					}
					if (e.WalletID == 0) != (e.WalletSeq == 0) {
						t.Errorf("%s: event %+v has wallet seq %d", what, e, e.WalletSeq)
					}
				}
			}
			if !slices.Equal(orders, wantOrders[what]) {
				t.Errorf("%s: orders %v, want %v", what, orders, wantOrders[what])
			}
		}
		for m := int64(1); m <= 3; m++ {
			events, err := ob.MerchantEvents(ctx, m, 0, 1000)
			check(fmt.Sprintf("merchant %d", m), events, err, func(e push.Event) int64 { return e.Seq })
		}
		for w := int64(7); w <= 8; w++ {
			events, err := ob.WalletEvents(ctx, w, 0, 0, 1000)
			check(fmt.Sprintf("wallet %d", w), events, err, func(e push.Event) int64 { return e.WalletSeq })
		}
	})
}

// TestBulkAndImmediateInterleave: batches gathered in Bulks, some rolled
// back, and events emitted one at a time, by two outboxes (two instances)
// at once, for the same merchants and wallets in varying order: every
// sequence ends up 1..n, without a hole or a repeat, and nothing deadlocks.
func TestBulkAndImmediateInterleave(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		obs := []*push.Outbox{push.NewOutbox(db, nil), push.NewOutbox(db, nil)}
		var (
			mu        sync.Mutex
			merchants = map[int64]int{}
			wallets   = map[int64]int{}
			wg        sync.WaitGroup
		)
		committed := func(events []push.Event) {
			mu.Lock()
			defer mu.Unlock()
			for _, e := range events {
				merchants[e.MerchantID]++
				if e.WalletID != 0 {
					wallets[e.WalletID]++
				}
			}
		}
		errs := make(chan error, 100)
		event := func(r *rand.Rand) push.Event {
			e := push.Event{MerchantID: 1 + r.Int64N(4), Type: push.PaymentPaid}
			if r.IntN(3) > 0 {
				e.WalletID = 10 + r.Int64N(3)
			}
			return e
		}
		for w := range 4 { // one at a time
			wg.Go(func() {
				r := rand.New(rand.NewPCG(uint64(w), 1))
				for range 15 {
					e := event(r)
					if _, err := obs[w%2].Emit(ctx, e); err != nil {
						errs <- err
						return
					}
					committed([]push.Event{e})
				}
			})
		}
		boom := errors.New("boom")
		for w := range 3 { // batches
			wg.Go(func() {
				r := rand.New(rand.NewPCG(uint64(w), 2))
				for i := range 8 {
					batch := make([]push.Event, 2+r.IntN(12))
					for j := range batch {
						batch[j] = event(r)
					}
					var fail error
					if i%3 == 2 {
						fail = boom
					}
					err := db.InTx(ctx, func(ctx context.Context) error {
						ctx, bulk := db.WithBulk(ctx)
						for j, e := range batch {
							if _, err := obs[(w+j)%2].Emit(ctx, e); err != nil {
								return err
							}
						}
						if err := bulk.Flush(ctx); err != nil {
							return err
						}
						return fail
					})
					if err != fail {
						errs <- err
						return
					}
					if fail == nil {
						committed(batch)
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		for m, n := range merchants {
			events, err := obs[0].MerchantEvents(ctx, m, 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			wantDense(t, fmt.Sprintf("merchant %d", m), events, func(e push.Event) int64 { return e.Seq }, n)
		}
		for w, n := range wallets {
			events, err := obs[0].WalletEvents(ctx, w, 0, 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			wantDense(t, fmt.Sprintf("wallet %d", w), events, func(e push.Event) int64 { return e.WalletSeq }, n)
		}
	})
}

// countStatements counts the statements run through db's gorm from now on.
func countStatements(db *storage.DB) *atomic.Int64 {
	var n atomic.Int64
	count := func(*gorm.DB) { n.Add(1) }
	db.WritePools(func(pool *gorm.DB) {
		cb := pool.Callback()
		for i, p := range []interface {
			Register(string, func(*gorm.DB)) error
		}{cb.Create(), cb.Query(), cb.Update(), cb.Delete(), cb.Row(), cb.Raw()} {
			if err := p.Register(fmt.Sprintf("test:count%d", i), count); err != nil {
				panic(err)
			}
		}
	})
	return &n
}

// TestBulkStatements: a batch's events cost two round trips for their
// numbers (SQLite: an upsert ... RETURNING per sequence table; MySQL: both
// upserts in one multi-statement, then one read) and the inserts, however
// many events, merchants and wallets; one at a time, an event costs as
// many per event. Both run in the ledger poster's kind of transaction
// (InBatchTx), the only one whose MySQL connections take multi-statements.
func TestBulkStatements(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		ob := push.NewOutbox(db, nil)
		statements := countStatements(db)
		const numbering = 2
		batch := bulkBatch()
		for round := range 2 { // sequences new, then existing
			var atFlush int64
			err := db.InBatchTx(ctx, func(ctx context.Context) error {
				ctx, bulk := db.WithBulk(ctx)
				for _, e := range batch {
					if _, err := ob.Emit(ctx, e); err != nil {
						return err
					}
				}
				statements.Store(0)
				err := bulk.Flush(ctx)
				atFlush = statements.Load()
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			// The events go in one insert on MySQL; on SQLite in chunks of
			// cacheable sizes (storage.DB.Chunks: 40 = 32 + 8).
			if want := numbering + int64(len(db.Chunks(len(batch)))); atFlush != want {
				t.Errorf("round %d: a batch of %d events cost %d statements, want %d", round, len(batch), atFlush, want)
			}
		}
		var atOnce int64
		err := db.InBatchTx(ctx, func(ctx context.Context) error {
			statements.Store(0)
			for _, e := range batch {
				if _, err := ob.Emit(ctx, e); err != nil {
					return err
				}
			}
			atOnce = statements.Load()
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var want int64
		for _, e := range batch {
			switch {
			case db.Dialect == storage.MySQL:
				want += 3 // the upserts, the read, the insert
			case e.WalletID != 0:
				want += 3 // two upserts, the insert
			default:
				want += 2
			}
		}
		if atOnce != want {
			t.Errorf("%d events one at a time cost %d statements, want %d", len(batch), atOnce, want)
		}
		t.Logf("%s: %d events (3 merchants, 2 wallets): %d statements one at a time, %d gathered", db.Dialect, len(batch), atOnce, numbering+int64(len(db.Chunks(len(batch)))))
	})
}
