package settlement

import (
	"context"

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
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		o = Overview{}
		var err error
		if o.Balance, err = s.Balance(ctx, merchantID); err != nil {
			return err
		}
		if o.Mode, err = s.PayoutMode(ctx, merchantID); err != nil {
			return err
		}
		if o.Upcoming, err = s.store.UpcomingBatches(ctx, merchantID, overviewLimit); err != nil {
			return err
		}
		if o.Failed, err = s.store.MerchantBatchesIn(ctx, merchantID, Failed, 0); err != nil {
			return err
		}
		for _, b := range o.Failed {
			o.Reserved += b.Amount
		}
		if o.InFlightBatches, err = s.store.MerchantBatchesIn(ctx, merchantID, Submitted, overviewLimit); err != nil {
			return err
		}
		ws, err := s.store.MerchantWithdrawalsIn(ctx, merchantID, Submitted, overviewLimit)
		if err != nil {
			return err
		}
		if len(ws) > 0 {
			o.InFlightWithdrawals = ws
		}
		o.Withdrawable = max(o.Available, 0)
		return nil
	})
	return o, err
}
