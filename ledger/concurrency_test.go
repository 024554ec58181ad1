package ledger_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// 64 cashiers take 500 payments each into ONE merchant account, every payment
// paying a fee to the platform, every tenth one retried. At the end no
// transfer is lost or doubled and the whole book balances.
func TestHotAccountUnderConcurrency(t *testing.T) {
	const workers, perWorker = 64, 500
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		b := newBook(t, db)
		fees := b.account(t, "platform:fees", "platform_fee", false)
		customers := make([]ledger.Account, workers)
		for w := range customers {
			customers[w] = b.account(t, fmt.Sprintf("wallet:%d:cash", 100+w), "wallet_cash", false)
			if _, err := b.Post(ctx, move(fmt.Sprintf("fund-%d", w), b.world, customers[w], 1_000_000), nil); err != nil {
				t.Fatal(err)
			}
		}
		amount := func(w, i int) paydesk.Amount { return paydesk.Amount(100 + (w*perWorker+i)%900) }

		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := range perWorker {
					a := amount(w, i)
					tr := ledger.Transfer{Reference: fmt.Sprintf("pay-%d-%d", w, i), Kind: "payment", Postings: []ledger.Posting{
						{Source: customers[w].ID, Destination: b.merchant.ID, Amount: a},
						{Source: b.merchant.ID, Destination: fees.ID, Amount: 1},
					}}
					tries := 1
					if i%10 == 0 {
						tries = 2
					}
					for range tries {
						if _, err := b.Post(ctx, tr, nil); err != nil {
							t.Errorf("post %s: %v", tr.Reference, err)
							return
						}
					}
				}
			})
		}
		wg.Wait()

		var merchantWant paydesk.Amount
		for w := range workers {
			var spent paydesk.Amount
			for i := range perWorker {
				spent += amount(w, i)
			}
			merchantWant += spent - perWorker
			if got := b.balance(t, customers[w]); got != 1_000_000-spent {
				t.Errorf("customer %d balance = %d, want %d", w, got, 1_000_000-spent)
			}
		}
		if got := b.balance(t, b.merchant); got != merchantWant {
			t.Errorf("merchant balance = %d, want %d", got, merchantWant)
		}
		if got := b.balance(t, fees); got != workers*perWorker {
			t.Errorf("fee balance = %d, want %d", got, workers*perWorker)
		}
		r := b.mustBeSound(t)
		// Funding: 2 entries per customer; payments: 4 entries each.
		if want := int64(2*workers + 4*workers*perWorker); r.Entries != want {
			t.Errorf("%d entries, want %d: a transfer was lost or doubled", r.Entries, want)
		}
	})
}
