package settlement

import (
	"time"

	"github.com/paydesk/paydesk"
)

// Day is a business day, a calendar date in a merchant's time zone.
// Its zero value is no day.
type Day struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDay reads "2006-01-02".
func ParseDay(s string) (Day, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Day{}, paydesk.ErrInvalid.WithMessage("%q is not a date of the form YYYY-MM-DD", s)
	}
	return DayOf(t), nil
}

// DayOf is the calendar date of t in t's location.
func DayOf(t time.Time) Day {
	y, m, d := t.Date()
	return Day{y, m, d}
}

// String is "2006-01-02".
func (d Day) String() string { return d.civil().Format(time.DateOnly) }

// IsZero reports whether d is no day.
func (d Day) IsZero() bool { return d == Day{} }

// AddDays returns the day n calendar days after d.
func (d Day) AddDays(n int) Day { return DayOf(d.civil().AddDate(0, 0, n)) }

// Before reports whether d comes before e.
func (d Day) Before(e Day) bool { return d.civil().Before(e.civil()) }

func (d Day) civil() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// Calendar tells the business days of one merchant: business day D runs
// from local midnight of D plus Cutoff to local midnight of D+1 plus Cutoff.
// With the default Cutoff of zero that is midnight to midnight; a cut-off
// of -1h closes the day at 23:00 (what comes in after 23:00 counts for the
// next day), +2h at 02:00 the next morning.
type Calendar struct {
	Location *time.Location
	Cutoff   time.Duration
	// SettlementDays is N in T+N.
	SettlementDays int
}

// Start is when business day d begins.
func (c Calendar) Start(d Day) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, c.Location).Add(c.Cutoff)
}

// End is when business day d ends: the cut-off, the start of the next day.
func (c Calendar) End(d Day) time.Time { return c.Start(d.AddDays(1)) }

// DayOf is the business day t falls in.
func (c Calendar) DayOf(t time.Time) Day {
	d := DayOf(t.In(c.Location).Add(-c.Cutoff))
	// The shift is exact except across a daylight-saving change near the
	// cut-off; settle any doubt against the real boundaries.
	switch {
	case t.Before(c.Start(d)):
		return d.AddDays(-1)
	case !t.Before(c.End(d)):
		return d.AddDays(1)
	}
	return d
}

// Due is when the batch of business day d may be paid: local midnight
// starting calendar day d+N, but never before the day has ended. T+1 is
// due at the first midnight after the day (the next morning's payout run);
// T+0 is due at the cut-off itself, which differs from T+1 only when the
// cut-off is before midnight. Days are calendar days: weekends and public
// holidays are not skipped.
func (c Calendar) Due(d Day) time.Time {
	due := time.Date(d.Year, d.Month, d.Day+c.SettlementDays, 0, 0, 0, 0, c.Location)
	if end := c.End(d); due.Before(end) {
		return end
	}
	return due
}
