package pos

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/merchant"
	"github.com/paydesk/paydesk/wallet"
)

// errStateMoved aborts a payment whose order changed state meanwhile (paid
// by someone else, closed by the closer): the transfer rolls back with it.
var errStateMoved = errors.New("pos: the order's state moved")

var feeAccount atomic.Int64

// feeAccountID returns the platform's fee account, which the merchant
// service opens with the first merchant.
func (s *Service) feeAccountID(ctx context.Context) (ledger.AccountID, error) {
	if id := feeAccount.Load(); id != 0 {
		return ledger.AccountID(id), nil
	}
	a, err := s.ledger.AccountByCode(ctx, merchant.PlatformFeeAccount)
	if err != nil {
		return 0, fmt.Errorf("find the platform fee account: %w", err)
	}
	feeAccount.Store(int64(a.ID))
	return a.ID, nil
}

// pay moves the money for o from wallet w: one ledger transfer that takes
// the funding from the wallet to the merchant and the fee to the platform,
// and, in the same transaction, marks the order paid (if it is still in one
// of the from states) and tells the observers.
func (s *Service) pay(ctx context.Context, o Order, w wallet.WalletID, from ...State) (Order, error) {
	m, err := s.merchants.Merchant(ctx, o.MerchantID)
	if err != nil {
		return o, err
	}
	fees, err := s.feeAccountID(ctx)
	if err != nil {
		return o, err
	}
	ref := fmt.Sprintf("order:%d:pay", o.ID)
	// FUNDING_CHANGED means another payment of the same wallet spent the
	// money this plan counted on; nothing moved, so plan again.
	for attempt := 0; ; attempt++ {
		p, err := s.wallets.PreparePayment(ctx, wallet.PaymentRequest{Wallet: w, Merchant: o.MerchantID, Amount: o.Amount, Reference: ref,
			To: wallet.MerchantAccounts{Pending: m.Accounts.Pending, Marketing: m.Accounts.Marketing}})
		if err != nil {
			return o, err
		}
		// Voucher and coupon money is the platform's marketing money, not
		// the merchant's cleared money: the fee is on cash and card only.
		fee := m.FeeRate.Of(p.Funding.Cash + p.Funding.Card)
		postings := p.Postings
		if fee > 0 {
			postings = append(postings, ledger.Posting{Source: m.Accounts.Pending, Destination: fees, Amount: fee})
		}
		paid := o
		paid.WalletID, paid.Funding, paid.Fee = w, p.Funding, fee
		if err := paid.moveTo(Paid, s.clock()); err != nil {
			return o, err
		}
		t, err := s.ledger.Post(ctx, ledger.Transfer{Reference: ref, Kind: "payment", Memo: o.OutTradeNo, Postings: postings}, func(ctx context.Context) error {
			if err := p.Work(ctx); err != nil {
				return err
			}
			ok, err := s.store.UpdateOrder(ctx, paid, from...)
			if err != nil {
				return err
			}
			if !ok {
				return errStateMoved
			}
			return s.notify(ctx, paid, ChangePaid)
		})
		err = p.Explain(err)
		switch {
		case errors.Is(err, wallet.ErrFundingChanged) && attempt < 3:
			continue
		case errors.Is(err, errStateMoved) || (err == nil && t.Replayed):
			return s.afterRace(ctx, o, w)
		case err != nil:
			return o, err
		}
		return paid, nil
	}
}

// afterRace explains a payment that found its order already changed.
func (s *Service) afterRace(ctx context.Context, o Order, w wallet.WalletID) (Order, error) {
	now, err := s.store.Order(ctx, o.MerchantID, o.ID)
	if err != nil {
		return o, err
	}
	switch {
	case now.State == Paid && now.WalletID == w:
		return now, nil // our own payment, recorded by an earlier try
	case now.State == Closed:
		return now, ErrOrderClosed
	case now.State == Created || now.State == Paying:
		return now, ErrPaymentInProgress
	}
	return now, ErrOrderAlreadyPaid
}

// collect pays o from w, or, above the wallet's no-password limit, parks it
// in PAYING until the payer confirms in the wallet app.
func (s *Service) collect(ctx context.Context, o Order, w wallet.WalletID, mayAskPayer bool) (Order, error) {
	if mayAskPayer {
		limit, err := s.wallets.NoPasswordLimit(ctx, w)
		if err != nil {
			return s.refuse(ctx, o, err)
		}
		if o.Amount > limit {
			return s.awaitPayer(ctx, o, w)
		}
	}
	paid, err := s.pay(ctx, o, w, Created)
	if err != nil {
		return s.refuse(ctx, paid, err)
	}
	return paid, nil
}

func (s *Service) awaitPayer(ctx context.Context, o Order, w wallet.WalletID) (Order, error) {
	now := s.clock()
	next := o
	next.WalletID, next.ExpiresAt = w, now.Add(s.cfg.ConfirmTimeout)
	if err := next.moveTo(Paying, now); err != nil {
		return o, err
	}
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		ok, err := s.store.UpdateOrder(ctx, next, Created)
		if err != nil {
			return err
		}
		if !ok {
			return errStateMoved
		}
		return s.notify(ctx, next, ChangePaying)
	})
	if errors.Is(err, errStateMoved) {
		return s.afterRace(ctx, o, w)
	}
	return next, err
}

// refuse closes a scan-code, dynamic-password or store-QR order whose
// payment was refused, recording why, so that a retry under the same
// out_trade_no gets the same answer. Errors that are not the payer's
// (an outage, a bug) leave the order open for the closer: the payment may
// yet be found to have happened.
func (s *Service) refuse(ctx context.Context, o Order, cause error) (Order, error) {
	e := paydesk.AsError(cause)
	switch e.Kind {
	case paydesk.KindInternal, paydesk.KindUnavailable:
		return o, cause
	}
	if o.State != Created {
		return o, cause
	}
	closed := o
	closed.CloseReason = e.Code
	if err := closed.moveTo(Closed, s.clock()); err != nil {
		return o, cause
	}
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		ok, err := s.store.UpdateOrder(ctx, closed, Created)
		if err != nil || !ok {
			return err
		}
		return s.notify(ctx, closed, ChangeClosed)
	})
	if err != nil {
		return o, errors.Join(cause, err)
	}
	return closed, cause
}

// close ends an unpaid order for reason, once: of the closer on two
// instances and a cashier pressing "close", exactly one does it.
func (s *Service) close(ctx context.Context, o Order, reason string) (Order, bool, error) {
	closed := o
	closed.CloseReason = reason
	if err := closed.moveTo(Closed, s.clock()); err != nil {
		return o, false, err
	}
	var done bool
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		ok, err := s.store.UpdateOrder(ctx, closed, Created, Paying)
		if err != nil || !ok {
			return err
		}
		done = true
		return s.notify(ctx, closed, ChangeClosed)
	})
	return closed, done, err
}
