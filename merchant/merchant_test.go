package merchant_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/internal/testkit"
	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/merchant"
	"github.com/paydesk/paydesk/rbac"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

type fixture struct {
	svc   *merchant.Service
	ldg   *ledger.Ledger
	clock *testkit.Clock
	open  merchant.Opened
}

func newFixture(t *testing.T, db *storage.DB) *fixture {
	t.Helper()
	f := &fixture{clock: testkit.NewClock(time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC))}
	clock := f.clock.Now
	f.ldg = ledger.New(ledger.NewGormStore(db), ledger.WithClock(clock))
	t.Cleanup(f.ldg.Close)
	stores := merchant.NewGormStorage(db)
	staff := cashier.NewService(cashier.NewGormStorage(db), stores, storage.NewAttempts(db, clock), clock,
		cashier.WithPasswords(paydesk.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1})) // cheap hashing keeps tests fast
	f.svc = merchant.NewService(stores, f.ldg, staff, clock)
	var err error
	f.open, err = f.svc.CreateMerchant(context.Background(), merchant.NewMerchant{Name: "Lotus Tea", StoreName: "Nanjing Rd",
		OwnerName: "Ms Li", OwnerPhone: "13800000001", OwnerPassword: "owner-pass-1"})
	if err != nil {
		t.Fatalf("create merchant: %v", err)
	}
	return f
}

func TestCreateMerchantOpensAccountsStoreAndOwner(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db)
		m := f.open.Merchant
		if m.FeeRate != paydesk.DefaultFeeRate || m.SettlementDays != 1 || m.TimeZone != "Asia/Shanghai" || m.Currency != "CNY" {
			t.Errorf("defaults not applied: %+v", m)
		}
		got, err := f.svc.Merchant(context.Background(), m.ID)
		if err != nil || got.Accounts != m.Accounts || got.Accounts.Pending == 0 || got.Accounts.Marketing == 0 {
			t.Fatalf("merchant read back = %+v, %v", got, err)
		}
		acc, err := f.ldg.Account(context.Background(), m.Accounts.Pending)
		if err != nil || acc.AllowNegative || acc.Type != "merchant_pending" {
			t.Errorf("pending account = %+v, %v", acc, err)
		}
		if f.open.Owner.Role != rbac.Owner || f.open.Owner.StoreID != 0 || f.open.Store.QRToken == "" {
			t.Errorf("owner %+v store %+v", f.open.Owner, f.open.Store)
		}
		if _, err := f.svc.CreateMerchant(context.Background(), merchant.NewMerchant{Name: "Other", OwnerName: "x", OwnerPhone: "13800000001", OwnerPassword: "password-2"}); !errors.Is(err, cashier.ErrPhoneTaken) {
			t.Errorf("second merchant with a taken owner phone: %v", err)
		}
	})
}
