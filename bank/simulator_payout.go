package bank

import (
	"context"
	"time"

	"github.com/paydesk/paydesk"
)

// Payout submits a payout once per Reference. It settles after PayoutDelay
// (or when Complete says, with ManualPayouts), PAID unless the account is
// SimAccountClosed or PayoutFailureRate strikes, and the outcome is then
// delivered as a signed callback.
func (s *Simulator) Payout(ctx context.Context, req PayoutRequest) (Payout, error) {
	if err := s.wait(ctx); err != nil {
		return Payout{}, err
	}
	if err := req.validate(); err != nil {
		return Payout{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.roll(s.cfg.FailureRate) {
		return Payout{}, ErrUnavailable
	}
	if r, ok := s.payouts[req.Reference]; ok {
		if r.req != req {
			return Payout{}, paydesk.ErrIdempotencyConflict.WithMessage("payout %s was submitted before with another account or amount", req.Reference)
		}
		if req.Account.Number == SimAccountNoReply {
			return Payout{}, ErrUnavailable
		}
		return r.p, nil
	}
	if s.closed {
		return Payout{}, ErrUnavailable
	}
	r := &payoutRecord{req: req, p: Payout{Reference: req.Reference, BankReference: s.nextRef("P"), Amount: req.Amount,
		Currency: req.Currency, Status: PayoutSubmitted, UpdatedAt: s.cfg.Clock()}}
	s.payouts[req.Reference] = r
	if !s.cfg.ManualPayouts {
		s.wg.Add(1)
		go s.settle(r)
	}
	if req.Account.Number == SimAccountNoReply || s.roll(s.cfg.LostReplyRate) {
		return Payout{}, ErrUnavailable
	}
	return r.p, nil
}

// PayoutStatus reports a payout's current state.
func (s *Simulator) PayoutStatus(ctx context.Context, reference string) (Payout, error) {
	if err := s.wait(ctx); err != nil {
		return Payout{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.roll(s.cfg.FailureRate) {
		return Payout{}, ErrUnavailable
	}
	r, ok := s.payouts[reference]
	if !ok {
		return Payout{}, ErrPayoutNotFound
	}
	return r.p, nil
}

// Complete decides a SUBMITTED payout (PAID, or FAILED for reason) and
// delivers its callback before returning, as the bank would: for tests and
// ManualPayouts. Completing a decided payout is an error.
func (s *Simulator) Complete(reference string, status PayoutStatus, reason string) error {
	if !status.Final() {
		return paydesk.ErrInvalid.WithMessage("a payout completes PAID or FAILED, not %s", status)
	}
	s.mu.Lock()
	r, ok := s.payouts[reference]
	if !ok {
		s.mu.Unlock()
		return ErrPayoutNotFound
	}
	if r.p.Status.Final() {
		s.mu.Unlock()
		return paydesk.ErrConflict.WithMessage("payout %s is already %s", reference, r.p.Status)
	}
	r.p.Status, r.p.Reason, r.p.UpdatedAt = status, reason, s.cfg.Clock()
	p := r.p
	s.mu.Unlock()
	s.finish(p)
	return nil
}

// settle waits PayoutDelay, decides the payout and delivers its callback.
func (s *Simulator) settle(r *payoutRecord) {
	defer s.wg.Done()
	if !s.pause(s.cfg.PayoutDelay) {
		return
	}
	s.mu.Lock()
	if r.p.Status.Final() { // decided by Complete meanwhile
		s.mu.Unlock()
		return
	}
	r.p.Status, r.p.UpdatedAt = PayoutPaid, s.cfg.Clock()
	switch {
	case r.req.Account.Number == SimAccountClosed:
		r.p.Status, r.p.Reason = PayoutFailed, "account closed"
	case s.roll(s.cfg.PayoutFailureRate):
		r.p.Status, r.p.Reason = PayoutFailed, "rejected by the beneficiary bank"
	}
	p := r.p
	s.mu.Unlock()
	s.finish(p)
}

// finish records a decided payout in the daily file and delivers its callback.
func (s *Simulator) finish(p Payout) {
	if p.Status == PayoutPaid {
		s.recordPaid(p)
	}
	if s.cfg.Deliver == nil {
		return
	}
	body, sig, err := SignCallback(s.cfg.CallbackSecret, Callback{ID: "cb_" + p.BankReference, Reference: p.Reference,
		BankReference: p.BankReference, Status: p.Status, Reason: p.Reason, Amount: p.Amount, Currency: p.Currency, At: p.UpdatedAt})
	if err != nil {
		return
	}
	times := 1
	if s.cfg.DuplicateCallbacks {
		times = 2
	}
	for range times {
		s.deliver(body, sig)
	}
}

// deliver tries a callback up to five times, pausing longer after each failure.
func (s *Simulator) deliver(body []byte, sig string) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	backoff := max(s.cfg.PayoutDelay, 10*time.Millisecond)
	for try := 1; try <= 5; try++ {
		if s.cfg.Deliver(ctx, body, sig) == nil {
			return
		}
		if !s.pause(time.Duration(try) * backoff) {
			return
		}
	}
}

// pause sleeps d and reports false if the simulator closed meanwhile.
func (s *Simulator) pause(d time.Duration) bool {
	if d <= 0 {
		select {
		case <-s.stop:
			return false
		default:
			return true
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.stop:
		return false
	}
}
