package wallet_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/wallet"
)

func TestPlanFollowsTheFundingRule(t *testing.T) {
	now := start
	day := 24 * time.Hour
	v := func(id int64, amt paydesk.Amount, merchant int64, expiresIn time.Duration) wallet.Voucher {
		return wallet.Voucher{ID: wallet.VoucherID(id), Amount: amt, MerchantID: merchant, ExpiresAt: now.Add(expiresIn), Status: wallet.VoucherActive}
	}
	c := func(id int64, left paydesk.Amount, expiresIn time.Duration) wallet.Coupon {
		return wallet.Coupon{ID: wallet.CouponID(id), Amount: left, Remaining: left, ExpiresAt: now.Add(expiresIn)}
	}
	used := v(9, 600, 0, day)
	used.Status = wallet.VoucherUsed

	tests := []struct {
		name     string
		amount   paydesk.Amount
		merchant int64
		funds    wallet.Funds
		want     wallet.Funding
		err      error
	}{
		{"cash only", 1000, 1, wallet.Funds{Cash: 5000},
			wallet.Funding{Amount: 1000, Cash: 1000}, nil},
		{"largest voucher that fits", 1000, 1, wallet.Funds{Vouchers: []wallet.Voucher{v(1, 300, 0, day), v(2, 800, 0, day), v(3, 1200, 0, day)}, Cash: 5000},
			wallet.Funding{Amount: 1000, Voucher: 800, Cash: 200, Vouchers: []wallet.VoucherUse{{ID: 2, Amount: 800}}}, nil},
		{"a voucher of exactly the amount pays it all", 800, 1, wallet.Funds{Vouchers: []wallet.Voucher{v(2, 800, 0, day)}},
			wallet.Funding{Amount: 800, Voucher: 800, Vouchers: []wallet.VoucherUse{{ID: 2, Amount: 800}}}, nil},
		{"expired, used and other merchants' vouchers are ignored", 1000, 1,
			wallet.Funds{Vouchers: []wallet.Voucher{v(1, 700, 0, -time.Second), v(2, 800, 2, day), used, v(4, 100, 1, day)}, Cash: 5000},
			wallet.Funding{Amount: 1000, Voucher: 100, Cash: 900, Vouchers: []wallet.VoucherUse{{ID: 4, Amount: 100}}}, nil},
		{"a tie goes to the merchant's own voucher, then the soonest expiry", 1000, 1,
			wallet.Funds{Vouchers: []wallet.Voucher{v(1, 500, 0, time.Hour), v(2, 500, 1, 3*day), v(3, 500, 1, 2*day)}, Cash: 5000},
			wallet.Funding{Amount: 1000, Voucher: 500, Cash: 500, Vouchers: []wallet.VoucherUse{{ID: 3, Amount: 500}}}, nil},
		{"coupons soonest expiry first, then cash, then card", 5000, 1,
			wallet.Funds{Coupons: []wallet.Coupon{c(1, 1000, 3*day), c(2, 700, day), c(3, 900, -time.Minute)}, Cash: 2000, HasCard: true},
			wallet.Funding{Amount: 5000, Coupon: 1700, Cash: 2000, Card: 1300, Coupons: []wallet.CouponUse{{ID: 2, Amount: 700}, {ID: 1, Amount: 1000}}}, nil},
		{"a coupon is drawn only as far as needed", 500, 1,
			wallet.Funds{Coupons: []wallet.Coupon{c(1, 1000, day)}, Cash: 2000},
			wallet.Funding{Amount: 500, Coupon: 500, Coupons: []wallet.CouponUse{{ID: 1, Amount: 500}}}, nil},
		{"all four", 3000, 1,
			wallet.Funds{Vouchers: []wallet.Voucher{v(1, 500, 0, day)}, Coupons: []wallet.Coupon{c(1, 300, day)}, Cash: 1000, HasCard: true},
			wallet.Funding{Amount: 3000, Voucher: 500, Coupon: 300, Cash: 1000, Card: 1200,
				Vouchers: []wallet.VoucherUse{{ID: 1, Amount: 500}}, Coupons: []wallet.CouponUse{{ID: 1, Amount: 300}}}, nil},
		{"short without a card", 3000, 1, wallet.Funds{Vouchers: []wallet.Voucher{v(1, 500, 0, day)}, Cash: 1000},
			wallet.Funding{}, wallet.ErrInsufficientFunds},
		{"zero amount", 0, 1, wallet.Funds{Cash: 1000}, wallet.Funding{}, paydesk.ErrInvalidAmount},
	}
	for _, tt := range tests {
		got, err := wallet.Plan(tt.amount, tt.merchant, now, tt.funds)
		if !errors.Is(err, tt.err) && !(err == nil && tt.err == nil) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.name, got, tt.want)
		}
	}
}

// The breakdown is stored on the order as JSON and read back for refunds.
func TestFundingSurvivesJSON(t *testing.T) {
	f := wallet.Funding{Amount: 3000, Currency: "CNY", Voucher: 500, Coupon: 300, Cash: 1000, Card: 1200,
		Vouchers: []wallet.VoucherUse{{ID: 1, Amount: 500}}, Coupons: []wallet.CouponUse{{ID: 7, Amount: 300}}, CardDebit: "wallet:1:autotopup:o-1:1200"}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	var back wallet.Funding
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, f) {
		t.Fatalf("round trip of %s = %+v, %v", b, back, err)
	}
}

func FuzzPlan(f *testing.F) {
	f.Add(int64(1000), int64(300), int64(500), int64(200), int64(100), true, int64(1))
	f.Add(int64(1), int64(0), int64(0), int64(0), int64(0), false, int64(0))
	f.Fuzz(func(t *testing.T, amount, voucher, coupon1, coupon2, cash int64, hasCard bool, merchant int64) {
		funds := wallet.Funds{
			Vouchers: []wallet.Voucher{{ID: 1, Amount: paydesk.Amount(voucher % 1e9), MerchantID: merchant % 3, ExpiresAt: start.Add(time.Hour), Status: wallet.VoucherActive}},
			Coupons: []wallet.Coupon{{ID: 1, Remaining: paydesk.Amount(coupon1 % 1e9), ExpiresAt: start.Add(time.Hour)},
				{ID: 2, Remaining: paydesk.Amount(coupon2 % 1e9), ExpiresAt: start.Add(-time.Hour)}},
			Cash: paydesk.Amount(cash % 1e12), HasCard: hasCard,
		}
		got, err := wallet.Plan(paydesk.Amount(amount), 1, start, funds)
		if err != nil {
			if c := paydesk.ErrorCode(err); c != "INSUFFICIENT_FUNDS" && c != "INVALID_AMOUNT" {
				t.Fatalf("uncoded error %v", err)
			}
			return
		}
		parts := []paydesk.Amount{got.Voucher, got.Coupon, got.Cash, got.Card}
		var sum paydesk.Amount
		for _, p := range parts {
			if p < 0 {
				t.Fatalf("negative part in %+v", got)
			}
			sum += p
		}
		if sum != got.Amount || got.Amount != paydesk.Amount(amount) {
			t.Fatalf("parts of %+v do not add up to %d", got, amount)
		}
		if got.Cash > max(funds.Cash, 0) || (!hasCard && got.Card != 0) || got.Voucher > paydesk.Amount(amount) {
			t.Fatalf("plan %+v overdraws %+v", got, funds)
		}
		for _, c := range got.Coupons {
			if c.ID == 2 || c.Amount > funds.Coupons[0].Remaining {
				t.Fatalf("plan %+v draws an expired coupon or more than it has", got)
			}
		}
	})
}
