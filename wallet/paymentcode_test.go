package wallet_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
	"github.com/paydesk/paydesk/wallet"
)

// The derivation is frozen: phones derive codes offline with their own copy
// of it, so a change here would break every installed app.
func TestGeneratePaymentCodeKnownAnswers(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	for _, tt := range []struct {
		unix int64
		want string
	}{
		{1_800_000_000, "761234567873774910"},
		{1_800_000_009, "761234567873774910"}, // same 10-second step
		{1_800_000_010, "761234567879899112"},
	} {
		got, err := wallet.GeneratePaymentCode(secret, "12345678", time.Unix(tt.unix, 0))
		if err != nil || got != tt.want {
			t.Errorf("code at %d = %q, %v; want %s", tt.unix, got, err, tt.want)
		}
	}
	if _, err := wallet.GeneratePaymentCode(secret, "1234567", time.Now()); err == nil {
		t.Error("a 7-digit code id made a code")
	}
	if _, err := wallet.GeneratePaymentCode(nil, "12345678", time.Now()); err == nil {
		t.Error("an empty secret made a code")
	}
}

func (f *fixture) key(t *testing.T, id wallet.WalletID) wallet.PaymentCodeKey {
	t.Helper()
	k, err := f.svc.ProvisionPaymentCodes(context.Background(), id)
	if err != nil || len(k.CodeID) != 8 || len(k.Secret) != 32 || k.Step != 10*time.Second {
		t.Fatalf("provision = %+v, %v", k, err)
	}
	return k
}

func code(t *testing.T, k wallet.PaymentCodeKey, at time.Time) string {
	t.Helper()
	c, err := wallet.GeneratePaymentCode(k.Secret, k.CodeID, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPaymentCodes(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		a := f.register(t, "13800138000")
		b := f.register(t, "13900139000")
		ka, kb := f.key(t, a), f.key(t, b)
		consume := func(what, c string, want wallet.WalletID, code string) {
			t.Helper()
			got, err := f.svc.ConsumePaymentCode(ctx, c)
			if code != "" {
				wantCode(t, what, err, code)
				return
			}
			if err != nil || got != want {
				t.Fatalf("%s: consume = %d, %v; want wallet %d", what, got, err, want)
			}
		}

		c1 := code(t, ka, f.clock())
		if !strings.HasPrefix(c1, "76") || len(c1) != 18 {
			t.Fatalf("code %q is not 18 digits starting 76", c1)
		}
		consume("fresh code", c1, a, "")
		consume("replayed code", c1, 0, "PAYMENT_CODE_USED")

		f.advance(10 * time.Second)
		c2 := code(t, ka, f.clock())
		f.advance(59 * time.Second)
		consume("59 seconds old", c2, a, "")

		f.advance(time.Second)
		c3 := code(t, ka, f.clock())
		f.advance(61 * time.Second)
		consume("61 seconds old", c3, 0, "PAYMENT_CODE_EXPIRED")

		consume("a phone 10 s ahead", code(t, ka, f.clock().Add(10*time.Second)), a, "")
		consume("a phone 30 s ahead", code(t, ka, f.clock().Add(30*time.Second)), 0, "PAYMENT_CODE_INVALID")

		now := f.clock()
		wrongWallet, _ := wallet.GeneratePaymentCode(ka.Secret, kb.CodeID, now)
		consume("a's secret under b's code id", wrongWallet, 0, "PAYMENT_CODE_INVALID")
		consume("b's own code", code(t, kb, now), b, "")
		unknownID := "99999999"
		if unknownID == ka.CodeID || unknownID == kb.CodeID {
			unknownID = "99999998"
		}
		unknown, _ := wallet.GeneratePaymentCode(ka.Secret, unknownID, now)
		consume("unknown code id", unknown, 0, "PAYMENT_CODE_INVALID")
		consume("an Alipay code", "281234567890123456", 0, "PAYMENT_CODE_INVALID")
		consume("17 digits", c1[:17], 0, "PAYMENT_CODE_INVALID")
		consume("letters", "76abcdefgh12345678", 0, "PAYMENT_CODE_INVALID")

		// Provisioning a new phone retires the old phone's secret. (The step
		// after this one was used by the phone running ahead.)
		f.advance(20 * time.Second)
		old := code(t, ka, f.clock())
		ka2 := f.key(t, a)
		if ka2.CodeID != ka.CodeID {
			t.Fatalf("code id changed from %s to %s", ka.CodeID, ka2.CodeID)
		}
		consume("old phone's code", old, 0, "PAYMENT_CODE_INVALID")
		consume("new phone's code", code(t, ka2, f.clock()), a, "")

		// An app that asks the server gets the same kind of code.
		f.advance(10 * time.Second)
		served, expires, err := f.svc.PaymentCode(ctx, b)
		// A code lives 60 s from the start of its 10-second step.
		if want := f.clock().Truncate(10 * time.Second).Add(60 * time.Second); err != nil || !expires.Equal(want) {
			t.Fatalf("served code = %q expiring %v, %v; want expiry %v", served, expires, err, want)
		}
		consume("served code", served, b, "")
	})
}

func TestPaymentCodeGuessesLockTheCodeID(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		a := f.register(t, "13800138000")
		k := f.key(t, a)
		guess := func(i int) string { return "76" + k.CodeID + strings.Repeat(string(rune('0'+i)), 8) }
		good := code(t, k, f.clock())
		for i := range 4 {
			if guess(i) == good {
				continue
			}
			_, err := f.svc.ConsumePaymentCode(ctx, guess(i))
			wantCode(t, "guess", err, "PAYMENT_CODE_INVALID")
		}
		_, err := f.svc.ConsumePaymentCode(ctx, guess(4))
		var pe *paydesk.Error
		if !errors.As(err, &pe) || pe.Code != "TOO_MANY_ATTEMPTS" || pe.RetryAfter != 900 {
			t.Fatalf("5th wrong code: %v, want TOO_MANY_ATTEMPTS for 900 s", err)
		}
		_, err = f.svc.ConsumePaymentCode(ctx, good)
		wantCode(t, "a right code while locked", err, "TOO_MANY_ATTEMPTS")
		f.advance(15 * time.Minute)
		if got, err := f.svc.ConsumePaymentCode(ctx, code(t, k, f.clock())); err != nil || got != a {
			t.Fatalf("after the lock-out: %d, %v", got, err)
		}
	})
}

// Ten cashiers scan the same code at the same moment: it pays once.
func TestPaymentCodeConsumedConcurrentlyPaysOnce(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		a := f.register(t, "13800138000")
		c := code(t, f.key(t, a), f.clock())
		var wg sync.WaitGroup
		var mu sync.Mutex
		codes := map[string]int{}
		for range 10 {
			wg.Go(func() {
				got, err := f.svc.ConsumePaymentCode(ctx, c)
				if err == nil && got != a {
					t.Errorf("consumed as wallet %d, want %d", got, a)
				}
				mu.Lock()
				codes[paydesk.ErrorCode(err)]++
				mu.Unlock()
			})
		}
		wg.Wait()
		// Every presentation claims an attempt of the code id before the
		// code is checked, so those that came while five were being checked
		// are TOO_MANY_ATTEMPTS (retry in 1 s), the rest PAYMENT_CODE_USED.
		if codes[""] != 1 || codes["PAYMENT_CODE_USED"]+codes["TOO_MANY_ATTEMPTS"] != 9 {
			t.Fatalf("outcomes = %v, want 1 success and 9 refusals", codes)
		}
	})
}

func TestPaymentCodeMustNotRunInsideATransaction(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db)
		a := f.register(t, "13800138000")
		c := code(t, f.key(t, a), f.clock())
		err := db.InTx(context.Background(), func(ctx context.Context) error {
			_, err := f.svc.ConsumePaymentCode(ctx, c)
			return err
		})
		wantCode(t, "inside a transaction", err, "INTERNAL")
		if got, err := f.svc.ConsumePaymentCode(context.Background(), c); err != nil || got != a {
			t.Fatalf("the code was spent by the refused call: %d, %v", got, err)
		}
	})
}

func FuzzParsePaymentCode(f *testing.F) {
	for _, s := range []string{"761234567873774910", "281234567890123456", "7612345678", "", "76123456787377491x", "７６1234567873774910"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pc, err := wallet.ParsePaymentCode(s)
		if err != nil {
			if paydesk.ErrorCode(err) != "PAYMENT_CODE_INVALID" {
				t.Fatalf("ParsePaymentCode(%q): error %v is not PAYMENT_CODE_INVALID", s, err)
			}
			return
		}
		if pc.String() != s || len(pc.CodeID) != 8 || len(pc.OneTime) != 8 || !strings.HasPrefix(s, wallet.PaymentCodePrefix) {
			t.Fatalf("ParsePaymentCode(%q) = %+v", s, pc)
		}
		if strings.Trim(s, "0123456789") != "" {
			t.Fatalf("accepted non-digits in %q", s)
		}
	})
}
