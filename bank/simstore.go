package bank

import (
	"context"
	"sync"
	"time"

	"github.com/paydesk/paydesk"
)

// SimStore is where the Simulator keeps the bank's side: bound cards,
// debits, refunds and payouts. NewGormSimStore keeps them in paydesk's
// database (tables of their own), so they survive restarts and several
// instances share one simulated bank; without a store the Simulator keeps
// them in memory, for tests that need no database.
//
// Every Add is idempotent by the record's reference and atomic: of many
// concurrent Adds of one reference exactly one creates, and each gets the
// record stored under the reference back, with created telling which. The
// Simulator compares the stored request with its own to tell a retry from
// a conflict.
type SimStore interface {
	AddCard(ctx context.Context, token, number string, at time.Time) error
	// CardNumber is the number behind token; found is false for an unknown token.
	CardNumber(ctx context.Context, token string) (number string, found bool, err error)

	Debit(ctx context.Context, reference string) (SimDebit, bool, error)
	AddDebit(ctx context.Context, d SimDebit) (stored SimDebit, created bool, err error)
	// Debits lists the successful debits in the order they were made.
	Debits(ctx context.Context) ([]DebitResult, error)

	Refund(ctx context.Context, reference string) (SimRefund, bool, error)
	// AddRefund records r and adds its amount to its debit's refunded, in
	// one step: ErrDebitNotFound for a debit unknown or declined,
	// ErrCurrencyMismatch, or ErrRefundExceedsDebit when the debit's
	// refunds would exceed it.
	AddRefund(ctx context.Context, r SimRefund) (stored SimRefund, created bool, err error)
	// Refunds lists the refunds in the order they were made.
	Refunds(ctx context.Context) ([]RefundResult, error)

	Payout(ctx context.Context, reference string) (SimPayout, bool, error)
	AddPayout(ctx context.Context, p SimPayout) (stored SimPayout, created bool, err error)
	// DecidePayout moves a SUBMITTED payout to status; decided is false
	// (and p the payout as it is) when it was decided before.
	DecidePayout(ctx context.Context, reference string, status PayoutStatus, reason string, at time.Time) (p SimPayout, decided bool, err error)
	// SubmittedPayouts lists the references of payouts not yet decided.
	SubmittedPayouts(ctx context.Context) ([]string, error)
	// Payouts lists every payout in the order it was submitted.
	Payouts(ctx context.Context) ([]SimPayout, error)
}

// SimDebit is a debit as the simulated bank keeps it.
type SimDebit struct {
	Req DebitRequest
	Res DebitResult
	// Declined is a decline, the bank's final word on the reference.
	Declined bool
	// Refunded is how much of the debit went back to the card.
	Refunded paydesk.Amount
}

// SimRefund is a refund as the simulated bank keeps it.
type SimRefund struct {
	Req RefundRequest
	Res RefundResult
}

// SimPayout is a payout as the simulated bank keeps it.
type SimPayout struct {
	Req PayoutRequest
	P   Payout
}

// memStore is the in-memory SimStore.
type memStore struct {
	mu      sync.Mutex
	cards   map[string]string
	debits  map[string]*SimDebit
	dorder  []string
	refunds map[string]*SimRefund
	rorder  []string
	payouts map[string]*SimPayout
	porder  []string
}

func newMemStore() *memStore {
	return &memStore{cards: map[string]string{}, debits: map[string]*SimDebit{}, refunds: map[string]*SimRefund{}, payouts: map[string]*SimPayout{}}
}

func (m *memStore) AddCard(_ context.Context, token, number string, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cards[token] = number
	return nil
}

func (m *memStore) CardNumber(_ context.Context, token string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, ok := m.cards[token]
	return n, ok, nil
}

func (m *memStore) Debit(_ context.Context, ref string) (SimDebit, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if d, ok := m.debits[ref]; ok {
		return *d, true, nil
	}
	return SimDebit{}, false, nil
}

func (m *memStore) AddDebit(_ context.Context, d SimDebit) (SimDebit, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.debits[d.Req.Reference]; ok {
		return *old, false, nil
	}
	m.debits[d.Req.Reference] = &d
	m.dorder = append(m.dorder, d.Req.Reference)
	return d, true, nil
}

func (m *memStore) Debits(context.Context) ([]DebitResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []DebitResult
	for _, ref := range m.dorder {
		if d := m.debits[ref]; !d.Declined {
			out = append(out, d.Res)
		}
	}
	return out, nil
}

func (m *memStore) Refund(_ context.Context, ref string) (SimRefund, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.refunds[ref]; ok {
		return *r, true, nil
	}
	return SimRefund{}, false, nil
}

func (m *memStore) AddRefund(_ context.Context, r SimRefund) (SimRefund, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.refunds[r.Req.Reference]; ok {
		return *old, false, nil
	}
	d, ok := m.debits[r.Req.DebitReference]
	if err := refundFits(d, ok, r.Req); err != nil {
		return SimRefund{}, false, err
	}
	d.Refunded += r.Req.Amount
	m.refunds[r.Req.Reference] = &r
	m.rorder = append(m.rorder, r.Req.Reference)
	return r, true, nil
}

// refundFits checks a refund against its debit d (found tells whether there is one).
func refundFits(d *SimDebit, found bool, req RefundRequest) error {
	if !found || d.Declined {
		return ErrDebitNotFound
	}
	if req.Currency != d.Res.Currency {
		return paydesk.ErrCurrencyMismatch.WithMessage("the debit was in %s", d.Res.Currency)
	}
	if d.Refunded+req.Amount > d.Res.Amount {
		return ErrRefundExceedsDebit.WithMessage("debit %s of %s has %s refunded already", req.DebitReference, d.Res.Amount, d.Refunded)
	}
	return nil
}

func (m *memStore) Refunds(context.Context) ([]RefundResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]RefundResult, 0, len(m.rorder))
	for _, ref := range m.rorder {
		out = append(out, m.refunds[ref].Res)
	}
	return out, nil
}

func (m *memStore) Payout(_ context.Context, ref string) (SimPayout, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if p, ok := m.payouts[ref]; ok {
		return *p, true, nil
	}
	return SimPayout{}, false, nil
}

func (m *memStore) AddPayout(_ context.Context, p SimPayout) (SimPayout, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.payouts[p.Req.Reference]; ok {
		return *old, false, nil
	}
	m.payouts[p.Req.Reference] = &p
	m.porder = append(m.porder, p.Req.Reference)
	return p, true, nil
}

func (m *memStore) Payouts(context.Context) ([]SimPayout, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]SimPayout, 0, len(m.porder))
	for _, ref := range m.porder {
		out = append(out, *m.payouts[ref])
	}
	return out, nil
}

func (m *memStore) DecidePayout(_ context.Context, ref string, status PayoutStatus, reason string, at time.Time) (SimPayout, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.payouts[ref]
	if !ok {
		return SimPayout{}, false, ErrPayoutNotFound
	}
	if p.P.Status.Final() {
		return *p, false, nil
	}
	p.P.Status, p.P.Reason, p.P.UpdatedAt = status, reason, at
	return *p, true, nil
}

func (m *memStore) SubmittedPayouts(context.Context) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, ref := range m.porder {
		if !m.payouts[ref].P.Status.Final() {
			out = append(out, ref)
		}
	}
	return out, nil
}
