package settlement_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/settlement"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// TestReconcileListsEveryDifference compares the ledger with the bank's
// daily file: a clean day agrees; then the file loses a line, gains one
// paydesk never paid, and has an amount changed, and each is listed.
func TestReconcileListsEveryDifference(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		dir := t.TempDir()
		w := newWorld(t, db, func(s *setup) { s.bank.PayoutFileDir = dir })
		var batches []settlement.Batch
		for _, name := range []string{"A", "B", "C"} {
			s := w.openShop(t, name, 1, "6222020200112233")
			w.pay(t, s, w.customer(t, 50_000), "sale-"+name, 10_000)
			batches = append(batches, settlement.Batch{MerchantID: s.ID})
		}
		day := calendar.DayOf(w.clock.Now())
		w.clock.Set(calendar.End(day).Add(3 * time.Minute))
		w.tick(t)
		bankDay := w.clock.Now().UTC().Format(time.DateOnly)
		for i, b := range batches {
			bs, _, _ := w.svc.Batches(ctx, b.MerchantID, 0, 1)
			batches[i] = bs[0]
			if err := w.bank.Complete(bs[0].Reference, bank.PayoutPaid, ""); err != nil {
				t.Fatal(err)
			}
		}
		d, _ := settlement.ParseDay(bankDay)
		file := filepath.Join(dir, bank.PayoutFileName(bankDay))
		paid, err := bank.ReadPayoutFile(file)
		if err != nil || len(paid) != 3 {
			t.Fatalf("the bank's file: %v %v", paid, err)
		}
		r, err := w.svc.Reconcile(ctx, d, time.UTC, paid)
		if err != nil || !r.OK() || r.Matched != 3 || r.LedgerTotal != r.BankTotal {
			t.Fatalf("clean day: %+v %v", r, err)
		}

		// Now the file is wrong three ways.
		wrong := []bank.Payout{paid[1], paid[2], {Reference: "stl-999-1", BankReference: "P999", Amount: 5, Currency: "CNY"}}
		wrong[1].Amount++
		r, err = w.svc.Reconcile(ctx, d, time.UTC, wrong)
		if err != nil || r.OK() || r.Matched != 1 || len(r.Differences) != 3 {
			t.Fatalf("wrong file: %+v %v", r, err)
		}
		kinds := map[string]string{}
		for _, diff := range r.Differences {
			kinds[diff.Kind] = diff.Reference
		}
		if kinds[settlement.DiffMissing] != paid[0].Reference || kinds[settlement.DiffAmount] != paid[2].Reference || kinds[settlement.DiffExtra] != "stl-999-1" {
			t.Fatalf("differences %+v", r.Differences)
		}
		// Another day has nothing on either side.
		if r, err := w.svc.Reconcile(ctx, d.AddDays(-1), time.UTC, nil); err != nil || !r.OK() || r.Matched != 0 {
			t.Fatalf("empty day: %+v %v", r, err)
		}
		if _, err := bank.ReadPayoutFile(filepath.Join(dir, "nope.csv")); !os.IsNotExist(err) {
			t.Fatalf("missing file: %v", err)
		}
	})
}
