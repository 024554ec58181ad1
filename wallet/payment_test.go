package wallet_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
	"github.com/paydesk/paydesk/wallet"
)

const day = 24 * time.Hour

func (f *fixture) voucher(t *testing.T, id wallet.WalletID, amt paydesk.Amount, merchant int64, expiresIn time.Duration, ref string) wallet.Voucher {
	t.Helper()
	v, err := f.svc.IssueVoucher(context.Background(), wallet.VoucherRequest{Wallet: id, Amount: amt, MerchantID: merchant, ExpiresAt: f.clock().Add(expiresIn), Reference: ref})
	if err != nil {
		t.Fatalf("issue voucher %s: %v", ref, err)
	}
	return v
}

func (f *fixture) coupon(t *testing.T, id wallet.WalletID, amt paydesk.Amount, expiresIn time.Duration, ref string) wallet.Coupon {
	t.Helper()
	c, err := f.svc.IssueCoupon(context.Background(), wallet.CouponRequest{Wallet: id, Amount: amt, ExpiresAt: f.clock().Add(expiresIn), Reference: ref})
	if err != nil {
		t.Fatalf("issue coupon %s: %v", ref, err)
	}
	return c
}

// One wallet with every kind of money pays twice; each payment's breakdown
// and every balance afterwards is exact.
func TestPaymentDrawsVouchersCouponsCashThenCard(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		id := f.register(t, "13800138000")
		f.fund(t, id, 1000, "t-1")
		any500 := f.voucher(t, id, 500, 0, 10*day, "v-any-500")
		only2 := f.voucher(t, id, 800, 2, 10*day, "v-m2-800")
		f.voucher(t, id, 5000, 0, 10*day, "v-any-5000") // larger than either payment: kept
		f.voucher(t, id, 900, 0, time.Hour, "v-soon-900")
		later := f.coupon(t, id, 300, 5*day, "c-later-300")
		sooner := f.coupon(t, id, 1000, 2*day, "c-sooner-1000")
		f.coupon(t, id, 700, time.Hour, "c-soon-700")
		// The 900 voucher and the 700 coupon expire before the payments.
		f.advance(2 * time.Hour)

		fund1, err := f.pay(ctx, id, 1, 1500, "order-1")
		if err != nil {
			t.Fatalf("payment 1: %v", err)
		}
		want1 := wallet.Funding{Amount: 1500, Currency: "CNY", Voucher: 500, Coupon: 1000,
			Vouchers: []wallet.VoucherUse{{ID: any500.ID, Amount: 500}}, Coupons: []wallet.CouponUse{{ID: sooner.ID, Amount: 1000}}}
		if !reflect.DeepEqual(fund1, want1) {
			t.Fatalf("payment 1 funding:\n got %+v\nwant %+v", fund1, want1)
		}

		// At merchant 2 its own voucher applies; the wallet is 900 short, which the card pays.
		fund2, err := f.pay(ctx, id, 2, 3000, "order-2")
		if err != nil {
			t.Fatalf("payment 2: %v", err)
		}
		want2 := wallet.Funding{Amount: 3000, Currency: "CNY", Voucher: 800, Coupon: 300, Cash: 1000, Card: 900,
			Vouchers: []wallet.VoucherUse{{ID: only2.ID, Amount: 800}}, Coupons: []wallet.CouponUse{{ID: later.ID, Amount: 300}},
			CardDebit: fmt.Sprintf("wallet:%d:autotopup:order-2:900", id)}
		if !reflect.DeepEqual(fund2, want2) {
			t.Fatalf("payment 2 funding:\n got %+v\nwant %+v", fund2, want2)
		}

		balances := map[string]paydesk.Amount{
			wallet.CashAccountCode(id):   0,
			wallet.CouponAccountCode(id): 700, // the expired coupon's money, until the sweep
			"merchant:1:pending":         1900,
			"merchant:1:marketing":       2600,
			ledger.MarketingAccount:      -(300 + 1000 + 700) - (500 + 800),
			ledger.ClearingAccount:       -(1000 + 900),
		}
		for code, want := range balances {
			if got := f.balance(t, code); got != want {
				t.Errorf("%s = %d, want %d", code, got, want)
			}
		}
		if d := f.bank.Debits(); len(d) != 2 || d[1].Amount != 900 {
			t.Errorf("bank debits = %+v, want the top-up and the 900 shortfall", d)
		}
		v, err := f.svc.Wallet(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Vouchers) != 1 || v.Vouchers[0].Amount != 5000 || v.Coupons != 0 || len(v.CouponList) != 0 {
			t.Errorf("wallet after payments = %+v, want only the 5000 voucher left", v)
		}
	})
}

func TestInsufficientFundsMovesNothing(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		id := f.register(t, "13800138000")
		f.voucher(t, id, 100, 0, day, "v-1")
		f.coupon(t, id, 200, day, "c-1")
		before := f.mustBeSound(t)

		_, err := f.pay(ctx, id, 1, 1000, "order-1")
		wantCode(t, "no cash, no card", err, "INSUFFICIENT_FUNDS")
		if after := f.mustBeSound(t); after.Entries != before.Entries {
			t.Fatalf("%d ledger entries written by a refused payment", after.Entries-before.Entries)
		}
		v, _ := f.svc.Wallet(ctx, id)
		if len(v.Vouchers) != 1 || v.Coupons != 200 {
			t.Fatalf("wallet after a refused payment = %+v", v)
		}

		// With a declined card the shortfall cannot be covered either.
		f.bindCard(t, id, bank.SimCardDeclined)
		_, err = f.pay(ctx, id, 1, 1000, "order-1")
		wantCode(t, "declined card", err, "CARD_DECLINED")
		if after := f.mustBeSound(t); after.Entries != before.Entries {
			t.Fatalf("%d ledger entries written by a declined payment", after.Entries-before.Entries)
		}
	})
}

// A payment that fails after its card shortfall was debited leaves that
// money in the wallet's cash, and its retry does not charge the card again.
func TestCardShortfallIsKeptAndNotChargedTwice(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		id := f.register(t, "13800138000")
		f.bindCard(t, id, bank.SimCardOK)
		p, err := f.svc.PreparePayment(ctx, wallet.PaymentRequest{Wallet: id, Merchant: 1, Amount: 700, Reference: "order-9", To: f.merchant})
		if err != nil || p.Funding.Card != 700 {
			t.Fatalf("prepare = %+v, %v", p.Funding, err)
		}
		// The POS fails before posting (a crash, a closed order): the money waits in cash.
		if got := f.cash(t, id); got != 700 {
			t.Fatalf("cash after the shortfall debit = %d, want 700", got)
		}
		fund, err := f.pay(ctx, id, 1, 700, "order-9")
		if err != nil || fund.Cash != 700 || fund.Card != 0 {
			t.Fatalf("retried payment = %+v, %v; want it paid from cash", fund, err)
		}
		if n := len(f.bank.Debits()); n != 1 {
			t.Fatalf("the card was debited %d times, want once", n)
		}
	})
}

// Payments planned on the same voucher (or coupon) race to post: one
// spends it, the others are refused with FUNDING_CHANGED and move nothing.
// The voucher is guarded by the Work's conditional update alone (the
// marketing account may go negative); the coupon also by its ledger account.
func TestVoucherAndCouponCannotBeSpentTwice(t *testing.T) {
	for _, kind := range []string{"voucher", "coupon"} {
		t.Run(kind, func(t *testing.T) {
			storagetest.Each(t, func(t *testing.T, db *storage.DB) {
				ctx := context.Background()
				f := newFixture(t, db)
				id := f.register(t, "13800138000")
				if kind == "voucher" {
					f.voucher(t, id, 800, 0, day, "v-1")
				} else {
					f.coupon(t, id, 800, day, "c-1")
				}
				f.fund(t, id, 10000, "t-1")

				const n = 8
				payments := make([]wallet.Payment, n)
				for i := range payments {
					p, err := f.svc.PreparePayment(ctx, wallet.PaymentRequest{Wallet: id, Merchant: 1, Amount: 1000, Reference: fmt.Sprintf("order-%d", i), To: f.merchant})
					if err != nil || p.Funding.Voucher+p.Funding.Coupon != 800 {
						t.Fatalf("prepare %d = %+v, %v", i, p.Funding, err)
					}
					payments[i] = p
				}
				var wg sync.WaitGroup
				errs := make([]error, n)
				for i, p := range payments {
					wg.Go(func() {
						_, err := f.ledger.Post(ctx, ledger.Transfer{Reference: fmt.Sprintf("order-%d", i), Kind: "payment", Postings: p.Postings}, p.Work)
						errs[i] = p.Explain(err)
					})
				}
				wg.Wait()
				ok := 0
				for _, err := range errs {
					switch {
					case err == nil:
						ok++
					case !errors.Is(err, wallet.ErrFundingChanged):
						t.Errorf("losing payment: %v, want FUNDING_CHANGED", err)
					}
				}
				if ok != 1 {
					t.Fatalf("%d payments spent the one %s, want 1", ok, kind)
				}
				if got := f.cash(t, id); got != 10000-200 {
					t.Fatalf("cash = %d, want %d", got, 10000-200)
				}
				if got := f.balance(t, "merchant:1:marketing"); got != 800 {
					t.Fatalf("merchant marketing = %d, want 800", got)
				}
				// A loser plans again on what is left and pays from cash.
				fund, err := f.pay(ctx, id, 1, 1000, "order-again")
				if err != nil || fund.Cash != 1000 {
					t.Fatalf("payment after the race = %+v, %v", fund, err)
				}
			})
		})
	}
}

func TestPreparePaymentValidates(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		id := f.register(t, "13800138000")
		f.fund(t, id, 1000, "t-1")
		for _, tt := range []struct {
			name string
			req  wallet.PaymentRequest
			code string
		}{
			{"zero amount", wallet.PaymentRequest{Wallet: id, Amount: 0, Reference: "o", To: f.merchant}, "INVALID_AMOUNT"},
			{"too large", wallet.PaymentRequest{Wallet: id, Amount: paydesk.MaxAmount + 1, Reference: "o", To: f.merchant}, "INVALID_AMOUNT"},
			{"no reference", wallet.PaymentRequest{Wallet: id, Amount: 10, To: f.merchant}, "INVALID_ARGUMENT"},
			{"no merchant accounts", wallet.PaymentRequest{Wallet: id, Amount: 10, Reference: "o"}, "INVALID_ARGUMENT"},
			{"unknown wallet", wallet.PaymentRequest{Wallet: 31337, Amount: 10, Reference: "o", To: f.merchant}, "WALLET_NOT_FOUND"},
		} {
			_, err := f.svc.PreparePayment(ctx, tt.req)
			wantCode(t, tt.name, err, tt.code)
		}
		fund, err := f.svc.PlanFunding(ctx, id, 1, 400)
		if err != nil || fund.Cash != 400 {
			t.Fatalf("plan = %+v, %v", fund, err)
		}
		if got := f.cash(t, id); got != 1000 {
			t.Fatalf("planning moved money: cash %d", got)
		}
	})
}

func TestIssuingIsIdempotent(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		id := f.register(t, "13800138000")
		v1 := f.voucher(t, id, 500, 3, day, "campaign-1")
		if v2 := f.voucher(t, id, 500, 3, day, "campaign-1"); v2.ID != v1.ID {
			t.Fatalf("re-issued voucher has id %d, want %d", v2.ID, v1.ID)
		}
		_, err := f.svc.IssueVoucher(ctx, wallet.VoucherRequest{Wallet: id, Amount: 501, MerchantID: 3, ExpiresAt: f.clock().Add(day), Reference: "campaign-1"})
		wantCode(t, "voucher with other terms", err, "IDEMPOTENCY_CONFLICT")
		_, err = f.svc.IssueVoucher(ctx, wallet.VoucherRequest{Wallet: id, Amount: 500, ExpiresAt: f.clock().Add(-time.Second), Reference: "old"})
		wantCode(t, "voucher expired at birth", err, "INVALID_ARGUMENT")

		c1 := f.coupon(t, id, 300, day, "gift-1")
		if c2 := f.coupon(t, id, 300, day, "gift-1"); c2.ID != c1.ID {
			t.Fatalf("re-issued coupon has id %d, want %d", c2.ID, c1.ID)
		}
		_, err = f.svc.IssueCoupon(ctx, wallet.CouponRequest{Wallet: id, Amount: 301, ExpiresAt: f.clock().Add(day), Reference: "gift-1"})
		wantCode(t, "coupon with other terms", err, "IDEMPOTENCY_CONFLICT")
		if got := f.balance(t, wallet.CouponAccountCode(id)); got != 300 {
			t.Fatalf("coupon balance = %d, want 300 (issued once)", got)
		}
	})
}

func TestSweepReturnsExpiredCouponMoney(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		id := f.register(t, "13800138000")
		f.coupon(t, id, 1000, time.Hour, "c-1")
		f.coupon(t, id, 400, 3*day, "c-2")
		f.fund(t, id, 1000, "t-1")
		if _, err := f.pay(ctx, id, 1, 300, "order-1"); err != nil { // draws 300 from c-1
			t.Fatal(err)
		}
		f.advance(2 * time.Hour)
		// Two instances sweep at once: the 700 left on c-1 goes back once.
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				if err := f.svc.Sweep(ctx); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if got := f.balance(t, wallet.CouponAccountCode(id)); got != 400 {
			t.Fatalf("coupon balance = %d, want 400 (the live coupon)", got)
		}
		if got := f.balance(t, ledger.MarketingAccount); got != -(1000+400)+700 {
			t.Fatalf("marketing = %d, want %d", got, -(1000+400)+700)
		}
		if v, _ := f.svc.Wallet(ctx, id); v.Coupons != 400 {
			t.Fatalf("wallet coupons = %d, want 400", v.Coupons)
		}
	})
}

// A wallet's vouchers_until follows the latest expiry of its vouchers, an
// earlier one lowering nothing, and a plan looks for vouchers only before
// it (issue 20): the voucher that expires last still pays until it
// expires, and after it the wallet pays from cash.
func TestVouchersUntilFollowsTheLastVoucher(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		id := f.register(t, "13800138009")
		f.fund(t, id, 10_000, "t-1")
		store := wallet.NewGormStore(db, wallet.MustSealer(testDataKey))
		until := func() time.Time {
			w, err := store.WalletByID(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return w.VouchersUntil
		}
		if !until().IsZero() {
			t.Fatalf("a new wallet's vouchers_until is %v, want none", until())
		}
		last := f.voucher(t, id, 300, 0, 3*day, "v-last")
		f.voucher(t, id, 200, 0, day, "v-first")
		if !until().Equal(last.ExpiresAt) {
			t.Fatalf("vouchers_until %v, want the last expiry %v", until(), last.ExpiresAt)
		}
		f.advance(2 * day) // v-first has expired, v-last has not
		fund, err := f.pay(ctx, id, 1, 1000, "order-1")
		if err != nil || fund.Voucher != 300 {
			t.Fatalf("payment before the last expiry: %+v, %v; want the 300 voucher used", fund, err)
		}
		f.advance(2 * day)
		fund, err = f.pay(ctx, id, 1, 1000, "order-2")
		if err != nil || fund.Voucher != 0 || fund.Cash != 1000 {
			t.Fatalf("payment after every voucher expired: %+v, %v; want cash only", fund, err)
		}
	})
}

// A code payment plans on the balances read with the wallet when its code
// was verified (one read fewer on every payment). Those are good for one
// plan: when the wallet spends meanwhile, the post is refused with
// FUNDING_CHANGED, and the plan made again for the same code reads the
// ledger, so the card pays the shortfall it now has.
func TestCodePaymentPlansAgainOnFreshBalances(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		id := f.register(t, "13800138000")
		f.fund(t, id, 1000, "t-1") // binds a card
		k := f.key(t, id)
		use, err := f.svc.VerifyPaymentCode(ctx, code(t, k, f.clock()))
		if err != nil {
			t.Fatalf("verify: %v", err)
		}
		// Another payment spends 600 after the code's read saw 1000.
		if _, err := f.pay(ctx, id, 1, 600, "order-other"); err != nil {
			t.Fatalf("other payment: %v", err)
		}
		req := wallet.PaymentRequest{Wallet: id, Merchant: 1, Amount: 800, Reference: "order-code", To: f.merchant, Code: &use}
		p, err := f.svc.PreparePayment(ctx, req)
		if err != nil || p.Funding.Cash != 800 || p.Funding.Card != 0 {
			t.Fatalf("first plan = %+v, %v; want 800 from the cash read with the code", p.Funding, err)
		}
		_, err = f.ledger.Post(ctx, ledger.Transfer{Reference: req.Reference, Kind: "payment", Postings: p.Postings}, p.Work)
		if err = p.Explain(err); !errors.Is(err, wallet.ErrFundingChanged) {
			t.Fatalf("post on the stale plan: %v, want FUNDING_CHANGED", err)
		}
		p, err = f.svc.PreparePayment(ctx, req)
		if err != nil || p.Funding.Cash != 400 || p.Funding.Card != 400 {
			t.Fatalf("second plan = %+v, %v; want 400 cash and 400 card", p.Funding, err)
		}
		if _, err := f.ledger.Post(ctx, ledger.Transfer{Reference: req.Reference, Kind: "payment", Postings: p.Postings}, p.Work); err != nil {
			t.Fatalf("post the second plan: %v", err)
		}
		if got := f.cash(t, id); got != 0 {
			t.Fatalf("cash = %d, want 0", got)
		}
		f.mustBeSound(t)
	})
}
