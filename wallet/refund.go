package wallet

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/ledger"
)

// RefundSplit is where one refund of a payment goes back to, in the reverse
// of the order Plan drew the money: the card first, then cash, then
// coupons, then vouchers. Amount = Card + Cash + Coupon + Voucher.
type RefundSplit struct {
	Amount  paydesk.Amount
	Card    paydesk.Amount
	Cash    paydesk.Amount
	Coupon  paydesk.Amount
	Voucher paydesk.Amount
	// Coupons is what goes back to each coupon the payment drew on, the
	// coupon drawn last first.
	Coupons []CouponUse
	// Vouchers become usable again: only with the refund that makes the
	// payment fully refunded. A voucher is "an amount off one purchase"; a
	// partly refunded purchase still had it, and its share of a partial
	// refund goes back to the platform's marketing budget, never to the
	// customer as money.
	Vouchers []VoucherID
}

// SplitRefund splits a refund of amount, after before had already been
// refunded, over the sources of payment f. Each split is the difference of
// two cumulative fills (before+amount and before), so any sequence of
// partial refunds adds up exactly to the payment's breakdown and never
// gives a source back more than it paid.
func SplitRefund(f Funding, before, amount paydesk.Amount) (RefundSplit, error) {
	total := f.Card + f.Cash + f.Coupon + f.Voucher
	if amount <= 0 || before < 0 || before+amount > total {
		return RefundSplit{}, paydesk.ErrInvalidAmount.WithMessage("a refund of %s after %s exceeds the payment of %s", amount, before, total)
	}
	from, to := fill(f, before), fill(f, before+amount)
	s := RefundSplit{Amount: amount, Card: to.card - from.card, Cash: to.cash - from.cash, Coupon: to.coupon - from.coupon, Voucher: to.voucher - from.voucher}
	for i := range to.coupons {
		if d := to.coupons[i].Amount - from.coupons[i].Amount; d > 0 {
			s.Coupons = append(s.Coupons, CouponUse{ID: to.coupons[i].ID, Amount: d})
		}
	}
	if before+amount == total {
		for _, v := range f.Vouchers {
			s.Vouchers = append(s.Vouchers, v.ID)
		}
	}
	return s, nil
}

type filled struct {
	card, cash, coupon, voucher paydesk.Amount
	coupons                     []CouponUse // in reverse order of use
}

// fill gives r back to the sources of f in refund order.
func fill(f Funding, r paydesk.Amount) filled {
	var out filled
	take := func(cap paydesk.Amount) paydesk.Amount {
		t := min(r, max(cap, 0))
		r -= t
		return t
	}
	out.card = take(f.Card)
	out.cash = take(f.Cash)
	left := min(r, f.Coupon)
	out.coupon = take(f.Coupon)
	for _, c := range slices.Backward(f.Coupons) {
		t := min(left, c.Amount)
		left -= t
		out.coupons = append(out.coupons, CouponUse{ID: c.ID, Amount: t})
	}
	out.voucher = take(f.Voucher)
	return out
}

// RefundRequest is money of a payment going back to the wallet that paid.
type RefundRequest struct {
	Wallet WalletID
	// PaymentReference is the reference the payment was posted under (its
	// vouchers record it).
	PaymentReference string
	Funding          Funding
	// Before is what earlier refunds of the payment gave back.
	Before paydesk.Amount
	Amount paydesk.Amount
}

// RefundDestinations are the accounts a refund's money goes to.
type RefundDestinations struct {
	// Card is the platform's card-refunds account: the card's share waits
	// there until the bank has credited the card (see RefundCard).
	Card ledger.AccountID
	// Cash is the wallet's cash account.
	Cash ledger.AccountID
	// Coupon is the wallet's coupon account.
	Coupon ledger.AccountID
	// Voucher is the platform's marketing account, which paid the voucher.
	Voucher ledger.AccountID
}

// PreparedRefund is a refund ready to post: the POS posts the merchant's
// side in one ledger transfer to To, and runs Work in the same transaction.
type PreparedRefund struct {
	Split RefundSplit
	To    RefundDestinations
	// Work restores the coupons' remaining and reactivates the vouchers.
	Work ledger.Work
}

// PrepareRefund splits a refund over the payment's sources and returns
// where the money goes and the Work that restores the coupons and vouchers.
// It reads only, so it may run inside the caller's transaction.
func (s *Service) PrepareRefund(ctx context.Context, req RefundRequest) (PreparedRefund, error) {
	split, err := SplitRefund(req.Funding, req.Before, req.Amount)
	if err != nil {
		return PreparedRefund{}, err
	}
	w, err := s.wallet(ctx, req.Wallet)
	if err != nil {
		return PreparedRefund{}, err
	}
	plat, err := s.platform(ctx)
	if err != nil {
		return PreparedRefund{}, err
	}
	to := RefundDestinations{Card: plat.CardRefunds, Cash: w.CashAccount, Coupon: w.CouponAccount, Voucher: plat.Marketing}
	work := func(ctx context.Context) error {
		now := s.clock()
		for _, c := range split.Coupons {
			if err := s.store.RestoreCoupon(ctx, w.ID, c.ID, c.Amount, now); err != nil {
				return err
			}
		}
		for _, v := range split.Vouchers {
			// A voucher not used by this payment (data fixed by hand) is left alone.
			if _, err := s.store.RestoreVoucher(ctx, w.ID, v, req.PaymentReference); err != nil {
				return fmt.Errorf("restore voucher %d: %w", v, err)
			}
		}
		return nil
	}
	return PreparedRefund{Split: split, To: to, Work: work}, nil
}

// CardRefundOutcome is how the card's share of a refund ended.
type CardRefundOutcome string

const (
	// CardRefunded: the bank credited the card.
	CardRefunded CardRefundOutcome = "CARD"
	// CardRefundedToBalance: the bank refused for good (the debit is
	// unknown to it, the card is closed), so the money went to the wallet's
	// cash instead, where the customer can spend or withdraw it.
	CardRefundedToBalance CardRefundOutcome = "BALANCE"
)

// RefundCard finishes the card's share of a refund that the POS booked to
// the card-refunds account: it asks the bank to credit the card of the
// debit debitRef, then books the money out to the clearing account, both
// under reference. A bank that does not answer leaves the money where it
// is and returns the error: call again with the same reference. It must not
// run inside a transaction.
func (s *Service) RefundCard(ctx context.Context, id WalletID, reference, debitRef string, amount paydesk.Amount) (CardRefundOutcome, error) {
	if err := s.outsideTx(ctx, "RefundCard"); err != nil {
		return "", err
	}
	w, err := s.wallet(ctx, id)
	if err != nil {
		return "", err
	}
	plat, err := s.platform(ctx)
	if err != nil {
		return "", err
	}
	_, err = s.bank.Refund(ctx, bank.RefundRequest{Reference: reference, DebitReference: debitRef, Amount: amount, Currency: w.Currency})
	outcome, to, kind := CardRefunded, plat.Clearing, "card_refund"
	if err != nil {
		if !permanentBankRefusal(err) {
			return "", fmt.Errorf("refund %s to card: %w", reference, err)
		}
		outcome, to, kind = CardRefundedToBalance, w.CashAccount, "refund_to_balance"
	}
	_, err = s.ledger.Post(ctx, ledger.Transfer{Reference: reference, Kind: kind, Memo: "refund to card of " + debitRef,
		Postings: []ledger.Posting{{Source: plat.CardRefunds, Destination: to, Amount: amount}}}, nil)
	if err != nil {
		return "", fmt.Errorf("refund %s to card: book: %w", reference, err)
	}
	return outcome, nil
}

// permanentBankRefusal tells a refusal the bank will repeat (the refund can
// never reach the card) from an outage, where retrying is right. An
// idempotency conflict is not one: the bank has a refund under this
// reference, and paying the money out again elsewhere would pay it twice.
func permanentBankRefusal(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, paydesk.ErrIdempotencyConflict) {
		return false
	}
	k := paydesk.AsError(err).Kind
	return k == paydesk.KindUnprocessable || k == paydesk.KindInvalid
}
