package mobileapi

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/paydesk/paydesk/internal/testkit"
	"github.com/paydesk/paydesk/push"
	"github.com/paydesk/paydesk/storage"
)

// onDB serves the API on an existing database, as a second instance of the
// same deployment.
func onDB(db *storage.DB) apiOption { return func(o *apiOptions) { o.db = db } }

// withPush configures the API's push hub.
func withPush(cfg push.Config) apiOption { return func(o *apiOptions) { o.push = cfg } }

// lostWakeUps is a bus whose wake-ups never leave.
type lostWakeUps struct{ push.Bus }

func (lostWakeUps) Publish(context.Context) error { return nil }

// TestWSTwoInstances runs two servers on one MySQL database and one Redis:
// the cashier's socket is on A, the QR is opened and paid through B. The
// event reaches the socket once, at once: A polls only hourly, so the
// wake-up through Redis did it. Then B's wake-ups are lost, A polls every
// 200 ms, and the next payment arrives all the same.
func TestWSTwoInstances(t *testing.T) {
	rdb := testkit.Redis(t)
	d := storage.MySQL
	if os.Getenv("PAYDESK_TEST_MYSQL") == "skip" {
		d = storage.SQLite
	}
	for _, lost := range []bool{false, true} {
		name := "redis"
		if lost {
			name = "wake-ups lost"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ch := testkit.Unique("paydesk:test:")
			poll := time.Hour
			var bBus push.Bus = push.NewRedisBus(rdb, ch)
			if lost {
				poll, bBus = 200*time.Millisecond, lostWakeUps{bBus}
			}
			a := newTestAPI(t, d, withPush(push.Config{Bus: push.NewRedisBus(rdb, ch), PollInterval: poll}))
			b := newTestAPI(t, d, onDB(a.DB), withPush(push.Config{Bus: bBus, PollInterval: time.Hour}))
			w := a.newWorld(t)
			cashier := a.dialWS(t, w.Cashiers[0].Access, "", viaHeader)
			cashier.ready(t)

			for i := range 3 {
				start := time.Now()
				id := b.payQR(t, w.Cashiers[0], w.Customer, int64(100+i))
				m := cashier.next(t)
				if m.Type != "payment.paid" || m.OrderID != id || m.Seq != int64(i+1) {
					t.Fatalf("got %+v, want payment.paid of order %d as seq %d", m, id, i+1)
				}
				if took := time.Since(start); !lost && took > time.Second {
					t.Errorf("delivery took %v: Redis did not wake instance A", took)
				}
			}
			cashier.none(t) // once each
		})
	}
}
