package settlement

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/bank"
)

// Kinds of reconciliation difference.
const (
	// DiffMissing: the ledger paid it out that day; the bank's file lacks it.
	DiffMissing = "MISSING"
	// DiffExtra: the bank's file has it; the ledger did not pay it that day.
	DiffExtra = "EXTRA"
	// DiffAmount: both have it, with different amounts.
	DiffAmount = "AMOUNT_MISMATCH"
)

// Difference is one disagreement between the ledger and the bank.
type Difference struct {
	Kind          string
	Reference     string
	BankReference string
	LedgerAmount  paydesk.Amount
	BankAmount    paydesk.Amount
	Detail        string
}

// Reconciliation is the comparison of one day's payouts.
type Reconciliation struct {
	Day         Day
	Matched     int
	LedgerTotal paydesk.Amount
	BankTotal   paydesk.Amount
	Differences []Difference
}

// OK reports whether the ledger and the bank agree.
func (r Reconciliation) OK() bool { return len(r.Differences) == 0 }

// Reconcile compares the payouts the ledger booked as paid by the bank on
// day (the bank's business day, in loc) with the bank's file of what it
// paid that day (bankPaid), payout by payout, and lists every difference.
// The ledger's side is the amount of each payout's "paid" transfer to
// bank:clearing; payouts recorded offline are not the bank's and are left
// out. A payout counts on the day the bank says it was paid.
func (s *Service) Reconcile(ctx context.Context, day Day, loc *time.Location, bankPaid []bank.Payout) (Reconciliation, error) {
	cal := Calendar{Location: loc}
	start, end := cal.Start(day), cal.End(day)
	paid, err := s.store.PaidAttempts(ctx, start, end)
	if err != nil {
		return Reconciliation{}, fmt.Errorf("reconcile %s: %w", day, err)
	}
	r := Reconciliation{Day: day}
	byRef := make(map[string]bank.Payout, len(bankPaid))
	for _, p := range bankPaid {
		if _, dup := byRef[p.Reference]; dup {
			r.Differences = append(r.Differences, Difference{Kind: DiffExtra, Reference: p.Reference, BankReference: p.BankReference,
				BankAmount: p.Amount, Detail: "the bank's file lists this payout twice"})
			r.BankTotal += p.Amount
			continue
		}
		byRef[p.Reference] = p
		r.BankTotal += p.Amount
	}
	for _, a := range paid {
		amount, err := s.paidAmount(ctx, a.Reference)
		if err != nil {
			return Reconciliation{}, err
		}
		r.LedgerTotal += amount
		p, ok := byRef[a.Reference]
		delete(byRef, a.Reference)
		switch {
		case !ok:
			r.Differences = append(r.Differences, Difference{Kind: DiffMissing, Reference: a.Reference, BankReference: a.BankReference,
				LedgerAmount: amount, Detail: "paid in the ledger, not in the bank's file"})
		case p.Amount != amount || p.Currency != paydesk.Currency(a.Currency):
			r.Differences = append(r.Differences, Difference{Kind: DiffAmount, Reference: a.Reference, BankReference: p.BankReference,
				LedgerAmount: amount, BankAmount: p.Amount, Detail: fmt.Sprintf("ledger %s %s, bank %s %s", amount, a.Currency, p.Amount, p.Currency)})
		default:
			r.Matched++
		}
	}
	rest := make([]bank.Payout, 0, len(byRef))
	for _, p := range byRef {
		rest = append(rest, p)
	}
	slices.SortFunc(rest, func(a, b bank.Payout) int { return strings.Compare(a.Reference, b.Reference) })
	for _, p := range rest {
		d := Difference{Kind: DiffExtra, Reference: p.Reference, BankReference: p.BankReference, BankAmount: p.Amount, Detail: "unknown to paydesk"}
		if a, err := s.store.Attempt(ctx, p.Reference, false); err == nil {
			d.Detail = "paydesk has it as " + a.Status
			if a.BankAt != nil {
				d.Detail += " on " + a.BankAt.In(loc).Format(time.RFC3339)
			}
		} else if !errors.Is(err, ErrPayoutNotFound) {
			return Reconciliation{}, err
		}
		r.Differences = append(r.Differences, d)
	}
	return r, nil
}

// paidAmount is what the ledger paid out under payout ref: the amount of
// its "paid" transfer, 0 if there is none.
func (s *Service) paidAmount(ctx context.Context, ref string) (paydesk.Amount, error) {
	t, err := s.ledger.TransferByReference(ctx, paidRef(ref))
	if errors.Is(err, paydesk.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var sum paydesk.Amount
	for _, p := range t.Postings {
		sum += p.Amount
	}
	return sum, nil
}
