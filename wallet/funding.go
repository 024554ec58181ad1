package wallet

import (
	"cmp"
	"slices"
	"time"

	"github.com/paydesk/paydesk"
)

// Funding is how one payment is paid: the breakdown that SPEC §2 says the
// order records. It is plain data (and JSON) so the POS can store it on the
// order, and a refund later gives the money back the same ways in reverse
// order: card, cash, coupons, vouchers.
//
// Amount = Voucher + Coupon + Cash + Card.
type Funding struct {
	Amount   paydesk.Amount   `json:"amount"`
	Currency paydesk.Currency `json:"currency"`
	Voucher  paydesk.Amount   `json:"voucher"`
	Coupon   paydesk.Amount   `json:"coupon"`
	// Cash is what the wallet's cash balance paid.
	Cash paydesk.Amount `json:"cash"`
	// Card is the shortfall taken from the bound card. It is debited into
	// the wallet's cash first (an automatic top-up), so the payment itself
	// moves Cash+Card out of the wallet's cash account.
	Card     paydesk.Amount `json:"card"`
	Vouchers []VoucherUse   `json:"vouchers,omitempty"`
	Coupons  []CouponUse    `json:"coupons,omitempty"`
	// CardDebit is the reference of the bank debit behind Card, which a
	// refund to the card will name.
	CardDebit string `json:"card_debit,omitempty"`
}

// VoucherUse is a voucher a payment spent.
type VoucherUse struct {
	ID     VoucherID      `json:"id"`
	Amount paydesk.Amount `json:"amount"`
}

// CouponUse is what a payment drew from one coupon.
type CouponUse struct {
	ID     CouponID       `json:"id"`
	Amount paydesk.Amount `json:"amount"`
}

// Funds is what a wallet can pay with at one moment.
type Funds struct {
	Vouchers []Voucher
	Coupons  []Coupon
	Cash     paydesk.Amount
	// HasCard is true when a bank card is bound, to cover any shortfall.
	HasCard bool
}

// Plan decides how a wallet pays amount at merchant at time now. It is the
// funding rule in one pure function:
//
//  1. Vouchers: one voucher per payment, because a voucher is "an amount
//     off a purchase", not a balance. Among the vouchers usable here (active,
//     unexpired, for any merchant or this one) it takes the largest whose
//     amount is at most the payment, so no voucher value is wasted; a larger
//     voucher is kept for a larger purchase. Ties go to the voucher tied to
//     this merchant (it is useless elsewhere), then the one expiring first,
//     then the oldest.
//  2. Coupons, the soonest expiring first (ties: the oldest), each as far as
//     it goes.
//  3. Cash.
//  4. The bound card for the rest. Without a card, a rest means
//     INSUFFICIENT_FUNDS.
func Plan(amount paydesk.Amount, merchant int64, now time.Time, f Funds) (Funding, error) {
	if err := amount.ValidPayment(); err != nil {
		return Funding{}, err
	}
	out := Funding{Amount: amount}
	left := amount

	if v, ok := bestVoucher(f.Vouchers, amount, merchant, now); ok {
		out.Voucher = v.Amount
		out.Vouchers = []VoucherUse{{ID: v.ID, Amount: v.Amount}}
		left -= v.Amount
	}

	coupons := slices.Clone(f.Coupons)
	slices.SortFunc(coupons, func(a, b Coupon) int {
		return cmp.Or(a.ExpiresAt.Compare(b.ExpiresAt), cmp.Compare(a.ID, b.ID))
	})
	for _, c := range coupons {
		if left == 0 {
			break
		}
		if c.Remaining <= 0 || !expiresAfter(c.ExpiresAt, now) {
			continue
		}
		take := min(c.Remaining, left)
		out.Coupons = append(out.Coupons, CouponUse{ID: c.ID, Amount: take})
		out.Coupon += take
		left -= take
	}

	out.Cash = min(max(f.Cash, 0), left)
	left -= out.Cash

	if left > 0 {
		if !f.HasCard {
			return Funding{}, ErrInsufficientFunds.WithMessage("the wallet is %s short and has no bound card", left)
		}
		out.Card = left
	}
	return out, nil
}

// bestVoucher picks the voucher of rule 1 in Plan.
func bestVoucher(vs []Voucher, amount paydesk.Amount, merchant int64, now time.Time) (Voucher, bool) {
	var best Voucher
	found := false
	better := func(a, b Voucher) bool { // is a better than b?
		if a.Amount != b.Amount {
			return a.Amount > b.Amount
		}
		if aTied, bTied := a.MerchantID != 0, b.MerchantID != 0; aTied != bTied {
			return aTied
		}
		if !a.ExpiresAt.Equal(b.ExpiresAt) {
			return a.ExpiresAt.Before(b.ExpiresAt)
		}
		return a.ID < b.ID
	}
	for _, v := range vs {
		if v.Amount <= 0 || v.Amount > amount || !v.UsableAt(merchant, now) {
			continue
		}
		if !found || better(v, best) {
			best, found = v, true
		}
	}
	return best, found
}
