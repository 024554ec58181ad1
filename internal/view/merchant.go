package view

import (
	"time"

	"github.com/paydesk/paydesk/merchant"
	"github.com/paydesk/paydesk/settlement"
)

// Merchant is a merchant as the platform operator sees it (`paydesk
// merchant list|set`): its terms, status and the marker of the tool that
// made it. Staff see the part of it that is theirs in GET /v1/me.
type Merchant struct {
	ID             int64     `json:"id"`
	Name           string    `json:"name"`
	Currency       string    `json:"currency"`
	FeeRate        int64     `json:"fee_rate"`
	SettlementDays int       `json:"settlement_days"`
	TimeZone       string    `json:"time_zone"`
	Status         string    `json:"status"`
	Marker         string    `json:"marker"`
	CreatedAt      time.Time `json:"created_at"`
	// PayoutMode is set where the command reads it (merchant set).
	PayoutMode settlement.PayoutMode `json:"payout_mode,omitempty"`
}

// MerchantOf is m's JSON shape, without the payout mode.
func MerchantOf(m merchant.Merchant) Merchant {
	return Merchant{ID: m.ID, Name: m.Name, Currency: string(m.Currency), FeeRate: int64(m.FeeRate), SettlementDays: m.SettlementDays,
		TimeZone: m.TimeZone, Status: m.Status, Marker: m.Marker, CreatedAt: m.CreatedAt}
}

// Reconciliation is `paydesk reconcile`'s report: the ledger's payouts of
// a day against the bank's file.
type Reconciliation struct {
	Date        string       `json:"date"`
	File        string       `json:"file"`
	Matched     int          `json:"matched"`
	LedgerTotal int64        `json:"ledger_total"`
	BankTotal   int64        `json:"bank_total"`
	Differences []Difference `json:"differences"`
}

// Difference is one payout the ledger and the bank disagree on.
type Difference struct {
	Kind          string `json:"kind"`
	Reference     string `json:"reference"`
	BankReference string `json:"bank_reference"`
	LedgerAmount  int64  `json:"ledger_amount"`
	BankAmount    int64  `json:"bank_amount"`
	Detail        string `json:"detail"`
}

// ReconciliationOf is r's JSON shape, for the bank's file at file.
func ReconciliationOf(r settlement.Reconciliation, file string) Reconciliation {
	out := Reconciliation{Date: r.Day.String(), File: file, Matched: r.Matched, LedgerTotal: int64(r.LedgerTotal), BankTotal: int64(r.BankTotal),
		Differences: make([]Difference, len(r.Differences))}
	for i, d := range r.Differences {
		out.Differences[i] = Difference{Kind: d.Kind, Reference: d.Reference, BankReference: d.BankReference,
			LedgerAmount: int64(d.LedgerAmount), BankAmount: int64(d.BankAmount), Detail: d.Detail}
	}
	return out
}
