package pos

import (
	"errors"
	"testing"
	"time"
)

var allStates = []State{Created, Paying, Paid, Closed, PartiallyRefunded, Refunded, Revoked}

// Every pair of states: exactly the moves of SPEC §4 are allowed.
func TestStateMachine(t *testing.T) {
	allowed := map[[2]State]bool{
		{Created, Paying}: true, {Created, Paid}: true, {Created, Closed}: true,
		{Paying, Paid}: true, {Paying, Closed}: true,
		{Paid, PartiallyRefunded}: true, {Paid, Refunded}: true, {Paid, Revoked}: true,
		{PartiallyRefunded, PartiallyRefunded}: true, {PartiallyRefunded, Refunded}: true,
	}
	at := time.Date(2026, 11, 25, 1, 2, 3, 0, time.UTC)
	for _, from := range allStates {
		for _, to := range allStates {
			want := allowed[[2]State{from, to}]
			if got := CanMove(from, to); got != want {
				t.Errorf("CanMove(%s, %s) = %v, want %v", from, to, got, want)
			}
			o := Order{ID: 1, State: from}
			err := o.moveTo(to, at)
			if want != (err == nil) {
				t.Errorf("moveTo %s -> %s: err = %v, want allowed=%v", from, to, err, want)
			}
			if !want && (!errors.Is(err, ErrInvalidTransition) || o.State != from) {
				t.Errorf("refused move %s -> %s changed the order or gave %v", from, to, err)
			}
			if want && to == Paid && !o.PaidAt.Equal(at) {
				t.Errorf("paid at not stamped")
			}
		}
	}
	for _, s := range []State{Closed, Refunded, Revoked} {
		if !s.Final() {
			t.Errorf("%s should be final", s)
		}
	}
}
