package pos

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/merchant"
	"github.com/paydesk/paydesk/wallet"
)

// errStateMoved aborts a payment whose order changed state meanwhile (paid
// by someone else, closed by the closer): the transfer rolls back with it.
var errStateMoved = errors.New("pos: the order's state moved")

// feeAccountID returns the platform's fee account, from the ledger's
// chart of platform accounts.
func (s *Service) feeAccountID(ctx context.Context, currency paydesk.Currency) (ledger.AccountID, error) {
	p, err := s.ledger.Platform(ctx, currency)
	if err != nil {
		return 0, fmt.Errorf("find the platform fee account: %w", err)
	}
	return p.Fees, nil
}

// PaymentReference is the ledger reference of an order's payment. It is
// made of the merchant and the out_trade_no, not the order id, so that it
// exists before the order row does and two racing copies of one request
// post one transfer between them.
func PaymentReference(o Order) string {
	return fmt.Sprintf("pay:%d:%s", o.MerchantID, o.OutTradeNo)
}

// pay moves the money for o from wallet w: one ledger transfer that takes
// the funding from the wallet to the merchant and the fee to the platform,
// and in the same transaction writes the order: a new order (no from
// states) is inserted as PAID, an existing one is marked PAID if it is still in one of
// the from states. The payment code the payer showed, if any (use), is
// spent in that transaction too, and the observers run in it.
func (s *Service) pay(ctx context.Context, o Order, m merchant.Merchant, w wallet.WalletID, use *wallet.CodeUse, from ...State) (Order, error) {
	fees, err := s.feeAccountID(ctx, m.Currency)
	if err != nil {
		return o, err
	}
	if s.cfg.Payable != nil {
		if err := s.cfg.Payable(ctx, m, w); err != nil {
			return o, err
		}
	}
	ref := PaymentReference(o)
	// FUNDING_CHANGED means another payment of the same wallet spent the
	// money this plan counted on; nothing moved, so plan again. The card
	// debits of the plans (each plan's shortfall, booked into the wallet's
	// cash) are kept: if every attempt loses, they go back to the card.
	var charged []wallet.Funding
	for attempt := 0; ; attempt++ {
		p, err := s.wallets.PreparePayment(ctx, wallet.PaymentRequest{Wallet: w, Merchant: o.MerchantID, Amount: o.Amount, Reference: ref,
			To: wallet.MerchantAccounts{Pending: m.Accounts.Pending, Marketing: m.Accounts.Marketing}, Code: use})
		if err != nil && len(charged) > 0 {
			// A later plan failed (the card declined a new shortfall): the
			// payment does not happen, and the earlier plans' card money
			// goes back to the card.
			return o, errors.Join(err, s.returnShortfalls(ctx, w, charged))
		}
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
		var written Order
		t, err := s.ledger.Post(ctx, ledger.Transfer{Reference: ref, Kind: "payment", Memo: o.OutTradeNo, Postings: postings}, func(ctx context.Context) error {
			// The work may run more than once if its batch is retried:
			// start from the same order every time.
			written = paid
			if err := s.writeOrder(ctx, &written, from); err != nil {
				return err
			}
			if use != nil {
				if err := s.wallets.SpendCode(ctx, *use); err != nil {
					return err
				}
			}
			if err := p.Work(ctx); err != nil {
				return err
			}
			return s.notify(ctx, written, ChangePaid)
		})
		err = p.Explain(err)
		if p.Funding.Card > 0 && !slices.ContainsFunc(charged, func(f wallet.Funding) bool { return f.CardDebit == p.Funding.CardDebit }) {
			charged = append(charged, p.Funding)
		}
		switch {
		case errors.Is(err, wallet.ErrFundingChanged) && attempt < 3:
			continue
		case errors.Is(err, wallet.ErrFundingChanged):
			// The wallet kept changing under every plan: the payment did not
			// happen, so card money charged for it must not stay parked in
			// the wallet's cash. A retry of the order charges the card anew.
			return o, errors.Join(err, s.returnShortfalls(ctx, w, charged))
		// IDEMPOTENCY_CONFLICT on the payment's reference: another payer's
		// transfer for this order committed first (the reference is the
		// order's, not the payer's), which is a race lost like the others.
		case errors.Is(err, errStateMoved) || paydeskIs(err, ErrDuplicateOrder) || paydeskIs(err, paydesk.ErrIdempotencyConflict) || (err == nil && t.Replayed):
			now, err := s.afterRace(ctx, o, w)
			final := now.State == Closed || now.State == Paid && now.WalletID != w
			if err != nil && final && len(charged) > 0 {
				// Another payer, or the closer, won the order while the card
				// was charged for it: the card money goes back to the card.
				if rerr := s.returnShortfalls(ctx, w, charged); rerr != nil {
					return now, errors.Join(err, rerr)
				}
			}
			return now, err
		case err != nil:
			return o, err
		}
		return written, nil
	}
}

// returnShortfalls gives the card debits of a payment that did not happen
// back to the card (what is still in the wallet's cash of each).
func (s *Service) returnShortfalls(ctx context.Context, w wallet.WalletID, charged []wallet.Funding) error {
	var errs []error
	for _, f := range charged {
		errs = append(errs, s.wallets.ReturnShortfall(ctx, w, f))
	}
	return errors.Join(errs...)
}

// writeOrder inserts a new order (no from states) or moves an existing one
// from one of the from states, inside the payment's transaction.
func (s *Service) writeOrder(ctx context.Context, o *Order, from []State) error {
	if len(from) == 0 {
		return s.store.CreateOrder(ctx, o)
	}
	ok, err := s.store.UpdateOrder(ctx, *o, from...)
	if err != nil {
		return err
	}
	if !ok {
		return errStateMoved
	}
	return nil
}

// afterRace explains a payment that found its order already written by
// another request: a retry of the same payment, or a different payer.
func (s *Service) afterRace(ctx context.Context, o Order, w wallet.WalletID) (Order, error) {
	now, err := s.store.OrderByOutTradeNo(ctx, o.MerchantID, o.OutTradeNo)
	if err != nil {
		return o, err
	}
	req, cred := sameRequest(now.RequestDigest, o.RequestDigest)
	switch {
	case req && refused(now) && !cred:
		return Order{}, ErrPaymentInProgress // another attempt under the number was refused meanwhile
	case !req || !cred:
		return Order{}, errOutTradeNoUsed(o.OutTradeNo)
	}
	switch {
	case now.State == Paid && now.WalletID == w:
		return now, nil // our own payment, recorded by an earlier try
	case now.State == Closed:
		return replayOr(now, ErrOrderClosed)
	case now.State == Created || now.State == Paying:
		return now, ErrPaymentInProgress
	}
	return now, ErrOrderAlreadyPaid
}

// replayOr gives the refusal that closed o, or err if it closed otherwise.
func replayOr(o Order, err error) (Order, error) {
	if r, rerr := replay(o); rerr != nil {
		return r, rerr
	}
	return o, err
}

// collect pays a new order o from w. When the payer showed a payment code
// (use), the code is spent in the payment's own transaction, so the order,
// the code's use and the money commit together, and above the wallet's
// no-password limit the order waits as PAYING until the payer confirms in
// the wallet app.
//
// from is empty for a new order, or the states a refused order is retried
// from (see admit).
func (s *Service) collect(ctx context.Context, o Order, m merchant.Merchant, w wallet.WalletID, use *wallet.CodeUse, from ...State) (Order, error) {
	if use != nil && o.Amount > use.NoPasswordLimit {
		return s.awaitPayer(ctx, o, w, *use, from)
	}
	paid, err := s.pay(ctx, o, m, w, use, from...)
	if err != nil && paid.State == Created {
		return s.refuse(ctx, o, err, from...)
	}
	return paid, err
}

// awaitPayer records a new order as PAYING, spending the code with it.
func (s *Service) awaitPayer(ctx context.Context, o Order, w wallet.WalletID, use wallet.CodeUse, from []State) (Order, error) {
	now := s.clock()
	next := o
	next.WalletID, next.ExpiresAt = w, now.Add(s.cfg.ConfirmTimeout)
	if err := next.moveTo(Paying, now); err != nil {
		return o, err
	}
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.writeOrder(ctx, &next, from); err != nil {
			return err
		}
		if err := s.wallets.SpendCode(ctx, use); err != nil {
			return err
		}
		return s.notify(ctx, next, ChangePaying)
	})
	switch {
	case paydeskIs(err, ErrDuplicateOrder) || errors.Is(err, errStateMoved):
		return s.afterRace(ctx, o, w)
	case err != nil:
		return s.refuse(ctx, o, err)
	}
	return next, nil
}

// refuse records a new order that was refused (insufficient funds, a used
// code, ...) as CLOSED with the refusal's code; the same request under its
// out_trade_no may then be tried again (see admit). Errors that are not the payer's
// (an outage, a bug) record nothing: the request may simply be retried.
func (s *Service) refuse(ctx context.Context, o Order, cause error, from ...State) (Order, error) {
	e := paydesk.AsError(cause)
	if e.Kind == paydesk.KindInternal || e.Kind == paydesk.KindUnavailable || o.State != Created {
		return o, cause
	}
	closed := o
	closed.CloseReason = e.Code
	if err := closed.moveTo(Closed, s.clock()); err != nil {
		return o, cause
	}
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.writeOrder(ctx, &closed, from); err != nil {
			return err
		}
		return s.notify(ctx, closed, ChangeClosed)
	})
	if paydeskIs(err, ErrDuplicateOrder) || errors.Is(err, errStateMoved) {
		return s.afterRace(ctx, o, 0)
	}
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
		done = false
		ok, err := s.store.UpdateOrder(ctx, closed, Created, Paying)
		if err != nil || !ok {
			return err
		}
		done = true
		return s.notify(ctx, closed, ChangeClosed)
	})
	return closed, done, err
}
