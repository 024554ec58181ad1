package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/storage/storagetest"
	"github.com/paydesk/paydesk/wallet"
)

// A data key other than the one the wallets' secrets were sealed with stops
// paydesk at start-up, naming PAYDESK_DATA_KEY and neither key nor secret,
// instead of serving and refusing every payment code. The right key starts.
func TestWrongDataKeyRefusesToStart(t *testing.T) {
	const (
		right = "ZGF0YSBrZXkgZm9yIHRlc3RzIG9ubHksIDMyIGJ5dGU=" // "data key for tests only, 32 byte"
		wrong = "YW5vdGhlciBkYXRhIGtleSwgdGVzdHMgb25seSwgMzI=" // "another data key, tests only, 32"
	)
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			cfg := testConfig(storagetest.DSN(t, d))
			cfg.DataKey = right
			// An empty database passes the check.
			m := NewMain(cfg, &syncBuffer{})
			if err := m.Run(ctx); err != nil {
				m.Close()
				t.Fatalf("run on an empty database: %v", err)
			}
			id, err := m.App.Wallets.Register(ctx, "13700000001", "wallet-pass-1")
			if err != nil {
				t.Fatal(err)
			}
			key, err := m.App.Wallets.ProvisionPaymentCodes(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			var sealed string
			if err := m.DB.SQL().QueryRow("SELECT code_secret FROM wallets WHERE id = ?", int64(id)).Scan(&sealed); err != nil {
				t.Fatal(err)
			}
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}

			cfg.DataKey = wrong
			logs := &syncBuffer{}
			bad := NewMain(cfg, logs)
			err = bad.Run(ctx)
			bad.Close()
			if err == nil || !strings.Contains(err.Error(), "PAYDESK_DATA_KEY") {
				t.Fatalf("run under the wrong data key: %v; want a refusal naming PAYDESK_DATA_KEY", err)
			}
			for _, secret := range []string{right, wrong, sealed, string(key.Secret)} {
				if strings.Contains(err.Error(), secret) || strings.Contains(logs.String(), secret) {
					t.Fatalf("the refusal or the logs show a key or a secret:\n%v\n%s", err, logs)
				}
			}

			cfg.DataKey = right
			again := NewMain(cfg, &syncBuffer{})
			startMain(t, again)
			code, err := wallet.GeneratePaymentCode(key.Secret, key.CodeID, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if got, err := again.App.Wallets.ConsumePaymentCode(ctx, code); err != nil || got != id {
				t.Fatalf("the right key after a refused start: %d, %v", got, err)
			}
		})
	}
}
