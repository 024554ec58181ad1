package bank

import (
	"context"
	"time"

	"github.com/paydesk/paydesk"
)

// Payout submits a payout once per Reference. It settles after PayoutDelay,
// PAID unless the account is SimAccountClosed, and the outcome is then
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
		return r.p, nil
	}
	if s.closed {
		return Payout{}, ErrUnavailable
	}
	r := &payoutRecord{req: req, p: Payout{Reference: req.Reference, BankReference: s.nextRef("P"), Amount: req.Amount,
		Currency: req.Currency, Status: PayoutSubmitted, UpdatedAt: s.cfg.Clock()}}
	s.payouts[req.Reference] = r
	s.wg.Add(1)
	go s.settle(r)
	if s.roll(s.cfg.LostReplyRate) {
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

// settle waits PayoutDelay, decides the payout and delivers its callback.
func (s *Simulator) settle(r *payoutRecord) {
	defer s.wg.Done()
	if !s.pause(s.cfg.PayoutDelay) {
		return
	}
	s.mu.Lock()
	r.p.Status, r.p.UpdatedAt = PayoutPaid, s.cfg.Clock()
	if r.req.Account.Number == SimAccountClosed {
		r.p.Status, r.p.Reason = PayoutFailed, "account closed"
	}
	p := r.p
	s.mu.Unlock()

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
