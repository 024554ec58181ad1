package settlement

import (
	"context"
	"fmt"

	"github.com/paydesk/paydesk"
)

// CheckReport compares a merchant's balances with what its batches and
// withdrawals say they should be.
type CheckReport struct {
	Balance Balance
	// Open is the sum of the batches whose money is still in pending
	// (NOT_DUE, AWAITING_PAYMENT); Uncut the day's entries on pending not
	// cut into a batch yet; Carry the deficit carried to the next batch.
	Open, Uncut, Carry paydesk.Amount
	// InFlight is the sum of the batches and withdrawals SUBMITTED.
	InFlight paydesk.Amount
}

// OK reports whether pending = Open + Uncut − Carry and frozen = InFlight.
func (r CheckReport) OK() bool {
	return r.Balance.Pending == r.Open+r.Uncut-r.Carry && r.Balance.Frozen == r.InFlight
}

func (r CheckReport) String() string {
	return fmt.Sprintf("pending %s = open %s + uncut %s - carry %s; frozen %s = in flight %s",
		r.Balance.Pending, r.Open, r.Uncut, r.Carry, r.Balance.Frozen, r.InFlight)
}

// Check verifies that the merchant's pending and frozen balances are
// exactly what its batches and payouts account for. It reads in one
// transaction so the figures are of one moment.
func (s *Service) Check(ctx context.Context, merchantID int64) (CheckReport, error) {
	m, err := s.merchants.Merchant(ctx, merchantID)
	if err != nil {
		return CheckReport{}, err
	}
	var r CheckReport
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		r = CheckReport{}
		if r.Balance, err = s.Balance(ctx, merchantID); err != nil {
			return err
		}
		if r.Open, r.InFlight, err = s.store.PayoutSums(ctx, m.ID); err != nil {
			return err
		}
		c, ok, err := s.store.FindCursor(ctx, m.ID)
		if err != nil {
			return err
		}
		cal := s.calendar(m)
		from := cal.Start(cal.DayOf(m.CreatedAt))
		if ok {
			d, err := ParseDay(c.CutThrough)
			if err != nil {
				return err
			}
			from, r.Carry = cal.End(d), paydesk.Amount(c.Carry)
			if c.CutAt != nil {
				from = *c.CutAt
			}
		}
		t, err := s.dayTotals(ctx, m.Accounts.Pending, from, from.AddDate(100, 0, 0))
		if err != nil {
			return err
		}
		r.Uncut = t.KindIn - t.KindOut + t.OtherIn - t.OtherOut
		return nil
	})
	return r, err
}
