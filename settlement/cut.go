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
	cur, err := s.store.Cursor(ctx, m.ID, first.AddDays(-1), now)
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
	cur, err := s.store.Cursor(ctx, m.ID, cal.DayOf(m.CreatedAt).AddDays(-1), s.clock())
	if err != nil {
		return Batch{}, false, err
	}
	last, _ := ParseDay(cur.CutThrough)
	for day := last.AddDays(1); !d.Before(day); day = day.AddDays(1) {
		if _, _, err := s.cutDay(ctx, m, cal, day, nil); err != nil {
			return Batch{}, false, fmt.Errorf("merchant %d: cut %s: %w", m.ID, day, err)
		}
	}
	b, err := s.store.BatchOfDay(ctx, m.ID, d)
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
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		out, made, events = Batch{}, false, nil
		now := s.clock()
		c, err := s.store.LockCursor(ctx, m.ID)
		if err != nil {
			return err
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
			if out, err = s.store.CreateBatch(ctx, b); err != nil {
				return err
			}
			made = true
			events = append(events, out)
		}
		moved, err := s.store.MoveCursor(ctx, c.CutThrough, Cursor{MerchantID: m.ID, CutThrough: d.String(), Carry: int64(carry), CutAt: early, UpdatedAt: now})
		if err != nil {
			return err
		}
		if !moved {
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

var errConcurrentCut = errors.New("settlement cursor moved meanwhile")

// net covers a deficit of up to need from the newest batches whose money is
// still in pending, and returns how much it covered and the batches it
// changed (re-read, for their events).
func (s *Service) net(ctx context.Context, merchantID int64, need paydesk.Amount, now time.Time) (paydesk.Amount, []Batch, error) {
	rows, err := s.store.LockOpenBatches(ctx, merchantID)
	if err != nil {
		return 0, nil, err
	}
	var covered paydesk.Amount
	var changed []Batch
	for _, r := range rows {
		if covered == need {
			break
		}
		take := min(r.Amount, need-covered)
		ok, err := s.store.UpdatePayout(ctx, KindSettlement, r.ID, r.Version, map[string]any{
			"amount": int64(r.Amount - take), "adjustment": int64(r.Adjustment - take), "updated_at": now})
		if err != nil {
			return 0, nil, err
		}
		if !ok {
			return 0, nil, fmt.Errorf("batch %d changed while netting against it", r.ID)
		}
		covered += take
		b, err := s.store.Batch(ctx, 0, r.ID)
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
	cur, err := s.store.Cursor(ctx, m.ID, cal.DayOf(m.CreatedAt).AddDays(-1), s.clock())
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
