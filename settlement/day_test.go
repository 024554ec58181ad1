package settlement_test

import (
	"testing"
	"time"

	"github.com/paydesk/paydesk/settlement"
)

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

func TestCalendar(t *testing.T) {
	d, err := settlement.ParseDay("2026-11-25")
	if err != nil || d.String() != "2026-11-25" || d.AddDays(7).String() != "2026-12-02" || !d.Before(d.AddDays(1)) {
		t.Fatalf("day arithmetic: %v %v", d, err)
	}
	if _, err := settlement.ParseDay("2026-13-01"); err == nil {
		t.Fatal("month 13 parsed")
	}
	tests := []struct {
		name       string
		cal        settlement.Calendar
		moment     string
		day        string
		start, end string
		due        string
	}{
		{"T+1, midnight", settlement.Calendar{Location: shanghai, SettlementDays: 1}, "2026-11-25 23:59", "2026-11-25",
			"2026-11-25 00:00", "2026-11-26 00:00", "2026-11-26 00:00"},
		{"just after midnight is the next day", settlement.Calendar{Location: shanghai, SettlementDays: 1}, "2026-11-26 00:00", "2026-11-26",
			"2026-11-26 00:00", "2026-11-27 00:00", "2026-11-27 00:00"},
		{"T+3 across a month end", settlement.Calendar{Location: shanghai, SettlementDays: 3}, "2026-11-30 12:00", "2026-11-30",
			"2026-11-30 00:00", "2026-12-01 00:00", "2026-12-03 00:00"},
		{"cut-off at 23:00: late sales count tomorrow", settlement.Calendar{Location: shanghai, Cutoff: -time.Hour, SettlementDays: 1}, "2026-11-25 23:30", "2026-11-26",
			"2026-11-25 23:00", "2026-11-26 23:00", "2026-11-27 00:00"},
		{"T+0 with a 15:00 cut-off pays at the cut-off", settlement.Calendar{Location: shanghai, Cutoff: -9 * time.Hour, SettlementDays: 0}, "2026-11-25 14:59", "2026-11-25",
			"2026-11-24 15:00", "2026-11-25 15:00", "2026-11-25 15:00"},
		{"T+0 at midnight pays at the cut-off", settlement.Calendar{Location: shanghai}, "2026-11-25 10:00", "2026-11-25",
			"2026-11-25 00:00", "2026-11-26 00:00", "2026-11-26 00:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.cal.DayOf(at(tt.moment))
			if d.String() != tt.day {
				t.Fatalf("DayOf(%s) = %s, want %s", tt.moment, d, tt.day)
			}
			for _, c := range []struct {
				what string
				got  time.Time
				want string
			}{{"start", tt.cal.Start(d), tt.start}, {"end", tt.cal.End(d), tt.end}, {"due", tt.cal.Due(d), tt.due}} {
				if !c.got.Equal(at(c.want)) {
					t.Errorf("%s of %s = %s, want %s", c.what, d, c.got.In(shanghai).Format("2006-01-02 15:04"), c.want)
				}
			}
		})
	}
}

func TestCalendarAcrossDaylightSaving(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no zoneinfo")
	}
	cal := settlement.Calendar{Location: ny, SettlementDays: 1}
	d, _ := settlement.ParseDay("2026-03-08") // 23 hours long
	if got := cal.End(d).Sub(cal.Start(d)); got != 23*time.Hour {
		t.Fatalf("2026-03-08 in New York lasts %s", got)
	}
	for m := cal.Start(d); m.Before(cal.End(d)); m = m.Add(time.Hour) {
		if cal.DayOf(m) != d {
			t.Fatalf("%s is in %s, want %s", m, cal.DayOf(m), d)
		}
	}
}
