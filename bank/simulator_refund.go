package bank

import (
	"context"

	"github.com/paydesk/paydesk"
)

type refundRecord struct {
	req RefundRequest
	res RefundResult
}

// Refund credits a card with money of an earlier debit, once per Reference.
func (s *Simulator) Refund(ctx context.Context, req RefundRequest) (RefundResult, error) {
	if err := s.wait(ctx); err != nil {
		return RefundResult{}, err
	}
	if err := req.validate(); err != nil {
		return RefundResult{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.roll(s.cfg.FailureRate) {
		return RefundResult{}, ErrUnavailable
	}
	if r, ok := s.refunds[req.Reference]; ok {
		if r.req != req {
			return RefundResult{}, paydesk.ErrIdempotencyConflict.WithMessage("refund %s was made before with another debit or amount", req.Reference)
		}
		return r.res, nil
	}
	d, ok := s.debits[req.DebitReference]
	if !ok || d.err != nil {
		return RefundResult{}, ErrDebitNotFound
	}
	if req.Currency != d.res.Currency {
		return RefundResult{}, paydesk.ErrCurrencyMismatch.WithMessage("the debit was in %s", d.res.Currency)
	}
	if d.refunded+req.Amount > d.res.Amount {
		return RefundResult{}, ErrRefundExceedsDebit.WithMessage("debit %s of %s has %s refunded already", req.DebitReference, d.res.Amount, d.refunded)
	}
	d.refunded += req.Amount
	res := RefundResult{Reference: req.Reference, DebitReference: req.DebitReference, BankReference: s.nextRef("R"),
		Amount: req.Amount, Currency: req.Currency, At: s.cfg.Clock()}
	s.refunds[req.Reference] = &refundRecord{req: req, res: res}
	if s.roll(s.cfg.LostReplyRate) {
		return RefundResult{}, ErrUnavailable
	}
	return res, nil
}

// Refunds lists the refunds the bank carried out, in the order it did them.
func (s *Simulator) Refunds() []RefundResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]RefundResult, 0, len(s.refunds))
	for _, r := range s.refunds {
		out = append(out, r.res)
	}
	sortByBankRef(out)
	return out
}
