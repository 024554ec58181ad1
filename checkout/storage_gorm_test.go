package checkout_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/checkout"
	"github.com/paydesk/paydesk/internal/seal"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// A session's return secret is stored sealed and read back as the merchant
// was given it, twice-created sessions included; a sealed secret copied to
// another session does not open, and reading that session is UNAVAILABLE,
// never a session whose results could be signed with the wrong key.
func TestReturnSecretsAreSealed(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		store := checkout.NewGormStorage(db, seal.Must(make([]byte, seal.KeyLen)))
		now := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
		session := func(token, trade string) checkout.Session {
			return checkout.Session{Token: token, MerchantID: 1, OrderID: 1, OutTradeNo: trade, ReturnURL: "https://shop.example/back",
				ReturnSecret: "rsec_" + token, ExpiresAt: now.Add(time.Hour), CreatedAt: now}
		}
		a := session("token-a", "T-1")
		if created, err := store.CreateSession(ctx, &a); err != nil || !created {
			t.Fatalf("create = %v, %v", created, err)
		}
		var stored string
		if err := db.Writer(ctx).Raw("SELECT return_secret FROM checkout_sessions WHERE token = ?", "token-a").Scan(&stored).Error; err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(stored, seal.Prefix) || strings.Contains(stored, "rsec_") {
			t.Fatalf("stored return secret %q is not sealed", stored)
		}
		if got, err := store.SessionByToken(ctx, "token-a"); err != nil || got.ReturnSecret != "rsec_token-a" {
			t.Fatalf("read = %+v, %v", got, err)
		}
		again := session("token-a2", "T-1")
		if created, err := store.CreateSession(ctx, &again); err != nil || created || again.ReturnSecret != "rsec_token-a" {
			t.Fatalf("second create = %v, %+v, %v; want the first session", created, again, err)
		}

		b := session("token-b", "T-2")
		if _, err := store.CreateSession(ctx, &b); err != nil {
			t.Fatal(err)
		}
		if err := db.Writer(ctx).Exec("UPDATE checkout_sessions SET return_secret = ? WHERE token = ?", stored, "token-b").Error; err != nil {
			t.Fatal(err)
		}
		if _, err := store.SessionByToken(ctx, "token-b"); paydesk.ErrorCode(err) != "UNAVAILABLE" {
			t.Fatalf("session with a copied secret = %v, want UNAVAILABLE", err)
		}
	})
}
