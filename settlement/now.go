package settlement

import (
	"context"
	"fmt"

	"github.com/paydesk/paydesk"
)

// ErrSettleNowRefused refuses SettleNow where it is not allowed (production).
var ErrSettleNowRefused = &paydesk.Error{Kind: paydesk.KindForbidden, Code: "SETTLE_NOW_REFUSED", Message: "settling a day before it ends is for development only"}

// Today is the business day it is now for merchant merchantID.
func (s *Service) Today(ctx context.Context, merchantID int64) (Day, error) {
	m, err := s.merchants.Merchant(ctx, merchantID)
	if err != nil {
		return Day{}, err
	}
	return s.calendar(m).DayOf(s.clock()), nil
}

// SettleNow cuts merchant merchantID's business day today at this moment
// instead of at its end, due at once (whatever the merchant's T+N), so a
// demo can watch a settlement go through in a minute. Earlier days not cut
// yet are cut first, normally. What is collected later today goes into
// tomorrow's batch, which starts where this one ended, so every entry is
// in exactly one batch and Check still holds. A day already cut (early or
// not) is left as it is and its batch returned. Only with
// Config.AllowSettleNow (development).
func (s *Service) SettleNow(ctx context.Context, merchantID int64) (Batch, bool, error) {
	if !s.cfg.AllowSettleNow {
		return Batch{}, false, ErrSettleNowRefused
	}
	m, err := s.merchants.Merchant(ctx, merchantID)
	if err != nil {
		return Batch{}, false, err
	}
	cal := s.calendar(m)
	today := cal.DayOf(s.clock())
	if _, _, err := s.CutDay(ctx, m.ID, today.AddDays(-1)); err != nil {
		return Batch{}, false, err
	}
	now := s.clock()
	if _, _, err := s.cutDay(ctx, m, cal, today, &now); err != nil {
		return Batch{}, false, fmt.Errorf("merchant %d: settle %s now: %w", m.ID, today, err)
	}
	b, err := s.store.BatchOfDay(ctx, m.ID, today)
	if err == ErrBatchNotFound {
		return Batch{}, false, nil // nothing collected today
	}
	return b, err == nil, err
}
