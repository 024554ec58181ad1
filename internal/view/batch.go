package view

import (
	"time"

	"github.com/paydesk/paydesk/settlement"
)

// Batch is a settlement batch: GET /v1/settlements (the OpenAPI's
// Settlement), the settlement.updated event's data and the operator's
// `paydesk settle` print it alike.
type Batch struct {
	ID          int64      `json:"id"`
	BusinessDay string     `json:"business_day"`
	State       string     `json:"state"`
	Payments    int64      `json:"payments"`
	Refunds     int64      `json:"refunds"`
	Fees        int64      `json:"fees"`
	Net         int64      `json:"net"`
	Adjustment  int64      `json:"adjustment"`
	Amount      int64      `json:"amount"`
	Currency    string     `json:"currency"`
	DueAt       time.Time  `json:"due_at"`
	Attempt     int        `json:"attempt"`
	Reference   string     `json:"reference,omitempty"`
	Offline     bool       `json:"offline"`
	Reason      string     `json:"reason,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	SubmittedAt *time.Time `json:"submitted_at,omitempty"`
	PaidAt      *time.Time `json:"paid_at,omitempty"`
	FailedAt    *time.Time `json:"failed_at,omitempty"`
}

// BatchOf is b's JSON shape.
func BatchOf(b settlement.Batch) Batch {
	return Batch{ID: b.ID, BusinessDay: b.BusinessDay.String(), State: string(b.State), Payments: int64(b.Payments),
		Refunds: int64(b.Refunds), Fees: int64(b.Fees), Net: int64(b.Net), Adjustment: int64(b.Adjustment), Amount: int64(b.Amount),
		Currency: string(b.Currency), DueAt: b.DueAt, Attempt: b.Attempt, Reference: b.Reference, Offline: b.Offline, Reason: b.Reason,
		CreatedAt: b.CreatedAt, UpdatedAt: b.UpdatedAt, SubmittedAt: b.SubmittedAt, PaidAt: b.PaidAt, FailedAt: b.FailedAt}
}
