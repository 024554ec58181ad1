package wallet_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
	"github.com/paydesk/paydesk/wallet"
)

func TestRegisterOpensAWalletWithItsAccounts(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		id := f.register(t, "+86 138-0013-8000")
		v, err := f.svc.Wallet(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if v.Phone != "13800138000" || v.Cash != 0 || v.Coupons != 0 || v.Card != nil || v.NoPasswordLimit != 100000 || v.Currency != "CNY" {
			t.Fatalf("new wallet = %+v", v)
		}
		for _, code := range []string{wallet.CashAccountCode(id), wallet.CouponAccountCode(id)} {
			a, err := f.ledger.AccountByCode(ctx, code)
			if err != nil || a.AllowNegative {
				t.Fatalf("account %s = %+v, %v; want one that cannot go negative", code, a, err)
			}
		}
		for _, code := range []string{ledger.ClearingAccount, ledger.MarketingAccount} {
			if a, err := f.ledger.AccountByCode(ctx, code); err != nil || !a.AllowNegative {
				t.Fatalf("platform account %s = %+v, %v", code, a, err)
			}
		}
		// A second instance, on a ledger of its own, ensures the same
		// platform accounts without complaint.
		first, err := f.ledger.Platform(ctx, paydesk.DefaultCurrency)
		if err != nil {
			t.Fatal(err)
		}
		other := ledger.New(ledger.NewGormStore(db))
		defer other.Close()
		if again, err := other.Platform(ctx, paydesk.DefaultCurrency); err != nil || again != first {
			t.Fatalf("a second ledger's platform accounts = %+v, %v; want %+v", again, err, first)
		}
		f.newService(t)

		tests := []struct {
			name, phone, password, code string
		}{
			{"same phone, other spelling", "13800138000", "another pass", "PHONE_TAKEN"},
			{"letters in the phone", "1380013800x", "correct horse", "INVALID_PHONE"},
			{"short phone", "12345", "correct horse", "INVALID_PHONE"},
			{"short password", "13900139000", "short", "WEAK_PASSWORD"},
		}
		for _, tt := range tests {
			_, err := f.svc.Register(ctx, tt.phone, tt.password)
			wantCode(t, tt.name, err, tt.code)
		}
		if _, err := f.svc.Wallet(ctx, 999999); !errors.Is(err, wallet.ErrWalletNotFound) {
			t.Fatalf("unknown wallet: %v", err)
		}
	})
}

func TestAuthenticateLocksOutAfterFiveFailures(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		id := f.register(t, "13800138000")

		if got, err := f.svc.Authenticate(ctx, "+8613800138000", "correct horse", testIP); err != nil || got != id {
			t.Fatalf("login = %d, %v; want wallet %d", got, err, id)
		}
		_, err := f.svc.Authenticate(ctx, "13900000000", "correct horse", testIP)
		wantCode(t, "unknown phone", err, "INVALID_CREDENTIALS")
		_, err = f.svc.Authenticate(ctx, "not a phone", "correct horse", testIP)
		wantCode(t, "malformed phone", err, "INVALID_CREDENTIALS")

		for i := 1; i <= 4; i++ {
			_, err := f.svc.Authenticate(ctx, "13800138000", "wrong horse", testIP)
			wantCode(t, "wrong password", err, "INVALID_CREDENTIALS")
		}
		_, err = f.svc.Authenticate(ctx, "13800138000", "wrong horse", testIP)
		var pe *paydesk.Error
		if !errors.As(err, &pe) || pe.Code != "TOO_MANY_ATTEMPTS" || pe.RetryAfter != 900 {
			t.Fatalf("5th failure: %v, want TOO_MANY_ATTEMPTS with RetryAfter 900", err)
		}
		_, err = f.svc.Authenticate(ctx, "13800138000", "correct horse", testIP)
		wantCode(t, "right password while locked", err, "TOO_MANY_ATTEMPTS")

		f.advance(15 * time.Minute)
		if got, err := f.svc.Authenticate(ctx, "13800138000", "correct horse", testIP); err != nil || got != id {
			t.Fatalf("login after the lock-out = %d, %v", got, err)
		}
	})
}

func TestNoPasswordLimit(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		id := f.register(t, "13800138000")
		if l, err := f.svc.NoPasswordLimit(ctx, id); err != nil || l != wallet.DefaultNoPasswordLimit {
			t.Fatalf("limit = %d, %v", l, err)
		}
		if err := f.svc.SetNoPasswordLimit(ctx, id, 50000); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetNoPasswordLimit(ctx, id, 50000); err != nil {
			t.Fatalf("setting the same limit again: %v", err)
		}
		if l, _ := f.svc.NoPasswordLimit(ctx, id); l != 50000 {
			t.Fatalf("limit = %d, want 50000", l)
		}
		wantCode(t, "negative limit", f.svc.SetNoPasswordLimit(ctx, id, -1), "INVALID_AMOUNT")
		if err := f.svc.SetNoPasswordLimit(ctx, 424242, 1); !errors.Is(err, wallet.ErrWalletNotFound) {
			t.Fatalf("unknown wallet: %v", err)
		}
	})
}
