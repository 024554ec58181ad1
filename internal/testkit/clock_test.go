package testkit_test

import (
	"testing"
	"time"

	"github.com/paydesk/paydesk/internal/testkit"
)

func TestClockMoves(t *testing.T) {
	start := time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)
	c := testkit.NewClock(start)
	c.Advance(time.Hour)
	if got := c.Now(); !got.Equal(start.Add(time.Hour)) {
		t.Fatalf("after Advance: %v", got)
	}
	c.Set(start.In(time.FixedZone("CST", 8*3600)))
	if got := c.Now(); !got.Equal(start) || got.Location() != time.UTC {
		t.Fatalf("after Set: %v", got)
	}
	c.AdvanceTo(start.Add(-time.Minute))
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("AdvanceTo an earlier time moved it: %v", got)
	}
	c.AdvanceTo(start.Add(time.Minute))
	if got := c.Now(); !got.Equal(start.Add(time.Minute)) {
		t.Fatalf("after AdvanceTo: %v", got)
	}
}
