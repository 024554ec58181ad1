package settlement

import "github.com/paydesk/paydesk"

// State is where a payout to the merchant's bank account stands: a
// settlement batch or a withdrawal. The names are the progress states the
// merchant app shows (seed 004, FAQ 3).
type State string

// The states of SPEC §5.
const (
	NotDue          State = "NOT_DUE"          // 未到付款日: the batch is cut, its due date has not come
	AwaitingPayment State = "AWAITING_PAYMENT" // 等待付款: due, not yet sent to the bank
	Submitted       State = "SUBMITTED"        // 付款已提交: the money is frozen and the payout is with the bank
	Paid            State = "PAID"             // the money arrived (by the channel, or recorded as paid offline)
	Failed          State = "FAILED"           // 付款失败: the bank refused; the money is back in available, reserved for the retry
	// Settled (已结算): the batch's money moved from pending to available,
	// where the owner withdraws it. A manual-payout merchant's batch
	// settles at its due date; a FAILED batch settles when the owner
	// withdraws from its money (Reason says which withdrawal).
	Settled State = "SETTLED"
)

// transitions lists every allowed move; nothing else changes a state.
//
//   - NOT_DUE → AWAITING_PAYMENT when the due date comes.
//   - AWAITING_PAYMENT → SUBMITTED when the payout is sent to the bank.
//   - SUBMITTED → PAID or FAILED when the bank answers.
//   - FAILED → SUBMITTED when it is retried.
//   - NOT_DUE, AWAITING_PAYMENT, FAILED → PAID or FAILED when the operator
//     records a payout made outside the channel (the FAQ 3 problem: money
//     paid by online banking while the app still said "not due"). Nothing
//     may be recorded over SUBMITTED: the bank has the payout and will say.
//   - AWAITING_PAYMENT → PAID for a batch with nothing to pay (its day's
//     refunds ate its money): no bank payout, no money moves.
//   - AWAITING_PAYMENT → SETTLED for a merchant in manual payout mode:
//     pending → available, no bank payout.
//   - FAILED → SETTLED when the owner withdraws from the failed batch's
//     money: the batch gives up its reservation (and its retry) and its
//     money is the owner's to withdraw.
var transitions = map[State][]State{
	NotDue:          {AwaitingPayment, Paid, Failed},
	AwaitingPayment: {Submitted, Paid, Failed, Settled},
	Submitted:       {Paid, Failed},
	Failed:          {Submitted, Paid, Settled},
}

// CanMove reports whether a payout may go from one state to another.
func CanMove(from, to State) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Valid reports whether s is one of the six states.
func (s State) Valid() bool {
	switch s {
	case NotDue, AwaitingPayment, Submitted, Paid, Failed, Settled:
		return true
	}
	return false
}

// Final reports whether no transition leaves s.
func (s State) Final() bool { return s.Valid() && len(transitions[s]) == 0 }

// ErrBadTransition refuses a move the state machine does not allow.
var ErrBadTransition = &paydesk.Error{Kind: paydesk.KindConflict, Code: "PAYOUT_STATE_CONFLICT", Message: "the payout is not in a state that allows this"}

// move checks one transition.
func move(from, to State) error {
	if !CanMove(from, to) {
		return ErrBadTransition.WithMessage("a payout cannot go from %s to %s", from, to)
	}
	return nil
}
