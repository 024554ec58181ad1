package settlement_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/internal/app/apptest"
	"github.com/paydesk/paydesk/settlement"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// TestSchedulerOnSeveralInstances runs three instances' schedulers at once
// over one database and one bank: every day is cut once, every batch is
// submitted once under one reference, every change is pushed once, and
// the bank's callbacks, delivered twice, settle each batch once.
func TestSchedulerOnSeveralInstances(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		w := newWorld(t, db, func(s *setup) { s.bank.DuplicateCallbacks = true })
		var shops []*shop
		for i := range 4 {
			s := w.openShop(t, fmt.Sprintf("Shop %d", i), 1, "6222020200112233")
			w.pay(t, s, w.customer(t, 50_000), "sale", paydesk.Amount(10_000+1_000*i))
			shops = append(shops, s)
		}
		day := calendar.DayOf(w.clock.Now())

		// Two more instances: their own ledger poster and services, the
		// same database and bank, the same event log.
		instances := []*settlement.Service{w.svc}
		for range 2 {
			a := apptest.Build(t, db, apptest.Settings(), w.clock.Now)
			instances = append(instances, settlement.New(settlement.Deps{DB: db, Ledger: a.Ledger, Merchants: a.Merchants, Bank: w.bank, Events: w.events, Clock: w.clock.Now},
				settlement.Config{CallbackSecret: []byte(callbackSecret)}))
		}
		w.clock.Set(calendar.End(day).Add(3 * time.Minute))
		var wg sync.WaitGroup
		for _, in := range instances {
			for range 2 {
				wg.Go(func() {
					if err := in.Tick(ctx); err != nil {
						t.Errorf("tick: %v", err)
					}
				})
			}
		}
		wg.Wait()

		for _, s := range shops {
			b := w.batchOf(t, s, day)
			if b.State != settlement.Submitted || b.Attempt != 1 {
				t.Fatalf("%s: %+v", s.Name, b)
			}
			if got := w.events.states(settlement.EventSettlementUpdated, b.ID); !slices.Equal(got, []string{"NOT_DUE", "AWAITING_PAYMENT", "SUBMITTED"}) {
				t.Errorf("%s: events %v", s.Name, got)
			}
			w.agree(t, s)
		}
		bs, _, _ := w.svc.Batches(ctx, shops[0].ID, 0, 10)
		if len(bs) != 1 {
			t.Fatalf("%d batches for one day", len(bs))
		}

		// The bank pays them all, each callback delivered twice, while the
		// instances keep ticking and asking.
		w.clock.Advance(w.svc.Config().QueryAfter)
		for _, s := range shops {
			b := w.batchOf(t, s, day)
			wg.Go(func() {
				if err := w.bank.Complete(b.Reference, bank.PayoutPaid, ""); err != nil {
					t.Errorf("complete %s: %v", b.Reference, err)
				}
			})
		}
		for _, in := range instances {
			wg.Go(func() {
				if err := in.Tick(ctx); err != nil {
					t.Errorf("tick: %v", err)
				}
			})
		}
		wg.Wait()
		for _, s := range shops {
			b := w.batchOf(t, s, day)
			if got := w.events.states(settlement.EventSettlementUpdated, b.ID); b.State != settlement.Paid || len(got) != 4 {
				t.Errorf("%s: %s, events %v", s.Name, b.State, got)
			}
			if bal := w.agree(t, s); bal.Book != 0 {
				t.Errorf("%s: %+v after the payout", s.Name, bal)
			}
		}
		if paid := w.bank.PaidPayouts(w.clock.Now().UTC().Format(time.DateOnly)); len(paid) != len(shops) {
			t.Fatalf("the bank paid %d payouts for %d batches", len(paid), len(shops))
		}
	})
}
