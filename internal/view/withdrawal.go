package view

import (
	"time"

	"github.com/paydesk/paydesk/settlement"
)

// Withdrawal is a withdrawal to the merchant's bank account: GET
// /v1/withdrawals, the balance's withdrawals in flight and the
// withdrawal.updated event's data show it alike.
type Withdrawal struct {
	ID          int64      `json:"id"`
	RequestNo   string     `json:"request_no"`
	Amount      int64      `json:"amount"`
	Fee         int64      `json:"fee"`
	Currency    string     `json:"currency"`
	State       string     `json:"state"`
	Attempt     int        `json:"attempt"`
	Reference   string     `json:"reference,omitempty"`
	Reason      string     `json:"reason,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	SubmittedAt *time.Time `json:"submitted_at,omitempty"`
	PaidAt      *time.Time `json:"paid_at,omitempty"`
	FailedAt    *time.Time `json:"failed_at,omitempty"`
}

// WithdrawalOf is w's JSON shape.
func WithdrawalOf(w settlement.Withdrawal) Withdrawal {
	return Withdrawal{ID: w.ID, RequestNo: w.RequestNo, Amount: int64(w.Amount), Fee: int64(w.Fee), Currency: string(w.Currency),
		State: string(w.State), Attempt: w.Attempt, Reference: w.Reference, Reason: w.Reason, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt,
		SubmittedAt: w.SubmittedAt, PaidAt: w.PaidAt, FailedAt: w.FailedAt}
}
