package bank

import (
	"context"
	"fmt"

	"github.com/paydesk/paydesk"
)

// Refund credits a card with money of an earlier debit, once per Reference.
func (s *Simulator) Refund(ctx context.Context, req RefundRequest) (RefundResult, error) {
	if err := s.wait(ctx); err != nil {
		return RefundResult{}, err
	}
	if err := req.validate(); err != nil {
		return RefundResult{}, err
	}
	if s.rolls(s.cfg.FailureRate) {
		return RefundResult{}, ErrUnavailable
	}
	replay := func(r SimRefund) (RefundResult, error) {
		if r.Req != req {
			return RefundResult{}, paydesk.ErrIdempotencyConflict.WithMessage("refund %s was made before with another debit or amount", req.Reference)
		}
		return r.Res, nil
	}
	if r, found, err := s.store.Refund(ctx, req.Reference); err != nil {
		return RefundResult{}, fmt.Errorf("%w (%v)", ErrUnavailable, err)
	} else if found {
		return replay(r)
	}
	res := RefundResult{Reference: req.Reference, DebitReference: req.DebitReference, BankReference: s.nextRef("R"),
		Amount: req.Amount, Currency: req.Currency, At: s.cfg.Clock()}
	stored, created, err := s.store.AddRefund(ctx, SimRefund{Req: req, Res: res})
	if err != nil {
		return RefundResult{}, err
	}
	out, err := replay(stored)
	if err == nil && created && s.rolls(s.cfg.LostReplyRate) {
		return RefundResult{}, ErrUnavailable
	}
	return out, err
}

// Refunds lists the refunds the bank carried out, in the order it did them.
// It panics if the store cannot be read: it is for tests and tools.
func (s *Simulator) Refunds() []RefundResult {
	out, err := s.store.Refunds(context.Background())
	if err != nil {
		panic(err)
	}
	return out
}
