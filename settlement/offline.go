package settlement

import (
	"context"
	"fmt"
	"strings"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/ledger"
)

// RecordOfflinePayout records the outcome of a batch the operator paid
// outside the channel (by online banking, say), so that the merchant's app
// shows the truth rather than "not due" (seed 004, FAQ 3). PAID sends the
// batch's money, from pending (or from available after a failed payout),
// out to the bank; FAILED returns money still in pending to available.
// A batch the bank has in flight (SUBMITTED) is refused: the bank will
// answer for it. Recording the outcome a batch already has changes nothing.
func (s *Service) RecordOfflinePayout(ctx context.Context, batchID int64, status bank.PayoutStatus, reason string) (Batch, error) {
	if !status.Final() {
		return Batch{}, paydesk.ErrInvalid.WithMessage("an offline payout is recorded PAID or FAILED, not %q", status)
	}
	reason = strings.TrimSpace(reason)
	if status == bank.PayoutFailed && reason == "" {
		return Batch{}, paydesk.ErrInvalid.WithMessage("a failed payout needs a reason the merchant can read")
	}
	b, err := s.BatchByID(ctx, batchID)
	if err != nil {
		return Batch{}, err
	}
	to := Paid
	if status == bank.PayoutFailed {
		to = Failed
	}
	switch {
	case b.State == to && b.Offline:
		return b, nil
	case b.State == Submitted:
		return Batch{}, ErrPayoutInFlight.WithMessage("batch %d is with the bank as %s; wait for its answer (or let the scheduler ask)", b.ID, b.Reference)
	}
	if err := move(b.State, to); err != nil {
		return Batch{}, err
	}
	m, err := s.merchants.Merchant(ctx, b.MerchantID)
	if err != nil {
		return Batch{}, err
	}
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		now := s.clock()
		plat, err := s.ledger.Platform(ctx, b.Currency)
		if err != nil {
			return err
		}
		n := b.Attempt + 1
		ref := payoutReference(KindSettlement, b.ID, n) + "-offline"
		source := m.Accounts.Pending
		if b.State == Failed {
			source = m.Accounts.Available
		}
		set := map[string]any{"state": string(to), "attempt": n, "reference": ref, "offline": true, "reason": truncate(reason, 255), "updated_at": now}
		var p ledger.Posting
		var lref string
		if to == Paid {
			set["paid_at"] = now
			p, lref = ledger.Posting{Source: source, Destination: plat.Clearing, Amount: b.Amount}, paidRef(ref)
		} else {
			set["failed_at"] = now
			p, lref = ledger.Posting{Source: source, Destination: m.Accounts.Available, Amount: b.Amount}, failedRef(ref)
		}
		ok, err := s.store.UpdatePayout(ctx, KindSettlement, b.ID, b.Version, set)
		if err != nil {
			return err
		}
		if !ok {
			return ErrBadTransition.WithMessage("batch %d changed meanwhile; look again", b.ID)
		}
		a := Attempt{Reference: ref, Kind: KindSettlement, SubjectID: b.ID, MerchantID: b.MerchantID, Attempt: n, Channel: channelOffline,
			Amount: int64(b.Amount), Currency: string(b.Currency), Status: string(status), Reason: truncate(reason, 255), BankAt: &now,
			NextCheckAt: now, CreatedAt: now, UpdatedAt: now}
		if err := s.store.CreateAttempt(ctx, &a); err != nil {
			return err
		}
		memo := "settlement of " + b.BusinessDay.String() + " " + ref + " (offline)"
		if reason != "" {
			memo += ": " + reason
		}
		if err := s.post(ctx, KindSettlement, lref, memo, p); err != nil {
			return err
		}
		return s.emitSubject(ctx, KindSettlement, b.ID)
	})
	if err != nil {
		return Batch{}, fmt.Errorf("record offline payout of batch %d: %w", b.ID, err)
	}
	return s.BatchByID(ctx, b.ID)
}

// RetryBatch pays a FAILED batch again, from available, on a new attempt
// under a new payout reference (the failed one is final at the bank).
func (s *Service) RetryBatch(ctx context.Context, batchID int64) (Batch, error) {
	b, err := s.BatchByID(ctx, batchID)
	if err != nil {
		return Batch{}, err
	}
	if b.State != Failed {
		return Batch{}, ErrBadTransition.WithMessage("batch %d is %s; only a FAILED batch is retried", b.ID, b.State)
	}
	return s.submitBatch(ctx, b)
}
