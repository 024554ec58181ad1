package wallet_test

import (
	"context"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
	"github.com/paydesk/paydesk/wallet"
)

// serviceWithKey is a service over f's database whose store seals under key.
func (f *fixture) serviceWithKey(t *testing.T, key []byte) (*wallet.Service, *wallet.GormStore) {
	t.Helper()
	store := wallet.NewGormStore(f.db, wallet.MustSealer(key))
	svc, err := wallet.New(context.Background(), wallet.Config{
		Store: store, Ledger: f.ledger, Bank: f.bank, Attempts: storage.NewAttempts(f.db, f.clock), Clock: f.clock,
		Passwords: paydesk.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1},
	})
	if err != nil {
		t.Fatalf("new wallet service: %v", err)
	}
	return svc, store
}

type storedSecrets struct{ code, totp string }

func (f *fixture) storedSecrets(t *testing.T, id wallet.WalletID) storedSecrets {
	t.Helper()
	var s storedSecrets
	if err := f.db.SQL().QueryRow("SELECT code_secret, totp_secret FROM wallets WHERE id = ?", int64(id)).Scan(&s.code, &s.totp); err != nil {
		t.Fatalf("read wallet %d's secrets: %v", id, err)
	}
	return s
}

func (f *fixture) setStoredSecrets(t *testing.T, id wallet.WalletID, s storedSecrets) {
	t.Helper()
	if _, err := f.db.SQL().Exec("UPDATE wallets SET code_secret = ?, totp_secret = ? WHERE id = ?", s.code, s.totp, int64(id)); err != nil {
		t.Fatalf("write wallet %d's secrets: %v", id, err)
	}
}

func (f *fixture) codeID(t *testing.T, id wallet.WalletID) string {
	t.Helper()
	var codeID string
	if err := f.db.SQL().QueryRow("SELECT code_id FROM wallets WHERE id = ?", int64(id)).Scan(&codeID); err != nil {
		t.Fatal(err)
	}
	return codeID
}

func isSealed(v string) bool { return strings.HasPrefix(v, "v1:") }

func dynamicPasswordOf(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	p, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSecretsAreSealedAtRest(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		id := f.register(t, "13800138000")
		got := f.storedSecrets(t, id)
		if !isSealed(got.code) || !isSealed(got.totp) {
			t.Fatalf("stored secrets %q, %q are not sealed", got.code, got.totp)
		}

		key, err := f.svc.ProvisionPaymentCodes(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		got = f.storedSecrets(t, id)
		if !isSealed(got.code) || strings.Contains(got.code, hex.EncodeToString(key.Secret)) {
			t.Fatalf("the provisioned secret is stored as %q", got.code)
		}
		// The sealed secrets read back: the provisioned one's codes pay and
		// the dynamic password verifies.
		code, err := wallet.GeneratePaymentCode(key.Secret, key.CodeID, f.clock())
		if err != nil {
			t.Fatal(err)
		}
		if use, err := f.svc.VerifyPaymentCode(ctx, code); err != nil || use.Wallet != id {
			t.Fatalf("verify the provisioned secret's code: %+v, %v", use, err)
		}
		dp := f.dynamicPassword(t, id)
		if got, err := f.svc.VerifyDynamicPassword(ctx, "13800138000", dp.Password, testMerchant); err != nil || got != id {
			t.Fatalf("verify dynamic password: %d, %v", got, err)
		}
		// Sealing again draws a new nonce: equal secrets do not look equal.
		other := f.register(t, "13900139000")
		if f.storedSecrets(t, other).totp == f.storedSecrets(t, id).totp {
			t.Fatal("two wallets store the same sealed TOTP secret")
		}
	})
}

func TestPlaintextSecretsStillWorkAndAreSealedAtStart(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		id := f.register(t, "13800138000")
		codeID := f.codeID(t, id)
		// A row as written before secrets were sealed.
		secret := []byte("0123456789abcdef0123456789abcdef")
		const totpSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
		f.setStoredSecrets(t, id, storedSecrets{code: hex.EncodeToString(secret), totp: totpSecret})

		code, err := wallet.GeneratePaymentCode(secret, codeID, f.clock())
		if err != nil {
			t.Fatal(err)
		}
		if got, err := f.svc.ConsumePaymentCode(ctx, code); err != nil || got != id {
			t.Fatalf("a plaintext row's payment code: %d, %v", got, err)
		}
		if got, err := f.svc.VerifyDynamicPassword(ctx, "13800138000", dynamicPasswordOf(t, totpSecret, f.clock()), testMerchant); err != nil || got != id {
			t.Fatalf("a plaintext row's dynamic password: %d, %v", got, err)
		}

		_, store := f.serviceWithKey(t, testDataKey)
		n, unreadable, err := store.SealPlaintextSecrets(ctx)
		if err != nil || n != 1 || len(unreadable) != 0 {
			t.Fatalf("seal plaintext secrets = %d, %v, %v; want 1 wallet", n, unreadable, err)
		}
		got := f.storedSecrets(t, id)
		if !isSealed(got.code) || !isSealed(got.totp) || strings.Contains(got.totp, totpSecret) {
			t.Fatalf("after the pass the row holds %q, %q", got.code, got.totp)
		}
		// The same secrets, sealed, still pay.
		f.advance(time.Minute)
		if code, err = wallet.GeneratePaymentCode(secret, codeID, f.clock()); err != nil {
			t.Fatal(err)
		}
		if got, err := f.svc.ConsumePaymentCode(ctx, code); err != nil || got != id {
			t.Fatalf("a sealed legacy secret's payment code: %d, %v", got, err)
		}
		if got, err := f.svc.VerifyDynamicPassword(ctx, "13800138000", dynamicPasswordOf(t, totpSecret, f.clock()), testMerchant); err != nil || got != id {
			t.Fatalf("a sealed legacy secret's dynamic password: %d, %v", got, err)
		}
		// Idempotent: a second pass finds nothing to do and changes nothing.
		if n, unreadable, err := store.SealPlaintextSecrets(ctx); err != nil || n != 0 || len(unreadable) != 0 {
			t.Fatalf("second pass = %d, %v, %v; want nothing", n, unreadable, err)
		}
		if again := f.storedSecrets(t, id); again != got {
			t.Fatalf("the second pass rewrote the row")
		}
	})
}

func TestSealPlaintextSecretsInBatches(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		svc, store := f.serviceWithKey(t, testDataKey)
		ws, err := svc.SeedLoadWallets(ctx, "177", 1203, "load-test-pass", 100)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL().Exec("UPDATE wallets SET code_secret = 'ab', totp_secret = 'JBSWY3DPEHPK3PXP'"); err != nil {
			t.Fatal(err)
		}
		n, unreadable, err := store.SealPlaintextSecrets(ctx)
		if err != nil || n != len(ws) || len(unreadable) != 0 {
			t.Fatalf("sealed %d (%v, %v), want %d", n, unreadable, err, len(ws))
		}
		var plain int
		if err := db.SQL().QueryRow("SELECT COUNT(*) FROM wallets WHERE code_secret NOT LIKE 'v1:%' OR totp_secret NOT LIKE 'v1:%'").Scan(&plain); err != nil || plain != 0 {
			t.Fatalf("%d rows left in plain form (%v)", plain, err)
		}
	})
}

func TestSecretCopiedToAnotherWalletDoesNotOpen(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		a := f.register(t, "13800138000")
		b := f.register(t, "13900139000")
		key, err := f.svc.ProvisionPaymentCodes(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		f.setStoredSecrets(t, b, f.storedSecrets(t, a))

		// a's secret under b's code id: refused as invalid, not a panic or a 500.
		code, err := wallet.GeneratePaymentCode(key.Secret, f.codeID(t, b), f.clock())
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.ConsumePaymentCode(ctx, code)
		wantCode(t, "a's secret copied onto b", err, "PAYMENT_CODE_INVALID")
		_, err = f.svc.VerifyDynamicPassword(ctx, "13900139000", f.dynamicPassword(t, a).Password, testMerchant)
		wantCode(t, "a's TOTP secret copied onto b", err, "DYNAMIC_PASSWORD_WRONG")
		if _, err := f.svc.DynamicPassword(ctx, b); err == nil {
			t.Fatal("b's dynamic password from a's copied secret")
		}
		// Swapping a's own two columns does not open either.
		s := f.storedSecrets(t, a)
		f.setStoredSecrets(t, a, storedSecrets{code: s.totp, totp: s.code})
		code, _ = wallet.GeneratePaymentCode(key.Secret, key.CodeID, f.clock())
		_, err = f.svc.ConsumePaymentCode(ctx, code)
		wantCode(t, "a's columns swapped", err, "PAYMENT_CODE_INVALID")
	})
}

func TestWrongDataKeyFailsClosed(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		id := f.register(t, "13800138000")
		key, err := f.svc.ProvisionPaymentCodes(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		wrong, store := f.serviceWithKey(t, []byte("another-data-key-of-32-bytes-!!!"))
		code, err := wallet.GeneratePaymentCode(key.Secret, key.CodeID, f.clock())
		if err != nil {
			t.Fatal(err)
		}
		_, err = wrong.ConsumePaymentCode(ctx, code)
		wantCode(t, "a code checked under the wrong key", err, "PAYMENT_CODE_INVALID")
		_, err = wrong.VerifyDynamicPassword(ctx, "13800138000", f.dynamicPassword(t, id).Password, testMerchant)
		wantCode(t, "a dynamic password under the wrong key", err, "DYNAMIC_PASSWORD_WRONG")
		if _, err := wrong.DynamicPassword(ctx, id); err == nil {
			t.Fatal("a dynamic password under the wrong key")
		}

		// A half-sealed row the wrong key cannot open is left alone and named.
		s := f.storedSecrets(t, id)
		f.setStoredSecrets(t, id, storedSecrets{code: s.code, totp: "JBSWY3DPEHPK3PXP"})
		n, unreadable, err := store.SealPlaintextSecrets(ctx)
		if err != nil || n != 0 || len(unreadable) != 1 || unreadable[0] != id {
			t.Fatalf("seal under the wrong key = %d, %v, %v; want wallet %d unreadable", n, unreadable, err, id)
		}
		if got := f.storedSecrets(t, id); got.code != s.code {
			t.Fatal("the pass changed a row it could not open")
		}
		// The right key still reads the row.
		if got, err := f.svc.ConsumePaymentCode(ctx, code); err != nil || got != id {
			t.Fatalf("the right key: %d, %v", got, err)
		}
	})
}

func TestNewSealerWantsA32ByteKey(t *testing.T) {
	for _, n := range []int{0, 16, 24, 31, 33} {
		if _, err := wallet.NewSealer(make([]byte, n)); err == nil {
			t.Errorf("NewSealer accepted a %d-byte key", n)
		}
	}
}
