package bank

import (
	"context"
	"fmt"
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
	if s.rolls(s.cfg.FailureRate) {
		return Payout{}, ErrUnavailable
	}
	replay := func(r SimPayout) (Payout, error) {
		if r.Req != req {
			return Payout{}, paydesk.ErrIdempotencyConflict.WithMessage("payout %s was submitted before with another account or amount", req.Reference)
		}
		if req.Account.Number == SimAccountNoReply {
			return Payout{}, ErrUnavailable
		}
		return r.P, nil
	}
	if r, found, err := s.store.Payout(ctx, req.Reference); err != nil {
		return Payout{}, fmt.Errorf("%w (%v)", ErrUnavailable, err)
	} else if found {
		return replay(r)
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return Payout{}, ErrUnavailable
	}
	stored, created, err := s.store.AddPayout(ctx, SimPayout{Req: req, P: Payout{Reference: req.Reference, BankReference: s.nextRef("P"),
		Amount: req.Amount, Currency: req.Currency, Status: PayoutSubmitted, UpdatedAt: s.cfg.Clock()}})
	if err != nil {
		return Payout{}, fmt.Errorf("%w (%v)", ErrUnavailable, err)
	}
	if !created {
		return replay(stored)
	}
	if !s.cfg.ManualPayouts {
		s.startSettling(req.Reference, s.cfg.PayoutDelay)
	}
	if req.Account.Number == SimAccountNoReply || s.rolls(s.cfg.LostReplyRate) {
		return Payout{}, ErrUnavailable
	}
	return stored.P, nil
}

// PayoutStatus reports a payout's current state. It answers for every
// reference the bank ever accepted, whichever instance took it and across
// restarts, when the Store is the database.
func (s *Simulator) PayoutStatus(ctx context.Context, reference string) (Payout, error) {
	if err := s.wait(ctx); err != nil {
		return Payout{}, err
	}
	if s.rolls(s.cfg.FailureRate) {
		return Payout{}, ErrUnavailable
	}
	r, found, err := s.store.Payout(ctx, reference)
	if err != nil {
		return Payout{}, fmt.Errorf("%w (%v)", ErrUnavailable, err)
	}
	if !found {
		return Payout{}, ErrPayoutNotFound
	}
	return r.P, nil
}

// Complete decides a SUBMITTED payout (PAID, or FAILED for reason) and
// delivers its callback before returning, as the bank would: for tests and
// ManualPayouts. Completing a decided payout is an error.
func (s *Simulator) Complete(reference string, status PayoutStatus, reason string) error {
	if !status.Final() {
		return paydesk.ErrInvalid.WithMessage("a payout completes PAID or FAILED, not %s", status)
	}
	p, decided, err := s.store.DecidePayout(context.Background(), reference, status, reason, s.cfg.Clock())
	if err != nil {
		return err
	}
	if !decided {
		return paydesk.ErrConflict.WithMessage("payout %s is already %s", reference, p.P.Status)
	}
	s.finish(p.P)
	return nil
}

// startSettling settles reference in a goroutine after delay, unless one
// of this simulator's goroutines settles it already or it closed.
func (s *Simulator) startSettling(reference string, delay time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.settling[reference] {
		return
	}
	s.settling[reference] = true
	s.wg.Add(1)
	go s.settle(reference, delay)
}

// settle waits delay, decides the payout and delivers its callback. Of
// several simulators settling one payout (instances sharing the Store), the
// store's conditional update lets exactly one decide and call back.
func (s *Simulator) settle(reference string, delay time.Duration) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.settling, reference)
		s.mu.Unlock()
	}()
	if !s.pause(delay) {
		return
	}
	ctx := context.Background()
	r, found, err := s.store.Payout(ctx, reference)
	if err != nil || !found || r.P.Status.Final() { // decided by Complete or another instance meanwhile
		return
	}
	status, reason := PayoutPaid, ""
	switch {
	case r.Req.Account.Number == SimAccountClosed:
		status, reason = PayoutFailed, "account closed"
	case s.rolls(s.cfg.PayoutFailureRate):
		status, reason = PayoutFailed, "rejected by the beneficiary bank"
	}
	p, decided, err := s.store.DecidePayout(ctx, reference, status, reason, s.cfg.Clock())
	if err != nil || !decided {
		return
	}
	s.finish(p.P)
}

// sweepLoop settles, every SweepInterval, the SUBMITTED payouts in the
// Store that no goroutine of this simulator is settling: those submitted
// before a restart, or by another process (an operator command, another
// instance) that may have exited since. The first sweep runs at once.
func (s *Simulator) sweepLoop() {
	defer s.wg.Done()
	every := s.cfg.SweepInterval
	if every <= 0 {
		every = max(s.cfg.PayoutDelay, time.Second)
	}
	for {
		s.Sweep(context.Background())
		if !s.pause(every) {
			return
		}
	}
}

// Sweep starts settling every SUBMITTED payout of the Store that this
// simulator is not settling yet (after PayoutDelay); it returns how many.
// It is what the sweep loop runs, exported for tests and tools.
func (s *Simulator) Sweep(ctx context.Context) (int, error) {
	if s.cfg.ManualPayouts {
		return 0, nil
	}
	refs, err := s.store.SubmittedPayouts(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, ref := range refs {
		s.mu.Lock()
		busy := s.settling[ref]
		s.mu.Unlock()
		if !busy {
			s.startSettling(ref, s.cfg.PayoutDelay)
			n++
		}
	}
	return n, nil
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
