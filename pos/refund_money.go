package pos

import (
	"context"
	"errors"
	"log/slog"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/merchant"
	"github.com/paydesk/paydesk/wallet"
)

// moneyBack is one refund or void on its way.
type moneyBack struct {
	no     string
	kind   RefundKind
	amount paydesk.Amount
	reason string
	// check refuses an order this refund may not touch. It runs on the
	// locked order, after the idempotency check, so a retry of a refund
	// that emptied the order still gets its refund back.
	check func(ctx context.Context, o Order) error
}

// giveBack carries out a refund in one transaction that first locks the
// order row. Every refund of an order, and its void, takes that lock, so
// they run one at a time per order on both databases (SQLite's single
// writer, MySQL's row lock) and each sees what the one before it refunded:
// the sum can never pass the amount paid. The ledger accounts are then
// locked in id order, as every ledger batch locks them, so the merchant's
// balances the plan is made on cannot change before it is posted.
//
// The card's share is sent to the bank after the commit (a bank call never
// runs inside a transaction); see finishCardRefund.
func (s *Service) giveBack(ctx context.Context, c cashier.Actor, orderID int64, mb moneyBack) (Refund, Order, error) {
	m, err := s.merchants.Merchant(ctx, c.MerchantID)
	if err != nil {
		return Refund{}, Order{}, err
	}
	fees, err := s.feeAccountID(ctx, m.Currency)
	if err != nil {
		return Refund{}, Order{}, err
	}
	var r Refund
	var after Order
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		o, err := s.store.LockOrder(ctx, c.MerchantID, orderID)
		if err != nil {
			return err
		}
		if !visibleTo(c, o) {
			return ErrOrderNotFound
		}
		prev, found, err := s.store.RefundByNo(ctx, o.ID, mb.no)
		if err != nil {
			return err
		}
		if found {
			if prev.Amount != mb.amount || prev.Kind != mb.kind {
				return paydesk.ErrIdempotencyConflict.WithMessage("refund_no %s of order %d was used for a refund of %s", mb.no, o.ID, prev.Amount)
			}
			prev.Replayed = true
			r, after = prev, o
			return nil
		}
		if err := mb.check(ctx, o); err != nil {
			return err
		}
		r, after, err = s.refundLocked(ctx, c, m, fees, o, mb)
		return err
	})
	if err != nil {
		return Refund{}, Order{}, err
	}
	if r.CardState == CardPending {
		r = s.finishCardRefund(ctx, after, r)
	}
	return r, after, nil
}

// refundLocked moves the money of a refund of the locked order o and
// records it, inside the transaction in ctx.
func (s *Service) refundLocked(ctx context.Context, c cashier.Actor, m merchant.Merchant, fees ledger.AccountID, o Order, mb moneyBack) (Refund, Order, error) {
	prep, err := s.wallets.PrepareRefund(ctx, wallet.RefundRequest{Wallet: o.WalletID, PaymentReference: PaymentReference(o),
		Funding: o.Funding, Before: o.Refunded, Amount: mb.amount})
	if err != nil {
		return Refund{}, Order{}, err
	}
	feeBack := feeShare(o, o.Refunded, o.Refunded+mb.amount)
	acc := m.Accounts
	lock := []ledger.AccountID{acc.Pending, acc.Available, acc.Marketing}
	if feeBack > 0 {
		lock = append(lock, fees)
	}
	sp := prep.Split
	for _, leg := range []struct {
		id  ledger.AccountID
		amt paydesk.Amount
	}{{prep.To.Card, sp.Card}, {prep.To.Cash, sp.Cash}, {prep.To.Coupon, sp.Coupon}, {prep.To.Voucher, sp.Voucher}} {
		if leg.amt > 0 {
			lock = append(lock, leg.id)
		}
	}
	// All of the transfer's accounts in one sorted lock, as a batch takes them.
	bal, err := s.ledger.Lock(ctx, lock...)
	if err != nil {
		return Refund{}, Order{}, err
	}
	plan, err := planRefund(sp, prep.To, feeBack, acc, fees, bal)
	if err != nil {
		return Refund{}, Order{}, err
	}

	now := s.clock()
	next := o
	next.Refunded += mb.amount
	to := PartiallyRefunded
	switch {
	case mb.kind == KindVoid:
		to = Revoked
	case next.Refunded == o.Amount:
		to = Refunded
	}
	if err := next.moveTo(to, now); err != nil {
		return Refund{}, Order{}, err
	}
	_, err = s.ledger.Post(ctx, ledger.Transfer{Reference: refundReference(o, mb.no), Kind: string(mb.kind), Memo: o.OutTradeNo, Postings: plan.postings}, nil)
	if errors.Is(err, ledger.ErrInsufficientFunds) {
		// The accounts were locked and the plan fit them: only a bug lands here.
		return Refund{}, Order{}, ErrMerchantInsufficientBalance.WithMessage("refund of order %d: %v", o.ID, err)
	}
	if err != nil {
		return Refund{}, Order{}, err
	}
	if err := prep.Work(ctx); err != nil {
		return Refund{}, Order{}, err
	}
	r := Refund{MerchantID: o.MerchantID, StoreID: o.StoreID, CashierID: o.CashierID, OrderID: o.ID, RefundNo: mb.no, Kind: mb.kind,
		Amount: mb.amount, Currency: o.Currency, Reason: mb.reason, ToCard: sp.Card, ToCash: sp.Cash, ToCoupon: sp.Coupon, ToVoucher: sp.Voucher,
		FeeReturned: feeBack, FromMarketing: plan.fromMarketing, FromPending: plan.fromPending, FromAvailable: plan.fromAvailable,
		RefundedBy: c.StaffID, CreatedAt: now, UpdatedAt: now}
	if sp.Card > 0 {
		r.CardState = CardPending
	}
	if err := s.store.CreateRefund(ctx, &r); err != nil {
		return Refund{}, Order{}, err
	}
	ok, err := s.store.AddRefunded(ctx, next, mb.amount)
	if err != nil {
		return Refund{}, Order{}, err
	}
	if !ok {
		return Refund{}, Order{}, errRefundRaced
	}
	if err := s.notifyRefund(ctx, next, r); err != nil {
		return Refund{}, Order{}, err
	}
	return r, next, nil
}

// errRefundRaced means the conditional update of a locked order failed: a
// bug or a lock that did not hold, and the refund rolls back.
var errRefundRaced = paydesk.ErrInternal.WithMessage("the order changed under a refund that held its lock")

// feeShare is the fee to return with a refund that takes the order's
// refunded total from before to after. The fee was charged on the card
// and cash money (marketing money carries none), which a refund gives
// back first; each refund returns the difference of the fee's cumulative
// share, rounded half up, so the fee returns in full with the last cent and
// the refunds of a fee never add up to more than the fee.
func feeShare(o Order, before, after paydesk.Amount) paydesk.Amount {
	cleared := o.Funding.Card + o.Funding.Cash
	if o.Fee <= 0 || cleared <= 0 {
		return 0
	}
	at := func(r paydesk.Amount) paydesk.Amount {
		return paydesk.ProRata(o.Fee, int64(min(r, cleared)), int64(cleared))
	}
	return at(after) - at(before)
}

type refundPlan struct {
	postings                                  []ledger.Posting
	fromMarketing, fromPending, fromAvailable paydesk.Amount
}

// planRefund decides where the merchant's side of a refund comes from,
// given the locked balances: the voucher and coupon share from the
// merchant's marketing account (where the payment put it) as far as it
// holds, then everything else from pending (which first gets the returned
// fee back) and what pending cannot cover from available. If available
// cannot cover the rest either, the refund fails and nothing moves.
func planRefund(sp wallet.RefundSplit, to wallet.RefundDestinations, feeBack paydesk.Amount, acc merchant.Accounts, fees ledger.AccountID,
	bal map[ledger.AccountID]ledger.Account) (refundPlan, error) {
	var p refundPlan
	p.fromMarketing = min(sp.Coupon+sp.Voucher, max(bal[acc.Marketing].Balance, 0))
	rest := sp.Amount - p.fromMarketing
	p.fromPending = min(rest, max(bal[acc.Pending].Balance+feeBack, 0))
	p.fromAvailable = rest - p.fromPending
	if avail := bal[acc.Available].Balance; p.fromAvailable > avail {
		return refundPlan{}, ErrMerchantInsufficientBalance.WithMessage("the refund needs %s from the available balance, which has %s", p.fromAvailable, avail)
	}
	if feeBack > 0 {
		p.postings = append(p.postings, ledger.Posting{Source: fees, Destination: acc.Pending, Amount: feeBack})
	}
	type leg struct {
		id  ledger.AccountID
		amt paydesk.Amount
	}
	sources := []leg{{acc.Marketing, p.fromMarketing}, {acc.Pending, p.fromPending}, {acc.Available, p.fromAvailable}}
	dests := []leg{{to.Voucher, sp.Voucher}, {to.Coupon, sp.Coupon}, {to.Cash, sp.Cash}, {to.Card, sp.Card}}
	for i, j := 0, 0; i < len(sources) && j < len(dests); {
		switch {
		case sources[i].amt == 0:
			i++
		case dests[j].amt == 0:
			j++
		default:
			n := min(sources[i].amt, dests[j].amt)
			p.postings = append(p.postings, ledger.Posting{Source: sources[i].id, Destination: dests[j].id, Amount: n})
			sources[i].amt -= n
			dests[j].amt -= n
		}
	}
	return p, nil
}

// finishCardRefund sends the card's share of r to the bank and records the
// outcome. A bank that does not answer leaves the refund PENDING, to be
// finished by a retry of the same refund_no or by RetryCardRefunds; the
// merchant's side is done either way.
func (s *Service) finishCardRefund(ctx context.Context, o Order, r Refund) Refund {
	out, err := s.wallets.RefundCard(ctx, o.WalletID, refundReference(o, r.RefundNo)+":card", o.Funding.CardDebit, r.ToCard)
	if err != nil {
		slog.WarnContext(ctx, "card refund pending", "order", o.ID, "refund_no", r.RefundNo, "error", err)
		return r
	}
	state := CardDone
	if out == wallet.CardRefundedToBalance {
		state = CardToBalance
	}
	if err := s.store.SetCardState(ctx, r.ID, state, s.clock()); err != nil {
		slog.WarnContext(ctx, "card refund done but not recorded", "order", o.ID, "refund_no", r.RefundNo, "error", err)
		return r
	}
	r.CardState = state
	return r
}

// RetryCardRefunds finishes the card shares that the bank has not yet
// confirmed (it was down when they were refunded). Run by a ticker; safe
// on several instances at once, because the bank and the ledger are both
// idempotent by the refund's reference. It returns how many it finished.
func (s *Service) RetryCardRefunds(ctx context.Context) (int, error) {
	pending, err := s.store.PendingCardRefunds(ctx, 100)
	if err != nil {
		return 0, err
	}
	done := 0
	for _, r := range pending {
		o, err := s.store.Order(ctx, r.MerchantID, r.OrderID)
		if err != nil {
			return done, err
		}
		if s.finishCardRefund(ctx, o, r).CardState != CardPending {
			done++
		}
	}
	return done, nil
}
