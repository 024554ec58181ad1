package settlement

import (
	"context"
	"fmt"

	"github.com/paydesk/paydesk"
)

// Overview answers the owner's three questions at one moment: what they
// can withdraw now, what arrives when, and what is in flight.
type Overview struct {
	Balance
	Mode PayoutMode
	// Withdrawable is what a withdrawal may take now: the available balance.
	// Reserved is the part of it FAILED batches hold for their retry; a
	// withdrawal that takes it closes those batches (see Withdraw).
	Withdrawable, Reserved paydesk.Amount
	// Upcoming are the batches whose money is still in pending (NOT_DUE,
	// AWAITING_PAYMENT), soonest due first: in auto mode they are paid to
	// the bank at DueAt, in manual mode they become available then.
	Upcoming []Batch
	// Failed are the FAILED batches, their money reserved for the retry.
	Failed []Batch
	// InFlight are the batches and withdrawals with the bank (SUBMITTED):
	// their money is frozen.
	InFlightBatches     []Batch
	InFlightWithdrawals []Withdrawal
}

// overviewLimit bounds each list of an overview.
const overviewLimit = 20

// Overview reads the merchant's balances, payout mode and open payouts in
// one transaction, so that the figures agree with each other.
func (s *Service) Overview(ctx context.Context, merchantID int64) (Overview, error) {
	var o Overview
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		o = Overview{}
		var err error
		if o.Balance, err = s.Balance(ctx, merchantID); err != nil {
			return err
		}
		if o.Mode, err = s.PayoutMode(ctx, merchantID); err != nil {
			return err
		}
		db := s.db.Writer(ctx)
		var rows []batchRow
		if err := db.Where("merchant_id = ? AND state IN ?", merchantID, []string{string(NotDue), string(AwaitingPayment)}).
			Order("due_at, id").Limit(overviewLimit).Find(&rows).Error; err != nil {
			return fmt.Errorf("list upcoming batches: %w", err)
		}
		o.Upcoming = batches(rows)
		rows = nil
		if err := db.Where("merchant_id = ? AND state = ?", merchantID, string(Failed)).Order("id").Find(&rows).Error; err != nil {
			return fmt.Errorf("list failed batches: %w", err)
		}
		o.Failed = batches(rows)
		for _, b := range o.Failed {
			o.Reserved += b.Amount
		}
		rows = nil
		if err := db.Where("merchant_id = ? AND state = ?", merchantID, string(Submitted)).Order("id").Limit(overviewLimit).Find(&rows).Error; err != nil {
			return fmt.Errorf("list batches in flight: %w", err)
		}
		o.InFlightBatches = batches(rows)
		var ws []withdrawalRow
		if err := db.Where("merchant_id = ? AND state = ?", merchantID, string(Submitted)).Order("id").Limit(overviewLimit).Find(&ws).Error; err != nil {
			return fmt.Errorf("list withdrawals in flight: %w", err)
		}
		for _, w := range ws {
			o.InFlightWithdrawals = append(o.InFlightWithdrawals, w.withdrawal())
		}
		o.Withdrawable = max(o.Available, 0)
		return nil
	})
	return o, err
}

func batches(rows []batchRow) []Batch {
	out := make([]Batch, len(rows))
	for i, r := range rows {
		out[i] = r.batch()
	}
	return out
}
