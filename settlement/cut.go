package settlement

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/merchant"
)

// CutDays cuts every business day of merchant m that ended (by Grace) at or
// before now and is not cut yet, oldest first, and returns the batches made
// (days without any entry on pending make none). Several instances may
// call it at once: each day is cut by exactly one of them.
func (s *Service) CutDays(ctx context.Context, m merchant.Merchant) ([]Batch, error) {
	cal := s.calendar(m)
	now := s.clock()
	// A merchant's first day is the one it was created in; its cursor
	// starts on the day before.
	first := cal.DayOf(m.CreatedAt)
	cur, err := s.store.cursor(ctx, m.ID, first.AddDays(-1), now)
	if err != nil {
		return nil, err
	}
	last, err := ParseDay(cur.CutThrough)
	if err != nil {
		return nil, fmt.Errorf("merchant %d: settlement cursor %q: %w", m.ID, cur.CutThrough, err)
	}
	var made []Batch
	for d := last.AddDays(1); !now.Before(cal.End(d).Add(s.cfg.Grace)); d = d.AddDays(1) {
		b, ok, err := s.cutDay(ctx, m, cal, d, nil)
		if err != nil {
			return made, fmt.Errorf("merchant %d: cut %s: %w", m.ID, d, err)
		}
		if ok {
			made = append(made, b)
		}
	}
	return made, nil
}

// CutDay cuts business day d of merchant m by hand (the operator's
// `paydesk settle --date`), along with any earlier day not cut yet. A day
// that is already cut is left as it is: its batch is returned.
func (s *Service) CutDay(ctx context.Context, merchantID int64, d Day) (Batch, bool, error) {
	m, err := s.merchants.Merchant(ctx, merchantID)
	if err != nil {
		return Batch{}, false, err
	}
	cal := s.calendar(m)
	if s.clock().Before(cal.End(d)) {
		return Batch{}, false, ErrDayNotEnded.WithMessage("business day %s of merchant %d ends at %s", d, m.ID, cal.End(d).Format(time.RFC3339))
	}
	// Days before d first: the batches must be cut in order, for netting.
	cur, err := s.store.cursor(ctx, m.ID, cal.DayOf(m.CreatedAt).AddDays(-1), s.clock())
	if err != nil {
		return Batch{}, false, err
	}
	last, _ := ParseDay(cur.CutThrough)
	for day := last.AddDays(1); !d.Before(day); day = day.AddDays(1) {
		if _, _, err := s.cutDay(ctx, m, cal, day, nil); err != nil {
			return Batch{}, false, fmt.Errorf("merchant %d: cut %s: %w", m.ID, day, err)
		}
	}
	b, err := s.store.batch(ctx, false, "merchant_id = ? AND business_day = ?", m.ID, d.String())
	if errors.Is(err, ErrBatchNotFound) {
		return Batch{}, false, nil // the day had no entries
	}
	return b, err == nil, err
}

// cutDay makes the batch of day d, once: the cursor moves from d-1 to d in
// the same transaction, conditionally, so a second instance cutting the
// same day changes nothing. It reports whether a batch was made. With
// early set (dev-mode settle now), the day ends and is due at early, and
// the cursor remembers it, so that the rest of the day goes into the next
// day's batch; a day after an early cut starts where that cut ended.
func (s *Service) cutDay(ctx context.Context, m merchant.Merchant, cal Calendar, d Day, early *time.Time) (Batch, bool, error) {
	var out Batch
	var made bool
	var events []Batch
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		out, made, events = Batch{}, false, nil
		now := s.clock()
		var c cursorRow
		if err := s.db.Writer(ctx).Raw("SELECT * FROM settlement_cursors WHERE merchant_id = ?"+s.db.ForUpdate(), m.ID).Scan(&c).Error; err != nil {
			return fmt.Errorf("lock settlement cursor: %w", err)
		}
		if c.CutThrough != d.AddDays(-1).String() {
			return nil // cut by someone else, or out of order
		}
		start, end, due := cal.Start(d), cal.End(d), cal.Due(d)
		if c.CutAt != nil {
			start = *c.CutAt
		}
		if early != nil {
			end, due = *early, *early
		}
		t, err := s.dayTotals(ctx, m.Accounts.Pending, start, end)
		if err != nil {
			return err
		}
		carry := paydesk.Amount(c.Carry)
		if t.Entries > 0 {
			net := t.KindIn - t.KindOut + t.OtherIn - t.OtherOut
			b := Batch{MerchantID: m.ID, BusinessDay: d, Currency: m.Currency, DayStart: start, DayEnd: end, DueAt: due,
				Payments: t.KindIn, Refunds: t.OtherOut, Fees: t.KindOut - t.OtherIn,
				Net: net, Entries: t.Entries, Payout: Payout{State: NotDue, CreatedAt: now, UpdatedAt: now}}
			// The carried deficit of earlier days comes off this batch; a
			// deficit it cannot take is covered by the newest open batches,
			// and what they cannot cover is carried on.
			if need := carry - net; need <= 0 {
				b.Adjustment, carry = -carry, 0
			} else {
				covered, changed, err := s.net(ctx, m.ID, need, now)
				if err != nil {
					return err
				}
				events = changed
				b.Adjustment, carry = -net, need-covered
			}
			b.Amount = b.Net + b.Adjustment
			if b.Amount < 0 {
				return fmt.Errorf("batch of %s would pay %s", d, b.Amount) // netting guarantees it cannot
			}
			row := batchRow{MerchantID: b.MerchantID, BusinessDay: d.String(), Currency: string(b.Currency), DayStart: start.UTC(), DayEnd: end.UTC(),
				DueAt: b.DueAt.UTC(), Payments: int64(b.Payments), Refunds: int64(b.Refunds), Fees: int64(b.Fees), Net: int64(b.Net),
				Adjustment: int64(b.Adjustment), Amount: int64(b.Amount), Entries: b.Entries,
				Cols: payoutCols{State: string(NotDue), Version: 1, CreatedAt: now, UpdatedAt: now}}
			if err := s.db.Writer(ctx).Create(&row).Error; err != nil {
				return fmt.Errorf("create batch: %w", err)
			}
			out, made = row.batch(), true
			events = append(events, out)
		}
		res := s.db.Writer(ctx).Model(&cursorRow{}).Where("merchant_id = ? AND cut_through = ?", m.ID, c.CutThrough).
			Updates(map[string]any{"cut_through": d.String(), "carry": int64(carry), "cut_at": cutAtColumn(early), "updated_at": now})
		if res.Error != nil {
			return fmt.Errorf("move settlement cursor: %w", res.Error)
		}
		if res.RowsAffected != 1 {
			return errConcurrentCut
		}
		for _, b := range events {
			if err := s.emitBatch(ctx, b); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, errConcurrentCut) {
		return Batch{}, false, nil
	}
	return out, made, err
}

// cutAtColumn is the cursor's cut_at for a cut that ended early, NULL
// for one that ended with its day.
func cutAtColumn(early *time.Time) any {
	if early == nil {
		return nil
	}
	return early.UTC()
}

var errConcurrentCut = errors.New("settlement cursor moved meanwhile")

// net covers a deficit of up to need from the newest batches whose money is
// still in pending, and returns how much it covered and the batches it
// changed (re-read, for their events).
func (s *Service) net(ctx context.Context, merchantID int64, need paydesk.Amount, now time.Time) (paydesk.Amount, []Batch, error) {
	var rows []batchRow
	err := s.db.Writer(ctx).Raw("SELECT * FROM settlement_batches WHERE merchant_id = ? AND state IN (?, ?) AND amount > 0 ORDER BY business_day DESC"+s.db.ForUpdate(),
		merchantID, string(NotDue), string(AwaitingPayment)).Scan(&rows).Error
	if err != nil {
		return 0, nil, fmt.Errorf("find batches to net against: %w", err)
	}
	var covered paydesk.Amount
	var changed []Batch
	for _, r := range rows {
		if covered == need {
			break
		}
		take := min(paydesk.Amount(r.Amount), need-covered)
		ok, err := s.store.updatePayout(ctx, "settlement_batches", r.ID, r.Cols.Version, map[string]any{
			"amount": r.Amount - int64(take), "adjustment": r.Adjustment - int64(take), "updated_at": now})
		if err != nil {
			return 0, nil, err
		}
		if !ok {
			return 0, nil, fmt.Errorf("batch %d changed while netting against it", r.ID)
		}
		covered += take
		b, err := s.store.batch(ctx, false, "id = ?", r.ID)
		if err != nil {
			return 0, nil, err
		}
		changed = append(changed, b)
	}
	return covered, changed, nil
}

// Settled reports whether money that reached merchant merchantID's pending
// account at paidAt is in a settlement batch: whether its business day is
// cut. Voids ask it, since a settled payment may only be refunded.
func (s *Service) Settled(ctx context.Context, merchantID int64, paidAt time.Time) (bool, error) {
	m, err := s.merchants.Merchant(ctx, merchantID)
	if err != nil {
		return false, err
	}
	cal := s.calendar(m)
	cur, err := s.store.cursor(ctx, m.ID, cal.DayOf(m.CreatedAt).AddDays(-1), s.clock())
	if err != nil {
		return false, err
	}
	through, err := ParseDay(cur.CutThrough)
	if err != nil {
		return false, fmt.Errorf("merchant %d: settlement cursor %q: %w", m.ID, cur.CutThrough, err)
	}
	day := cal.DayOf(paidAt)
	if cur.CutAt != nil && day == through && !paidAt.Before(*cur.CutAt) {
		return false, nil // paid after today was settled early: in tomorrow's batch
	}
	return !through.Before(day), nil
}
