package ledger_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// BenchmarkHotAccount posts transfers from many posters into ONE merchant
// account, the busiest case a payment backend has. "batched" is the real
// Ledger; "unbatched" caps batches at one transfer, which is the plain
// one-transaction-per-posting design, for comparison.
//
//	go test -run '^$' -bench HotAccount -benchtime 20000x ./ledger/
func BenchmarkHotAccount(b *testing.B) {
	for _, d := range storagetest.Dialects() {
		for _, mode := range []string{"batched", "unbatched"} {
			for _, posters := range []int{1, 8, 64} {
				b.Run(fmt.Sprintf("%s/%s/posters=%d", d, mode, posters), func(b *testing.B) {
					db := storagetest.Open(b, d)
					var opts []ledger.Option
					if mode == "unbatched" {
						opts = append(opts, ledger.WithMaxBatch(1))
					}
					l := ledger.New(ledger.NewGormStore(db), opts...)
					defer l.Close()
					ctx := context.Background()
					world, _ := l.CreateAccount(ctx, ledger.Account{Code: "bank:clearing", Type: "bank_clearing", Currency: "CNY", AllowNegative: true})
					merchant, _ := l.CreateAccount(ctx, ledger.Account{Code: "merchant:1:pending", Type: "merchant_pending", Currency: "CNY"})

					var next atomic.Int64
					var wg sync.WaitGroup
					b.ResetTimer()
					for range posters {
						wg.Go(func() {
							for {
								i := next.Add(1)
								if i > int64(b.N) {
									return
								}
								if _, err := l.Post(ctx, move(fmt.Sprintf("p-%d", i), world, merchant, 100), nil); err != nil {
									b.Error(err)
									return
								}
							}
						})
					}
					wg.Wait()
					b.StopTimer()
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "postings/s")
					if got, _ := l.Balance(ctx, merchant.ID); got != 100*ledgerAmount(b.N) {
						b.Fatalf("merchant balance %d after %d postings", got, b.N)
					}
				})
			}
		}
	}
}

func ledgerAmount(n int) paydesk.Amount { return paydesk.Amount(n) }
