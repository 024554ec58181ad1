package webhook_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/paydesk/paydesk/push"
	"github.com/paydesk/paydesk/storage/storagetest"
	"github.com/paydesk/paydesk/webhook"
)

// BenchmarkDelivery measures webhook throughput: b.N events already in the
// outbox, one per order as a shop's payments are, copied into deliveries and sent, signed, to a
// local receiver that answers 204, by one dispatcher with its default
// workers. Reported as events/s.
//
//	go test ./webhook/ -run - -bench Delivery -benchtime 5000x
func BenchmarkDelivery(b *testing.B) {
	for _, d := range storagetest.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			e := newEnv(b, storagetest.Open(b, d))
			var got atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got.Add(1)
				w.WriteHeader(http.StatusNoContent)
			}))
			b.Cleanup(srv.Close)
			if _, err := e.svc.CreateEndpoint(context.Background(), ownerOf(7), webhook.NewEndpoint{URL: srv.URL}); err != nil {
				b.Fatal(err)
			}
			for i := range b.N {
				e.emit(b, 7, int64(i)+1, push.PaymentPaid)
			}
			disp := e.dispatcher(webhook.Config{})
			b.ResetTimer()
			for got.Load() < int64(b.N) {
				if _, err := disp.RunOnce(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
