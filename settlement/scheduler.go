package settlement

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/paydesk/paydesk/ledger"
)

// tickBatch bounds how many batches or payouts one tick handles per step;
// the rest wait for the next tick.
const tickBatch = 500

// Tick does one round of the scheduler: it cuts the business days that
// ended, moves batches whose due date came to AWAITING_PAYMENT, submits
// what is due, retries failed batches whose bank account was changed since,
// and asks the bank about payouts that got no answer. Every step is a
// conditional update, so several instances may tick at once.
func (s *Service) Tick(ctx context.Context) error {
	var errs []error
	ids, err := s.store.MerchantIDs(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		m, err := s.merchants.Merchant(ctx, id)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if _, err := s.CutDays(ctx, m); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, s.advance(ctx), s.checkOpen(ctx))
	return errors.Join(errs...)
}

// MerchantIDs lists every merchant, for the operator's commands.
func (s *Service) MerchantIDs(ctx context.Context) ([]int64, error) { return s.store.MerchantIDs(ctx) }

// Run ticks every interval until ctx ends, logging what fails.
func (s *Service) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := s.Tick(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("settlement tick", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// PromoteDue moves the NOT_DUE batches whose due date has come to
// AWAITING_PAYMENT, and reports how many it moved. It needs no bank, so the
// operator's `paydesk settle` runs it; paying them is the scheduler's.
func (s *Service) PromoteDue(ctx context.Context) (int, error) {
	due, err := s.store.BatchesIn(ctx, NotDue, s.clock(), false, tickBatch)
	if err != nil {
		return 0, err
	}
	var errs []error
	for _, b := range due {
		if err := s.transition(ctx, b, AwaitingPayment, map[string]any{}); err != nil {
			errs = append(errs, err)
		}
	}
	return len(due) - len(errs), errors.Join(errs...)
}

func (s *Service) advance(ctx context.Context) error {
	now := s.clock()
	var errs []error
	if _, err := s.PromoteDue(ctx); err != nil {
		errs = append(errs, err)
	}
	awaiting, err := s.store.BatchesIn(ctx, AwaitingPayment, time.Time{}, false, tickBatch)
	if err != nil {
		return err
	}
	modes := map[int64]PayoutMode{}
	for _, b := range awaiting {
		mode, ok := modes[b.MerchantID]
		if !ok {
			if mode, err = s.PayoutMode(ctx, b.MerchantID); err != nil {
				errs = append(errs, err)
				continue
			}
			modes[b.MerchantID] = mode
		}
		switch {
		case b.Amount == 0:
			err = s.transition(ctx, b, Paid, map[string]any{"paid_at": now, "reason": "nothing to pay: netted against refunds"})
		case mode == PayoutManual:
			_, err = s.settleBatch(ctx, b)
		default:
			_, err = s.submitBatch(ctx, b)
		}
		// A batch that must wait (no bank account, pending short) has
		// its reason noted on it, where the apps show it.
		if err != nil && !errors.Is(err, ErrNoBankAccount) && !errors.Is(err, ErrInsufficientBalance) {
			errs = append(errs, err)
		}
	}
	failed, err := s.store.BatchesIn(ctx, Failed, time.Time{}, true, tickBatch)
	if err != nil {
		return err
	}
	for _, b := range failed {
		acct, err := s.store.BankAccount(ctx, b.MerchantID)
		if err != nil || b.FailedAt == nil || !acct.UpdatedAt.After(*b.FailedAt) {
			continue // retried by hand, or once the account is changed
		}
		// A retry available cannot cover is noted on the batch (see
		// submitBatch) and tried again at the next tick.
		if _, err := s.submitBatch(ctx, b); err != nil && !errors.Is(err, ErrInsufficientBalance) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// transition moves a batch to a state where no money moves (NOT_DUE →
// AWAITING_PAYMENT; a batch with nothing to pay → PAID), with its event.
func (s *Service) transition(ctx context.Context, b Batch, to State, set map[string]any) error {
	if err := move(b.State, to); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(ctx context.Context) error {
		set["state"], set["updated_at"] = string(to), s.clock()
		ok, err := s.store.UpdatePayout(ctx, KindSettlement, b.ID, b.Version, set)
		if err != nil || !ok {
			return err // !ok: another instance moved it
		}
		return s.emitSubject(ctx, KindSettlement, b.ID)
	})
}

// submitBatch pays batch b (AWAITING_PAYMENT, or FAILED for a retry) to
// the merchant's bank account. Without a bank account, or with too little
// money in pending, it stays where it is with the reason noted.
func (s *Service) submitBatch(ctx context.Context, b Batch) (Batch, error) {
	m, err := s.merchants.Merchant(ctx, b.MerchantID)
	if err != nil {
		return b, err
	}
	acct, err := s.store.BankAccount(ctx, m.ID)
	if errors.Is(err, ErrNoBankAccount) && b.State == AwaitingPayment {
		return b, errors.Join(err, s.note(ctx, b, "waiting: no bank account is bound"))
	}
	if err != nil {
		return b, err
	}
	source := m.Accounts.Pending
	if b.State == Failed {
		source = m.Accounts.Available
	}
	var a Attempt
	err = s.store.InTx(ctx, func(ctx context.Context) (err error) {
		a, err = s.startAttempt(ctx, batchSubject(b), b.State, source, m, acct)
		return err
	})
	switch {
	case errors.Is(err, errChanged):
		return s.store.Batch(ctx, 0, b.ID)
	case errors.Is(err, ErrInsufficientBalance) && b.State == AwaitingPayment:
		return b, errors.Join(err, s.note(ctx, b, "waiting: pending is short of the batch until later refunds are netted"))
	case errors.Is(err, ErrInsufficientBalance) && b.State == Failed:
		// Refunds took from available after the payout failed: the retry
		// cannot be paid in full. Say so on the batch rather than keep the
		// bank's stale reason; the owner may withdraw what is left.
		bal, berr := s.ledger.Balances(ctx, m.Accounts.Available)
		if berr != nil {
			return b, errors.Join(err, berr)
		}
		reason := fmt.Sprintf("retry impossible: the available balance %s is short of the batch's %s (refunds were taken from it); withdraw what is left, or the retry is made once it is covered",
			bal[m.Accounts.Available], b.Amount)
		return b, errors.Join(err, s.note(ctx, b, truncate(reason, 255)))
	case err != nil:
		return b, fmt.Errorf("submit batch %d: %w", b.ID, err)
	}
	if err := s.send(ctx, a); err != nil {
		s.log.Error("submit payout", "reference", a.Reference, "error", err)
	}
	return s.store.Batch(ctx, 0, b.ID)
}

// note records why a due batch waits, if that is news.
func (s *Service) note(ctx context.Context, b Batch, reason string) error {
	if b.Reason == reason {
		return nil
	}
	_, err := s.store.UpdatePayout(ctx, KindSettlement, b.ID, b.Version, map[string]any{"reason": reason, "updated_at": s.clock()})
	return err
}

// checkOpen asks the bank about every payout whose next check is due.
func (s *Service) checkOpen(ctx context.Context) error {
	open, err := s.store.OpenAttempts(ctx, s.clock(), tickBatch)
	if err != nil {
		return err
	}
	var errs []error
	for _, a := range open {
		if err := s.check(ctx, a); err != nil {
			errs = append(errs, fmt.Errorf("check payout %s: %w", a.Reference, err))
		}
	}
	return errors.Join(errs...)
}

// settleBatch settles a due batch of a manual-payout merchant: its money
// moves from pending to available, where the owner withdraws it, and the
// batch is SETTLED. With too little money in pending it waits, the reason
// noted, like a batch paid automatically.
func (s *Service) settleBatch(ctx context.Context, b Batch) (Batch, error) {
	if err := move(b.State, Settled); err != nil {
		return b, err
	}
	m, err := s.merchants.Merchant(ctx, b.MerchantID)
	if err != nil {
		return b, err
	}
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		ok, err := s.store.UpdatePayout(ctx, KindSettlement, b.ID, b.Version, map[string]any{"state": string(Settled),
			"reason": "settled to the available balance (manual payout mode)", "updated_at": s.clock()})
		if err != nil {
			return err
		}
		if !ok {
			return errChanged
		}
		p := ledger.Posting{Source: m.Accounts.Pending, Destination: m.Accounts.Available, Amount: b.Amount}
		if err := s.post(ctx, KindSettlement, settleRef(b.ID), "settlement of "+b.BusinessDay.String()+" to available", p); err != nil {
			return err
		}
		return s.emitSubject(ctx, KindSettlement, b.ID)
	})
	switch {
	case errors.Is(err, errChanged):
		return s.store.Batch(ctx, 0, b.ID)
	case errors.Is(err, ErrInsufficientBalance):
		return b, errors.Join(err, s.note(ctx, b, "waiting: pending is short of the batch until later refunds are netted"))
	case err != nil:
		return b, fmt.Errorf("settle batch %d: %w", b.ID, err)
	}
	return s.store.Batch(ctx, 0, b.ID)
}

// settleRef is the ledger reference of a batch settled to available.
func settleRef(id int64) string { return fmt.Sprintf("settle:stl-%d", id) }
