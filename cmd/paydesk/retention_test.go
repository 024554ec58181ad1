package main

import (
	"context"
	"testing"
	"time"

	"github.com/paydesk/paydesk/push"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// TestServerPurgesOldEvents: the server's housekeeping deletes the push
// events older than PAYDESK_EVENT_RETENTION and keeps the newer ones.
func TestServerPurgesOldEvents(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			cfg := testConfig(storagetest.DSN(t, d))
			cfg.EventRetention = "48h"
			m := NewMain(cfg, &syncBuffer{})
			m.SweepInterval = 20 * time.Millisecond
			startMain(t, m)

			ctx := context.Background()
			emitAt := func(at time.Time) {
				t.Helper()
				ob := push.NewOutbox(m.DB, func() time.Time { return at })
				if _, err := ob.Emit(ctx, push.Event{MerchantID: 1, Type: push.PaymentPaid, WalletID: 1}); err != nil {
					t.Fatal(err)
				}
			}
			now := time.Now().UTC()
			emitAt(now.Add(-72 * time.Hour)) // seq 1: past the retention
			emitAt(now.Add(-24 * time.Hour)) // seq 2: within it
			emitAt(now)                      // seq 3
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				events, err := m.App.Outbox.MerchantEvents(ctx, 1, 0, 10)
				if err != nil {
					t.Fatal(err)
				}
				if len(events) == 2 && events[0].Seq == 2 && events[1].Seq == 3 {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("events left: %+v; want seq 2 and 3", events)
				}
			}
		})
	}
}
