package wallet

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/ledger"
)

// PaymentRequest is a payment a merchant takes from a wallet.
type PaymentRequest struct {
	Wallet   WalletID
	Merchant int64
	Amount   paydesk.Amount
	// Reference is the payment's own unique reference, the one the POS
	// posts its ledger transfer under (e.g. "order:1234"). The card debit
	// for a shortfall is named after it, so a retried payment never charges
	// the card twice, and the vouchers it spends record it.
	Reference string
	// To are the merchant's accounts that receive the money.
	To MerchantAccounts
	// Code, when the payer showed a payment code, is its use: the wallet
	// read to verify it is taken as the payer's, saving a read. The
	// funding is still planned from fresh balances. When the payment needs
	// the card, PreparePayment spends the code before charging it and
	// marks *Code so, and the SpendCode in the payment's transaction is then
	// a no-op.
	Code *CodeUse
}

// Payment is a planned, card-covered payment, ready to post.
//
// The POS posts Postings (plus its own, such as the fee) in ONE ledger
// transfer under the request's Reference, passing Work (chained with its
// own order update) as the transfer's work:
//
//	p, err := wallets.PreparePayment(ctx, req)
//	t := ledger.Transfer{Reference: req.Reference, Kind: "payment", Postings: append(p.Postings, fee)}
//	_, err = l.Post(ctx, t, func(ctx context.Context) error {
//		if err := p.Work(ctx); err != nil { return err }
//		return orders.MarkPaid(ctx, order, p.Funding)
//	})
//	err = p.Explain(err)
//
// If that post fails with FUNDING_CHANGED, another payment spent the same
// money first: nothing moved, and PreparePayment again plans on what is
// left (any card shortfall already debited waits in the wallet's cash).
type Payment struct {
	Funding  Funding
	Postings []ledger.Posting
	// Work marks the vouchers used and draws down the coupons, guarded so
	// that two payments can never spend the same voucher or coupon money.
	Work ledger.Work

	wallet []ledger.AccountID // the wallet's cash and coupon accounts
}

// Explain puts the error of posting the payment in the wallet's terms. The
// ledger checks balances before it runs Work, so a race lost on cash or
// coupon money surfaces as *ledger.InsufficientFunds on a wallet account;
// that is FUNDING_CHANGED, like a race lost on a voucher. Other errors, and
// nil, pass unchanged.
func (p Payment) Explain(err error) error {
	var short *ledger.InsufficientFunds
	if errors.As(err, &short) && slices.Contains(p.wallet, short.Account) {
		return fmt.Errorf("%w: %v", ErrFundingChanged, err)
	}
	return err
}

// PlanFunding shows how the wallet would pay amount at merchant now,
// without moving anything: for the customer's confirmation screen.
func (s *Service) PlanFunding(ctx context.Context, id WalletID, merchant int64, amount paydesk.Amount) (Funding, error) {
	w, err := s.wallet(ctx, id)
	if err != nil {
		return Funding{}, err
	}
	return s.plan(ctx, w, merchant, amount)
}

func (s *Service) plan(ctx context.Context, w Wallet, merchant int64, amount paydesk.Amount) (Funding, error) {
	now := s.clock()
	// A wallet whose vouchers have all expired (most never had one) is not
	// asked for them: one query fewer on every payment.
	var vs []Voucher
	if w.VouchersUntil.After(now) {
		var err error
		if vs, err = s.store.ActiveVouchers(ctx, w.ID, now); err != nil {
			return Funding{}, fmt.Errorf("plan funding: %w", err)
		}
	}
	bal, err := s.balances(ctx, w)
	if err != nil {
		return Funding{}, fmt.Errorf("plan funding: %w", err)
	}
	// The coupon account holds what the wallet's coupons have left: when it
	// is empty, no coupon can pay and most payments skip reading them.
	var cs []Coupon
	if bal[w.CouponAccount] > 0 {
		if cs, err = s.store.LiveCoupons(ctx, w.ID, now); err != nil {
			return Funding{}, fmt.Errorf("plan funding: %w", err)
		}
	}
	f, err := Plan(amount, merchant, now, Funds{Vouchers: vs, Coupons: cs, Cash: bal[w.CashAccount], HasCard: w.Card != nil})
	if err != nil {
		return Funding{}, err
	}
	f.Currency = w.Currency
	return f, nil
}

// balances returns the balances of w's cash and coupon accounts: those read
// with w if it was read with them, else the ledger's.
func (s *Service) balances(ctx context.Context, w Wallet) (map[ledger.AccountID]paydesk.Amount, error) {
	if b := w.balances; b != nil {
		return map[ledger.AccountID]paydesk.Amount{w.CashAccount: b.cash, w.CouponAccount: b.coupon}, nil
	}
	return s.ledger.Balances(ctx, w.CashAccount, w.CouponAccount)
}

// payer returns the wallet req pays from: the one read to verify its
// payment code, or else a fresh read.
func (s *Service) payer(ctx context.Context, req PaymentRequest) (Wallet, error) {
	if c := req.Code; c != nil && c.Wallet == req.Wallet && c.payer.ID == req.Wallet {
		w := c.payer
		// The balances read with the code plan one payment: planning again
		// (FUNDING_CHANGED, after a card debit) needs the ledger's own.
		c.payer.balances = nil
		return w, nil
	}
	return s.wallet(ctx, req.Wallet)
}

// freshDebitReference returns ref, or ref with a generation number after
// it: the first whose card money is not booked yet. Reusing a booked ref
// would only replay it (the bank answers the first debit, the ledger the
// first top-up) and add nothing to the cash, while a plan that needs card
// money now needs a new debit: the booked one was spent by another payment
// or went back to the card (ReturnShortfall). A ref the bank debited but
// the ledger never booked (a crash between the two) is reused, and the
// retry books it once. It reads only on the card path.
func (s *Service) freshDebitReference(ctx context.Context, ref string) (string, error) {
	for gen := 1; gen <= maxDebitGenerations; gen++ {
		candidate := ref
		if gen > 1 {
			candidate = fmt.Sprintf("%s:%d", ref, gen)
		}
		_, err := s.ledger.TransferByReference(ctx, candidate)
		switch {
		case paydesk.ErrorCode(err) == paydesk.ErrNotFound.Code:
			return candidate, nil
		case err != nil:
			return "", err
		}
	}
	return "", ErrFundingChanged.WithMessage("the card paid the shortfall of this payment %d times already: start a new payment", maxDebitGenerations)
}

// maxDebitGenerations bounds how often one payment may charge the card
// again after its shortfall went back.
const maxDebitGenerations = 20

// PreparePayment plans how the wallet pays, debits the bound card for any
// shortfall (booked into the wallet's cash at once, so the money is never
// lost even if the payment then fails), and returns the payment's postings
// and Work for the POS to post. Without a card and with too little money it
// fails with INSUFFICIENT_FUNDS; a declined card fails with the bank's code;
// either way nothing moves. It talks to the bank, so it must not run inside
// a transaction.
func (s *Service) PreparePayment(ctx context.Context, req PaymentRequest) (Payment, error) {
	if err := s.outsideTx(ctx, "PreparePayment"); err != nil {
		return Payment{}, err
	}
	if err := checkReference(req.Reference); err != nil {
		return Payment{}, err
	}
	if req.To.Pending == 0 || req.To.Marketing == 0 {
		return Payment{}, paydesk.ErrInvalid.WithMessage("a payment needs the merchant's pending and marketing accounts")
	}
	w, err := s.payer(ctx, req)
	if err != nil {
		return Payment{}, err
	}
	f, err := s.plan(ctx, w, req.Merchant, req.Amount)
	if err != nil {
		return Payment{}, fmt.Errorf("payment %s: %w", req.Reference, err)
	}
	if f.Card > 0 {
		// The card is charged only for a code that will pay: its single use
		// is claimed (committed) first, so of many cashiers presenting one
		// code at once exactly one gets to the card, and the others are
		// PAYMENT_CODE_USED with nothing charged. A look that only reads
		// would let them all through to the bank.
		if c := req.Code; c != nil && !c.claimed {
			if err := s.SpendCode(ctx, *c); err != nil {
				return Payment{}, err
			}
			c.claimed = true
		}
		// The amount is part of the name: if the shortfall differs on a retry
		// (the wallet changed meanwhile), that is a new debit, not a conflict.
		ref, err := s.freshDebitReference(ctx, fmt.Sprintf("wallet:%d:autotopup:%s:%d", w.ID, req.Reference, f.Card))
		if err != nil {
			return Payment{}, fmt.Errorf("payment %s: card shortfall: %w", req.Reference, err)
		}
		if _, _, err := s.cardToCash(ctx, w, f.Card, ref, "card shortfall of payment "+req.Reference); err != nil {
			return Payment{}, fmt.Errorf("payment %s: card shortfall: %w", req.Reference, err)
		}
		f.CardDebit = ref
	}

	var ps []ledger.Posting
	if paid := f.Cash + f.Card; paid > 0 {
		ps = append(ps, ledger.Posting{Source: w.CashAccount, Destination: req.To.Pending, Amount: paid})
	}
	if f.Voucher > 0 {
		plat, err := s.platform(ctx)
		if err != nil {
			return Payment{}, err
		}
		ps = append(ps, ledger.Posting{Source: plat.Marketing, Destination: req.To.Marketing, Amount: f.Voucher})
	}
	if f.Coupon > 0 {
		ps = append(ps, ledger.Posting{Source: w.CouponAccount, Destination: req.To.Marketing, Amount: f.Coupon})
	}
	return Payment{Funding: f, Postings: ps, Work: s.spendWork(w.ID, req.Reference, f), wallet: []ledger.AccountID{w.CashAccount, w.CouponAccount}}, nil
}

// spendWork returns the Work that spends f's vouchers and coupons inside the
// payment's transaction. Each update is conditional (an active voucher; a
// coupon with enough left, both unexpired), so of two payments racing for
// the same voucher or coupon money exactly one commits.
func (s *Service) spendWork(id WalletID, ref string, f Funding) ledger.Work {
	return func(ctx context.Context) error {
		now := s.clock()
		for _, v := range f.Vouchers {
			ok, err := s.store.SpendVoucher(ctx, id, v.ID, ref, now)
			if err != nil {
				return fmt.Errorf("spend voucher %d: %w", v.ID, err)
			}
			if !ok {
				return ErrFundingChanged.WithMessage("voucher %d is no longer usable", v.ID)
			}
		}
		for _, c := range f.Coupons {
			ok, err := s.store.SpendCoupon(ctx, id, c.ID, c.Amount, now)
			if err != nil {
				return fmt.Errorf("spend coupon %d: %w", c.ID, err)
			}
			if !ok {
				return ErrFundingChanged.WithMessage("coupon %d no longer has %s left", c.ID, c.Amount)
			}
		}
		return nil
	}
}
