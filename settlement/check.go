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
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		r = CheckReport{}
		if r.Balance, err = s.Balance(ctx, merchantID); err != nil {
			return err
		}
		db := s.db.Writer(ctx)
		var sums struct{ Open, InFlight int64 }
		if err := db.Raw(`SELECT COALESCE(SUM(CASE WHEN state IN (?, ?) THEN amount ELSE 0 END), 0) AS open,
			COALESCE(SUM(CASE WHEN state = ? THEN amount ELSE 0 END), 0) AS in_flight FROM settlement_batches WHERE merchant_id = ?`,
			string(NotDue), string(AwaitingPayment), string(Submitted), m.ID).Scan(&sums).Error; err != nil {
			return fmt.Errorf("sum batches: %w", err)
		}
		var wd int64
		if err := db.Raw("SELECT COALESCE(SUM(amount), 0) FROM withdrawals WHERE merchant_id = ? AND state = ?", m.ID, string(Submitted)).Scan(&wd).Error; err != nil {
			return fmt.Errorf("sum withdrawals: %w", err)
		}
		r.Open, r.InFlight = paydesk.Amount(sums.Open), paydesk.Amount(sums.InFlight+wd)
		var c []cursorRow
		if err := db.Where("merchant_id = ?", m.ID).Find(&c).Error; err != nil {
			return fmt.Errorf("read settlement cursor: %w", err)
		}
		cal := s.calendar(m)
		from := cal.Start(cal.DayOf(m.CreatedAt))
		if len(c) == 1 {
			d, err := ParseDay(c[0].CutThrough)
			if err != nil {
				return err
			}
			from, r.Carry = cal.End(d), paydesk.Amount(c[0].Carry)
			if c[0].CutAt != nil {
				from = *c[0].CutAt
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
