package pos_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paydesk/paydesk/pos"
	"github.com/paydesk/paydesk/storage/storagetest"
	"github.com/paydesk/paydesk/wallet"
)

// BenchmarkScanPayment takes scan-code payments from 64 concurrent cashiers
// into ONE merchant account, through pos.Service (no HTTP): the ceiling the
// API can reach.
//
//	go test -run '^$' -bench ScanPayment -benchtime 20000x ./pos/
func BenchmarkScanPayment(b *testing.B) {
	const cashiers, wallets = 64, 1000
	for _, d := range storagetest.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			ctx := context.Background()
			s := newShop(b, storagetest.Open(b, d))
			keys := make([]wallet.PaymentCodeKey, wallets)
			for i := range keys {
				w := s.customer(b, fmt.Sprintf("139%08d", i), 10_000_000)
				k, err := s.wallets.ProvisionPaymentCodes(ctx, w)
				if err != nil {
					b.Fatal(err)
				}
				keys[i] = k
			}
			start := s.clock()
			// Payment i uses wallet i%wallets in 10-second step i/wallets:
			// each (wallet, step) pays once, as a real phone's code does.
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for c := range cashiers {
				wg.Go(func() {
					for {
						i := int(next.Add(1)) - 1
						if i >= b.N {
							return
						}
						at := start.Add(time.Duration(i/wallets) * 10 * time.Second)
						s.clk.AdvanceTo(at)
						code, err := wallet.GeneratePaymentCode(keys[i%wallets].Secret, keys[i%wallets].CodeID, at)
						if err != nil {
							b.Error(err)
							return
						}
						o, err := s.pos.TakeScanPayment(ctx, s.cashier, pos.ScanPayment{OutTradeNo: fmt.Sprintf("B-%d-%d", c, i), Amount: 1000, PaymentCode: code})
						if err != nil || o.State != pos.Paid {
							b.Errorf("payment %d: %+v %v", i, o.State, err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "payments/s")
		})
	}
}
