package settlement_test

import (
	"fmt"
	"testing"

	"github.com/paydesk/paydesk/settlement"
)

// TestStateMachine lists every pair of states and whether a payout may go
// from one to the other: the one place the rules are spelled out in full.
func TestStateMachine(t *testing.T) {
	const (
		N = settlement.NotDue
		A = settlement.AwaitingPayment
		S = settlement.Submitted
		P = settlement.Paid
		F = settlement.Failed
		D = settlement.Settled
	)
	allowed := map[[2]settlement.State]string{
		{N, A}: "the due date came",
		{N, P}: "paid offline before the app said it was due (FAQ 3)",
		{N, F}: "an offline payout failed",
		{A, S}: "sent to the bank",
		{A, P}: "nothing to pay, or paid offline",
		{A, F}: "an offline payout failed",
		{S, P}: "the bank paid",
		{S, F}: "the bank refused",
		{F, S}: "retried",
		{F, P}: "paid offline after the channel failed",
		{A, D}: "manual payout mode: settled to available",
		{F, D}: "the owner withdrew from the failed batch's money",
	}
	all := []settlement.State{N, A, S, P, F, D}
	for _, from := range all {
		for _, to := range all {
			why, want := allowed[[2]settlement.State{from, to}]
			t.Run(fmt.Sprintf("%s to %s", from, to), func(t *testing.T) {
				if got := settlement.CanMove(from, to); got != want {
					t.Errorf("CanMove(%s, %s) = %v, want %v %s", from, to, got, want, why)
				}
			})
		}
	}
	for _, s := range all {
		if !s.Valid() || s.Final() != (s == P || s == D) {
			t.Errorf("%s: Valid %v, Final %v", s, s.Valid(), s.Final())
		}
	}
	if settlement.State("PAYING").Valid() || settlement.CanMove("PAYING", P) {
		t.Error("an unknown state is valid or may move")
	}
}
