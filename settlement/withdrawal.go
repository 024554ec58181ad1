package settlement

import (
	"context"
	"errors"
	"fmt"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/merchant"
	"github.com/paydesk/paydesk/rbac"
)

// Withdraw pays amount of the merchant's available balance to its bound
// bank account (一键提现): owners only. The amount and the fee are taken
// from available at once (the amount into frozen), the payout goes to the
// bank, and the answer is the withdrawal, SUBMITTED (or already PAID or
// FAILED if the bank answered at once). requestNo makes it idempotent: the
// same number with the same amount is the same withdrawal, with another
// amount IDEMPOTENCY_CONFLICT.
//
// The money of a FAILED batch is in available, reserved for the batch's
// retry. A withdrawal takes the unreserved part first; should it need
// more, it takes the owner's reserved money out explicitly: the FAILED
// batches it dips into, oldest first, are closed as SETTLED ("withdrawn by
// the owner"), so they are never retried and their reason stays true.
func (s *Service) Withdraw(ctx context.Context, actor cashier.Actor, requestNo string, amount paydesk.Amount) (Withdrawal, error) {
	if actor.Role != rbac.Owner {
		return Withdrawal{}, paydesk.ErrForbidden.WithMessage("only an owner may withdraw")
	}
	if err := validRequestNo(requestNo); err != nil {
		return Withdrawal{}, err
	}
	if err := amount.ValidPayment(); err != nil {
		return Withdrawal{}, err
	}
	if w, err := s.store.WithdrawalByRequestNo(ctx, actor.MerchantID, requestNo); err == nil {
		return sameWithdrawal(w, amount)
	} else if !errors.Is(err, ErrWithdrawalNotFound) {
		return Withdrawal{}, err
	}
	if amount < s.cfg.WithdrawalMin {
		return Withdrawal{}, ErrBelowMinimum.WithMessage("the smallest withdrawal is %s", s.cfg.WithdrawalMin)
	}
	m, err := s.merchants.Merchant(ctx, actor.MerchantID)
	if err != nil {
		return Withdrawal{}, err
	}
	var a Attempt
	var id int64
	tx := func(ctx context.Context) error {
		now := s.clock()
		// Every withdrawal of the merchant locks this row first, so the
		// daily limit is checked by one of them at a time.
		acct, err := s.store.LockBankAccount(ctx, m.ID)
		if err != nil {
			return err
		}
		day := s.calendar(m).DayOf(now)
		used, err := s.store.WithdrawnOn(ctx, m.ID, day)
		if err != nil {
			return err
		}
		if left := s.cfg.WithdrawalDailyLimit - used; amount > left {
			return ErrDailyLimit.WithMessage("%s is left of today's withdrawal limit of %s", max(left, 0), s.cfg.WithdrawalDailyLimit)
		}
		w, err := s.store.CreateWithdrawal(ctx, Withdrawal{MerchantID: m.ID, RequestNo: requestNo, Amount: amount, Fee: s.cfg.WithdrawalFee,
			Currency: m.Currency, StaffID: actor.StaffID, Payout: Payout{State: AwaitingPayment, CreatedAt: now, UpdatedAt: now}}, day)
		if err != nil {
			return err
		}
		id = w.ID
		if err := s.releaseFailed(ctx, m, w); err != nil {
			return err
		}
		a, err = s.startAttempt(ctx, withdrawalSubject(w), AwaitingPayment, m.Accounts.Available, m, acct)
		return err
	}
	// A FAILED batch retried while we settled it: look again.
	for range 3 {
		if err = s.store.InTx(ctx, tx); !errors.Is(err, errChanged) {
			break
		}
	}
	if errors.Is(err, errDuplicateRequest) {
		// The same request_no raced us and won: answer as its retry.
		w, rerr := s.store.WithdrawalByRequestNo(ctx, actor.MerchantID, requestNo)
		if rerr != nil {
			return Withdrawal{}, errors.Join(err, rerr)
		}
		return sameWithdrawal(w, amount)
	}
	if err != nil {
		return Withdrawal{}, err
	}
	if err := s.send(ctx, a); err != nil {
		s.log.Error("submit withdrawal payout", "reference", a.Reference, "error", err)
	}
	return s.store.Withdrawal(ctx, 0, id)
}

func sameWithdrawal(w Withdrawal, amount paydesk.Amount) (Withdrawal, error) {
	if w.Amount != amount {
		return Withdrawal{}, paydesk.ErrIdempotencyConflict.WithMessage("request_no %s was used for a withdrawal of %s", w.RequestNo, w.Amount)
	}
	return w, nil
}

func validRequestNo(s string) error {
	if len(s) == 0 || len(s) > 64 {
		return ErrInvalidRequestNo
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return ErrInvalidRequestNo
		}
	}
	return nil
}

// Withdrawal returns one of the merchant's withdrawals.
func (s *Service) Withdrawal(ctx context.Context, merchantID, id int64) (Withdrawal, error) {
	return s.store.Withdrawal(ctx, merchantID, id)
}

// Withdrawals lists the merchant's withdrawals, newest first, limit at a
// time after cursor (the last id of the previous page; 0 for the first).
// next is the cursor of the following page, 0 at the end.
func (s *Service) Withdrawals(ctx context.Context, merchantID, cursor int64, limit int) (ws []Withdrawal, next int64, err error) {
	limit = pageLimit(limit)
	if ws, err = s.store.Withdrawals(ctx, merchantID, cursor, limit+1); err != nil {
		return nil, 0, err
	}
	if len(ws) > limit {
		ws, next = ws[:limit], ws[limit-1].ID
	}
	return ws, next, nil
}

// Batch returns one of the merchant's settlement batches.
func (s *Service) Batch(ctx context.Context, merchantID, id int64) (Batch, error) {
	return s.store.Batch(ctx, merchantID, id)
}

// BatchByID returns a batch of any merchant, for the operator.
func (s *Service) BatchByID(ctx context.Context, id int64) (Batch, error) {
	return s.store.Batch(ctx, 0, id)
}

// Batches lists the merchant's settlement batches, newest business day
// first, paged like Withdrawals.
func (s *Service) Batches(ctx context.Context, merchantID, cursor int64, limit int) (bs []Batch, next int64, err error) {
	limit = pageLimit(limit)
	// Batches are cut in day order, so id order is business-day order.
	if bs, err = s.store.Batches(ctx, merchantID, cursor, limit+1); err != nil {
		return nil, 0, err
	}
	if len(bs) > limit {
		bs, next = bs[:limit], bs[limit-1].ID
	}
	return bs, next, nil
}

// pageLimit bounds a page: 20 by default, at most 100.
func pageLimit(n int) int {
	if n <= 0 {
		return 20
	}
	return min(n, 100)
}

// releaseFailed makes room in available for withdrawal w (amount and fee)
// in the transaction ctx carries: if the part of available not reserved for
// FAILED batches is short, it settles FAILED batches, oldest first, until
// it is not. It locks the batches and reads the balance for update, so a
// retry or another withdrawal racing it waits, and the batches it settles
// can no longer be retried. A shortfall that settling every FAILED batch
// does not cover is left to the ledger, which refuses it.
func (s *Service) releaseFailed(ctx context.Context, m merchant.Merchant, w Withdrawal) error {
	failed, err := s.store.LockFailedBatches(ctx, m.ID)
	if err != nil || len(failed) == 0 {
		return err
	}
	avail, err := s.ledger.LockedBalance(ctx, m.Accounts.Available)
	if err != nil {
		return err
	}
	var reserved paydesk.Amount
	for _, b := range failed {
		reserved += b.Amount
	}
	need := w.Amount + w.Fee
	for _, b := range failed {
		if avail-reserved >= need {
			return nil
		}
		reason := fmt.Sprintf("withdrawn by the owner: withdrawal %s took this batch's money out of the available balance; it will not be retried", w.RequestNo)
		ok, err := s.store.UpdatePayout(ctx, KindSettlement, b.ID, b.Version, map[string]any{"state": string(Settled), "reason": truncate(reason, 255), "updated_at": s.clock()})
		if err != nil {
			return err
		}
		if !ok {
			return errChanged
		}
		if err := s.emitSubject(ctx, KindSettlement, b.ID); err != nil {
			return err
		}
		reserved -= b.Amount
	}
	return nil
}
