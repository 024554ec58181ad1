package wallet_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
	"github.com/paydesk/paydesk/wallet"
)

func (f *fixture) dynamicPassword(t *testing.T, id wallet.WalletID) wallet.DynamicPassword {
	t.Helper()
	dp, err := f.svc.DynamicPassword(context.Background(), id)
	if err != nil || len(dp.Password) != 6 {
		t.Fatalf("dynamic password = %+v, %v", dp, err)
	}
	return dp
}

func TestDynamicPasswordPaysOnceWithinItsTime(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		a := f.register(t, "13800138000")
		b := f.register(t, "13900139000")

		dp := f.dynamicPassword(t, a)
		if !dp.ExpiresAt.Equal(start.Add(60 * time.Second)) {
			t.Fatalf("expires at %v, want %v", dp.ExpiresAt, start.Add(60*time.Second))
		}
		if got, err := f.svc.VerifyDynamicPassword(ctx, "+86 138 0013 8000", dp.Password, testMerchant); err != nil || got != a {
			t.Fatalf("verify = %d, %v; want wallet %d", got, err, a)
		}
		_, err := f.svc.VerifyDynamicPassword(ctx, "13800138000", dp.Password, testMerchant)
		wantCode(t, "the same password again", err, "DYNAMIC_PASSWORD_USED")

		// A password is good in its own 30-second step and the next.
		f.advance(30 * time.Second)
		dp2 := f.dynamicPassword(t, a)
		f.advance(30 * time.Second)
		if got, err := f.svc.VerifyDynamicPassword(ctx, "13800138000", dp2.Password, testMerchant); err != nil || got != a {
			t.Fatalf("a 30-second-old password: %d, %v", got, err)
		}
		dpb := f.dynamicPassword(t, b)
		f.advance(60 * time.Second)
		_, err = f.svc.VerifyDynamicPassword(ctx, "13900139000", dpb.Password, testMerchant)
		wantCode(t, "a 60-second-old password", err, "DYNAMIC_PASSWORD_WRONG")

		// One wallet's password does not pay from another's phone.
		dpa := f.dynamicPassword(t, a)
		if dpb2 := f.dynamicPassword(t, b); dpb2.Password != dpa.Password {
			_, err = f.svc.VerifyDynamicPassword(ctx, "13900139000", dpa.Password, testMerchant)
			wantCode(t, "a's password for b's phone", err, "DYNAMIC_PASSWORD_WRONG")
		}
		_, err = f.svc.VerifyDynamicPassword(ctx, "13700137000", dpa.Password, testMerchant)
		wantCode(t, "a phone without a wallet", err, "DYNAMIC_PASSWORD_WRONG")
		_, err = f.svc.VerifyDynamicPassword(ctx, "13800138000", "12ab56", testMerchant)
		wantCode(t, "not digits", err, "DYNAMIC_PASSWORD_WRONG")
	})
}

// SPEC §2: 5 wrong tries for one phone in 15 minutes lock the phone out of
// dynamic-password payments for 15 minutes, across restarts and instances.
func TestDynamicPasswordLockOut(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		a := f.register(t, "13800138000")
		wrong := func() string {
			if f.dynamicPassword(t, a).Password == "000000" {
				return "111111"
			}
			return "000000"
		}
		for i := 1; i <= 4; i++ {
			_, err := f.svc.VerifyDynamicPassword(ctx, "13800138000", wrong(), testMerchant)
			wantCode(t, "wrong password", err, "DYNAMIC_PASSWORD_WRONG")
			f.advance(3 * time.Minute) // 4 failures over 12 minutes: still within the window
		}
		_, err := f.svc.VerifyDynamicPassword(ctx, "13800138000", wrong(), testMerchant)
		var pe *paydesk.Error
		if !errors.As(err, &pe) || pe.Code != "TOO_MANY_ATTEMPTS" || pe.RetryAfter != 900 {
			t.Fatalf("5th wrong password: %v, want TOO_MANY_ATTEMPTS for 900 s", err)
		}
		_, err = f.svc.VerifyDynamicPassword(ctx, "13800138000", f.dynamicPassword(t, a).Password, testMerchant)
		wantCode(t, "the right password while locked", err, "TOO_MANY_ATTEMPTS")

		// A restarted (or another) instance sees the same lock.
		f.svc = f.newService(t)
		f.advance(14 * time.Minute)
		_, err = f.svc.VerifyDynamicPassword(ctx, "13800138000", f.dynamicPassword(t, a).Password, testMerchant)
		if !errors.As(err, &pe) || pe.Code != "TOO_MANY_ATTEMPTS" || pe.RetryAfter != 60 {
			t.Fatalf("after 14 minutes: %v, want TOO_MANY_ATTEMPTS for 60 s more", err)
		}
		// Other phones are not affected.
		b := f.register(t, "13900139000")
		if got, err := f.svc.VerifyDynamicPassword(ctx, "13900139000", f.dynamicPassword(t, b).Password, testMerchant); err != nil || got != b {
			t.Fatalf("another phone: %d, %v", got, err)
		}
		f.advance(time.Minute)
		if got, err := f.svc.VerifyDynamicPassword(ctx, "13800138000", f.dynamicPassword(t, a).Password, testMerchant); err != nil || got != a {
			t.Fatalf("after the lock-out: %d, %v", got, err)
		}
	})
}

// TestDynamicPasswordGuessesAtManyMerchants: wrong passwords at many
// merchants put the phone under guard — every merchant is then locked out
// after one failure — but a merchant typing the right password pays.
func TestDynamicPasswordGuessesAtManyMerchants(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		a := f.register(t, "13800138000")
		// wrong(i) is never a password good now: this step's or the last's.
		f.advance(-wallet.DynamicPasswordStep)
		last := f.dynamicPassword(t, a).Password
		f.advance(wallet.DynamicPasswordStep)
		now := f.dynamicPassword(t, a).Password
		wrong := func(i int) string {
			for {
				if w := fmt.Sprintf("%06d", i); w != last && w != now {
					return w
				}
				i += 1000
			}
		}
		for m := int64(100); m < 104; m++ { // 4 merchants, 5 failures each: the ceiling of 20
			for i := range 5 {
				_, err := f.svc.VerifyDynamicPassword(ctx, "13800138000", wrong(i), m)
				if i < 4 {
					wantCode(t, "a wrong password", err, "DYNAMIC_PASSWORD_WRONG")
				} else {
					wantCode(t, "the 5th wrong password at one merchant", err, "TOO_MANY_ATTEMPTS")
				}
			}
		}
		_, err := f.svc.VerifyDynamicPassword(ctx, "13800138000", wrong(999), 200)
		wantCode(t, "the first wrong password at a fresh merchant of a guarded phone", err, "TOO_MANY_ATTEMPTS")
		if got, err := f.svc.VerifyDynamicPassword(ctx, "13800138000", f.dynamicPassword(t, a).Password, 201); err != nil || got != a {
			t.Fatalf("the right password at another merchant: %d, %v", got, err)
		}
	})
}
