package webhook_test

import (
	"context"
	"strings"
	"testing"

	"github.com/paydesk/paydesk/push"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
	"github.com/paydesk/paydesk/webhook"
)

// storedSecret is the secret column of an endpoint as the database holds it.
func storedSecret(t *testing.T, db *storage.DB, id int64) string {
	t.Helper()
	var s []string
	if err := db.Writer(context.Background()).Raw("SELECT secret FROM webhook_endpoints WHERE id = ?", id).Scan(&s).Error; err != nil || len(s) != 1 {
		t.Fatalf("read stored secret: %v %v", s, err)
	}
	return s[0]
}

// An endpoint's signing secret is stored sealed, not as the owner was shown
// it, and deliveries are still signed with it; a secret from before
// secrets were sealed is read as it is and sealed at start-up; a sealed
// secret copied onto another merchant's endpoint does not open, and that
// endpoint's deliveries fail rather than go out signed with an empty key.
func TestEndpointSecretsAreSealed(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		rcv, ep := e.serve(t, 7, nil)
		stored := storedSecret(t, db, ep.ID)
		if !strings.HasPrefix(stored, "v1:") || strings.Contains(stored, strings.TrimPrefix(ep.Secret, "whsec_")) {
			t.Fatalf("stored secret %q is not sealed", stored)
		}
		d := e.dispatcher(webhook.Config{})
		e.emit(t, 7, 1, push.PaymentPaid)
		if res := run(t, d); res.Delivered != 1 || len(rcv.received()) != 1 {
			t.Fatalf("sealed endpoint: %+v", res)
		}

		// An older version's row: the plain secret.
		if err := db.Writer(context.Background()).Exec("UPDATE webhook_endpoints SET secret = ? WHERE id = ?", ep.Secret, ep.ID).Error; err != nil {
			t.Fatal(err)
		}
		e.emit(t, 7, 2, push.PaymentPaid)
		if res := run(t, d); res.Delivered != 1 {
			t.Fatalf("plain endpoint: %+v", res)
		}
		sealed, unreadable, err := e.store.SealPlaintextSecrets(ctx)
		if err != nil || sealed != 1 || len(unreadable) != 0 {
			t.Fatalf("seal = %d, %v, %v; want the one plain row sealed", sealed, unreadable, err)
		}
		if again, _, _ := e.store.SealPlaintextSecrets(ctx); again != 0 {
			t.Fatalf("sealed %d rows twice", again)
		}
		if s := storedSecret(t, db, ep.ID); !strings.HasPrefix(s, "v1:") {
			t.Fatalf("after start-up the secret is %q", s)
		}
		e.emit(t, 7, 3, push.PaymentPaid)
		if res := run(t, d); res.Delivered != 1 || len(rcv.received()) != 3 {
			t.Fatalf("resealed endpoint: %+v", res)
		}

		// Merchant 8's endpoint given merchant 7's sealed secret.
		_, other := e.serve(t, 8, nil)
		if err := db.Writer(context.Background()).Exec("UPDATE webhook_endpoints SET secret = ? WHERE id = ?", storedSecret(t, db, ep.ID), other.ID).Error; err != nil {
			t.Fatal(err)
		}
		if _, unreadable, _ := e.store.SealPlaintextSecrets(ctx); len(unreadable) != 1 || unreadable[0] != other.ID {
			t.Fatalf("unreadable = %v, want endpoint %d", unreadable, other.ID)
		}
		e.emit(t, 8, 4, push.PaymentPaid)
		if res := run(t, d); res.Delivered != 0 || res.Failed != 1 {
			t.Fatalf("endpoint with a copied secret: %+v, want its delivery failed", res)
		}
	})
}
