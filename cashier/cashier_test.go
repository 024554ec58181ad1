package cashier_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
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
	staff     *cashier.Service
	merchants *merchant.Service
	ldg       *ledger.Ledger
	clock     *testkit.Clock
	open      merchant.Opened
	owner     cashier.Actor
}

func newFixture(t *testing.T, db *storage.DB, opts ...cashier.Option) *fixture {
	t.Helper()
	f := &fixture{clock: testkit.NewClock(time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC))}
	clock := f.clock.Now
	f.ldg = ledger.New(ledger.NewGormStore(db), ledger.WithClock(clock))
	t.Cleanup(f.ldg.Close)
	stores := merchant.NewGormStorage(db)
	opts = append(opts, cashier.WithPasswords(paydesk.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1})) // cheap hashing keeps tests fast
	f.staff = cashier.NewService(cashier.NewGormStorage(db), stores, storage.NewAttempts(db, clock), clock, opts...)
	f.merchants = merchant.NewService(stores, f.ldg, f.staff, clock)
	var err error
	f.open, err = f.merchants.CreateMerchant(context.Background(), merchant.NewMerchant{Name: "Lotus Tea", StoreName: "Nanjing Rd",
		OwnerName: "Ms Li", OwnerPhone: "13800000001", OwnerPassword: "owner-pass-1"})
	if err != nil {
		t.Fatalf("create merchant: %v", err)
	}
	f.owner = cashier.Actor{StaffID: f.open.Owner.ID, MerchantID: f.open.Merchant.ID, Role: rbac.Owner, IP: "10.1.1.1"}
	return f
}

func (f *fixture) add(t *testing.T, actor cashier.Actor, role rbac.Role, storeID int64, phone string) cashier.Staff {
	t.Helper()
	st, err := f.staff.Add(context.Background(), actor, cashier.NewStaff{Name: string(role), Phone: phone, Password: "password-1", Role: role, StoreID: storeID})
	if err != nil {
		t.Fatalf("add %s: %v", role, err)
	}
	return st
}

func actorOf(s cashier.Staff) cashier.Actor {
	return cashier.Actor{StaffID: s.ID, MerchantID: s.MerchantID, StoreID: s.StoreID, Role: s.Role}
}

func TestWhoMayManageWhom(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		store1 := f.open.Store.ID
		store2, err := f.merchants.AddStore(ctx, f.owner, "Huaihai Rd")
		if err != nil {
			t.Fatal(err)
		}
		mgr1 := f.add(t, f.owner, rbac.Manager, store1, "13900000001")
		f.add(t, f.owner, rbac.Manager, store2.ID, "13900000002")
		cash1 := f.add(t, actorOf(mgr1), rbac.Cashier, store1, "13700000001")
		cash2 := f.add(t, f.owner, rbac.Cashier, store2.ID, "13700000002")

		// A manager adds cashiers to their own store only.
		if _, err := f.staff.Add(ctx, actorOf(mgr1), cashier.NewStaff{Name: "x", Phone: "13700000009", Password: "password-1", Role: rbac.Cashier, StoreID: store2.ID}); !errors.Is(err, paydesk.ErrForbidden) {
			t.Errorf("manager adds a cashier to another store: %v", err)
		}
		if _, err := f.staff.Add(ctx, actorOf(mgr1), cashier.NewStaff{Name: "x", Phone: "13700000009", Password: "password-1", Role: rbac.Manager, StoreID: store1}); !errors.Is(err, paydesk.ErrForbidden) {
			t.Errorf("manager adds a manager: %v", err)
		}
		if _, err := f.staff.Add(ctx, actorOf(cash1), cashier.NewStaff{Name: "x", Phone: "13700000009", Password: "password-1", Role: rbac.Cashier, StoreID: store1}); !errors.Is(err, paydesk.ErrForbidden) {
			t.Errorf("cashier adds a cashier: %v", err)
		}
		// A cashier of another store is invisible to the manager: not found.
		if _, err := f.staff.Disable(ctx, actorOf(mgr1), cash2.ID); !errors.Is(err, cashier.ErrStaffNotFound) {
			t.Errorf("manager disables another store's cashier: %v", err)
		}
		if st, err := f.staff.Disable(ctx, actorOf(mgr1), cash1.ID); err != nil || st.Status != cashier.Disabled {
			t.Fatalf("manager disables own cashier: %+v, %v", st, err)
		}
		if _, err := f.staff.Login(ctx, "13700000001", "password-1", "10.0.0.7"); !errors.Is(err, cashier.ErrStaffDisabled) {
			t.Errorf("disabled cashier logs in: %v", err)
		}
		if _, err := f.staff.Enable(ctx, actorOf(mgr1), cash1.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.staff.ResetPassword(ctx, actorOf(mgr1), cash1.ID, "new-password-1"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.staff.Login(ctx, "13700000001", "new-password-1", "10.0.0.7"); err != nil {
			t.Errorf("login with the reset password: %v", err)
		}
		list, _ := f.staff.List(ctx, actorOf(mgr1))
		for _, s := range list {
			if s.StoreID != store1 {
				t.Errorf("manager of store %d lists staff %+v of another store", store1, s)
			}
		}
		if all, _ := f.staff.List(ctx, f.owner); len(all) != 5 {
			t.Errorf("owner lists %d staff, want 5", len(all))
		}

		// Another merchant's owner sees none of it.
		other, err := f.merchants.CreateMerchant(ctx, merchant.NewMerchant{Name: "Other", OwnerName: "o", OwnerPhone: "13600000001", OwnerPassword: "password-1"})
		if err != nil {
			t.Fatal(err)
		}
		otherOwner := actorOf(other.Owner)
		if _, err := f.staff.Disable(ctx, otherOwner, cash1.ID); !errors.Is(err, cashier.ErrStaffNotFound) {
			t.Errorf("other merchant disables our cashier: %v", err)
		}
		if _, err := f.staff.Add(ctx, otherOwner, cashier.NewStaff{Name: "x", Phone: "13600000002", Password: "password-1", Role: rbac.Cashier, StoreID: store1}); !errors.Is(err, merchant.ErrStoreNotFound) {
			t.Errorf("other merchant adds a cashier to our store: %v", err)
		}
		events, _ := f.staff.AuditEvents(ctx, f.owner, 100)
		if len(events) < 8 {
			t.Errorf("%d audit events, want every change recorded", len(events))
		}
	})
}

func TestMerchantKeepsAnActiveOwner(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		if _, err := f.staff.Disable(ctx, f.owner, f.open.Owner.ID); !errors.Is(err, cashier.ErrLastOwner) {
			t.Fatalf("disabling the only owner: %v", err)
		}
		second := f.add(t, f.owner, rbac.Owner, 0, "13800000002")
		// Two owners disable each other at the same moment: one must remain.
		var wg sync.WaitGroup
		errs := make([]error, 2)
		wg.Go(func() { _, errs[0] = f.staff.Disable(ctx, f.owner, second.ID) })
		wg.Go(func() { _, errs[1] = f.staff.Disable(ctx, actorOf(second), f.open.Owner.ID) })
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Fatalf("owners disabling each other: %v / %v; want exactly one success", errs[0], errs[1])
		}
	})
}

func TestLoginIsThrottledAndAudited(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		if _, err := f.staff.Login(ctx, "13800000001", "owner-pass-1", "10.0.0.1"); err != nil {
			t.Fatalf("right password: %v", err)
		}
		if _, err := f.staff.Login(ctx, "13999999999", "whatever-1", "10.0.0.1"); !errors.Is(err, cashier.ErrInvalidCredentials) {
			t.Fatalf("unknown phone: %v", err)
		}
		for i := 0; i < 5; i++ {
			if _, err := f.staff.Login(ctx, "13800000001", "wrong-pass", "10.0.0.2"); !errors.Is(err, cashier.ErrInvalidCredentials) {
				t.Fatalf("wrong password %d: %v", i, err)
			}
		}
		// The address that guessed is locked out of the phone, even with
		// the right password; the owner elsewhere is not.
		_, err := f.staff.Login(ctx, "13800000001", "owner-pass-1", "10.0.0.2")
		if pe := paydesk.AsError(err); pe.Code != "TOO_MANY_ATTEMPTS" || pe.RetryAfter <= 0 || pe.RetryAfter > 900 {
			t.Fatalf("locked (phone, IP), right password: %v", err)
		}
		if _, err := f.staff.Login(ctx, "13800000001", "owner-pass-1", "10.0.0.3"); err != nil {
			t.Fatalf("right password from another IP: %v", err)
		}
		f.clock.Advance(16 * time.Minute)
		if _, err := f.staff.Login(ctx, "13800000001", "owner-pass-1", "10.0.0.2"); err != nil {
			t.Fatalf("after the lock-out: %v", err)
		}
		events, _ := f.staff.AuditEvents(ctx, f.owner, 100)
		failed := 0
		for _, e := range events {
			if e.Action == cashier.AuditLoginFailed {
				failed++
			}
		}
		if failed != 5 {
			t.Errorf("%d failed logins audited for the merchant, want 5", failed)
		}
	})
}

// TestLoginGuessesFromEverywhereAreGuarded: guesses spread over many
// addresses put the phone over its ceiling, after which every address is
// locked out after one failure — but an address that gets the password
// right the first time still logs in.
func TestLoginGuessesFromEverywhereAreGuarded(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		for i := 0; i < 10; i++ { // 20 failures, 2 per address: below its limit of 5
			ip := fmt.Sprintf("198.51.100.%d", i)
			for j := 0; j < 2; j++ {
				if _, err := f.staff.Login(ctx, "13800000001", "wrong-pass", ip); !errors.Is(err, cashier.ErrInvalidCredentials) {
					t.Fatalf("guess %d from %s: %v", j, ip, err)
				}
			}
		}
		// Guarded: a fresh address is locked out after its first failure.
		if _, err := f.staff.Login(ctx, "13800000001", "wrong-pass", "203.0.113.1"); !errors.Is(err, cashier.ErrInvalidCredentials) {
			t.Fatalf("first guess from a fresh address: %v", err)
		}
		if _, err := f.staff.Login(ctx, "13800000001", "owner-pass-1", "203.0.113.1"); paydesk.AsError(err).Code != "TOO_MANY_ATTEMPTS" {
			t.Fatalf("second try from a guarded phone's failing address: %v, want TOO_MANY_ATTEMPTS", err)
		}
		if _, err := f.staff.Login(ctx, "13800000001", "owner-pass-1", "203.0.113.2"); err != nil {
			t.Fatalf("the owner's right password from another address: %v", err)
		}
	})
}

// TestPasswordResetUnlocksTheLogin: a manager's password reset lifts every
// lock on the staff member's phone, from every address, and only theirs.
func TestPasswordResetUnlocksTheLogin(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		for _, ip := range []string{"10.0.0.1", "10.0.0.2"} {
			for range 5 {
				if _, err := f.staff.Login(ctx, "13800000001", "wrong-pass", ip); !errors.Is(err, cashier.ErrInvalidCredentials) {
					t.Fatalf("wrong password from %s: %v", ip, err)
				}
			}
		}
		// A phone sharing the prefix keeps its own lock.
		for range 5 {
			f.staff.Login(ctx, "138000000012", "wrong-pass", "10.0.0.1")
		}
		if err := f.staff.ResetPassword(ctx, f.owner, f.open.Owner.ID, "new-owner-pass"); err != nil {
			t.Fatal(err)
		}
		for _, ip := range []string{"10.0.0.1", "10.0.0.2"} {
			if _, err := f.staff.Login(ctx, "13800000001", "new-owner-pass", ip); err != nil {
				t.Fatalf("the new password from %s after the reset: %v", ip, err)
			}
		}
		if _, err := f.staff.Login(ctx, "138000000012", "whatever-1", "10.0.0.1"); paydesk.AsError(err).Code != "TOO_MANY_ATTEMPTS" {
			t.Fatalf("another phone's lock after the reset: %v", err)
		}
	})
}
