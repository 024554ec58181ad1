package settlement

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/merchant"
)

// subject is a batch or a withdrawal as the payout pipeline sees it.
type subject struct {
	kind       string // KindSettlement or KindWithdrawal
	id         int64
	merchantID int64
	amount     paydesk.Amount
	fee        paydesk.Amount
	currency   paydesk.Currency
	memo       string
	Payout
}

func batchSubject(b Batch) subject {
	return subject{kind: KindSettlement, id: b.ID, merchantID: b.MerchantID, amount: b.Amount, currency: b.Currency,
		memo: "settlement of " + b.BusinessDay.String(), Payout: b.Payout}
}

func withdrawalSubject(w Withdrawal) subject {
	return subject{kind: KindWithdrawal, id: w.ID, merchantID: w.MerchantID, amount: w.Amount, fee: w.Fee, currency: w.Currency,
		memo: "withdrawal " + w.RequestNo, Payout: w.Payout}
}

// payoutReference names attempt n of a subject at the bank.
func payoutReference(kind string, id int64, n int) string {
	prefix := "stl"
	if kind == KindWithdrawal {
		prefix = "wdr"
	}
	return fmt.Sprintf("%s-%d-%d", prefix, id, n)
}

// Ledger references of a payout's steps: one transfer each, so a step
// replayed by a second instance or a duplicated callback posts nothing.
func freezeRef(ref string) string { return "payout:" + ref + ":freeze" }
func paidRef(ref string) string   { return "payout:" + ref + ":paid" }
func failedRef(ref string) string { return "payout:" + ref + ":failed" }

// post records a transfer inside the transaction ctx carries, and puts a
// merchant account running short in the merchant's terms.
func (s *Service) post(ctx context.Context, kind, ref, memo string, ps ...ledger.Posting) error {
	var kept []ledger.Posting
	for _, p := range ps {
		if p.Amount > 0 {
			kept = append(kept, p)
		}
	}
	if len(kept) == 0 {
		return nil
	}
	_, err := s.ledger.Post(ctx, ledger.Transfer{Reference: ref, Kind: kind, Memo: truncate(memo, 255), Postings: kept}, nil)
	var short *ledger.InsufficientFunds
	if errors.As(err, &short) {
		// Named as the owner's screen names it ("available"), never by the
		// ledger's internal account code.
		name := short.Code[strings.LastIndex(short.Code, ":")+1:]
		return ErrInsufficientBalance.WithMessage("the %s balance is %s; this needs %s", name, short.Balance, short.Requested)
	}
	return err
}

// startAttempt sends subject sub (in state from) on its next attempt: in
// the transaction ctx carries, it moves to SUBMITTED, records the attempt
// for account, freezes the money (from source, plus the fee for a
// withdrawal) and tells the apps. The caller sends the attempt to the bank
// once the transaction has committed.
func (s *Service) startAttempt(ctx context.Context, sub subject, from State, source ledger.AccountID, m merchant.Merchant, account BankAccount) (Attempt, error) {
	if err := move(from, Submitted); err != nil {
		return Attempt{}, err
	}
	if sub.State != from {
		return Attempt{}, errChanged
	}
	now := s.clock()
	n := sub.Attempt + 1
	ref := payoutReference(sub.kind, sub.id, n)
	ok, err := s.store.UpdatePayout(ctx, sub.kind, sub.id, sub.Version, map[string]any{"state": string(Submitted), "attempt": n,
		"reference": ref, "reason": "", "offline": false, "submitted_at": now, "updated_at": now})
	if err != nil {
		return Attempt{}, err
	}
	if !ok {
		return Attempt{}, errChanged
	}
	a := Attempt{Reference: ref, Kind: sub.kind, SubjectID: sub.id, MerchantID: sub.merchantID, Attempt: n, Channel: channelBank,
		Amount: int64(sub.amount), Currency: string(sub.currency), AccountNumber: account.Number, AccountHolder: account.Holder,
		BankName: account.BankName, Status: attemptSubmitting, NextCheckAt: now.Add(s.cfg.QueryAfter), CreatedAt: now, UpdatedAt: now}
	if err := s.store.CreateAttempt(ctx, &a); err != nil {
		return Attempt{}, err
	}
	plat, err := s.ledger.Platform(ctx, sub.currency)
	if err != nil {
		return Attempt{}, err
	}
	ps := []ledger.Posting{{Source: source, Destination: m.Accounts.Frozen, Amount: sub.amount}}
	if sub.kind == KindWithdrawal && n == 1 {
		ps = append(ps, ledger.Posting{Source: source, Destination: plat.Fees, Amount: sub.fee})
	}
	if err := s.post(ctx, sub.kind, freezeRef(ref), sub.memo, ps...); err != nil {
		return Attempt{}, err
	}
	return a, s.emitSubject(ctx, sub.kind, sub.id)
}

// errChanged aborts a step whose payout another instance changed first:
// that instance did the step, so there is nothing left to do.
var errChanged = errors.New("settlement: the payout changed meanwhile")

// send submits an attempt to the bank and applies what the bank answered.
// The bank call runs outside any transaction and survives the caller
// giving up (a client hanging up on POST /v1/withdrawals): a payout half
// asked for is worse than one asked for in full.
func (s *Service) send(ctx context.Context, a Attempt) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.BankTimeout)
	defer cancel()
	p, err := s.bank.Payout(ctx, a.request())
	return s.answered(ctx, a, p, err, true)
}

// check asks the bank where an unanswered attempt stands. An attempt the
// bank does not know is submitted again under the same reference: it never
// reached the bank, or (a bank that forgot a payout it had accepted, such
// as the in-memory Simulator after a restart) the bank will take it as new.
// Either way the reference keeps the bank from paying it twice.
func (s *Service) check(ctx context.Context, a Attempt) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.BankTimeout)
	defer cancel()
	p, err := s.bank.PayoutStatus(ctx, a.Reference)
	if errors.Is(err, bank.ErrPayoutNotFound) {
		if a.Status != attemptSubmitting {
			s.log.Warn("the bank no longer knows a payout it accepted; submitting it again", "reference", a.Reference, "bank_reference", a.BankReference)
		}
		p, err = s.bank.Payout(ctx, a.request())
		return s.answered(ctx, a, p, err, true)
	}
	return s.answered(ctx, a, p, err, false)
}

// answered applies the bank's answer about attempt a.
func (s *Service) answered(ctx context.Context, a Attempt, p bank.Payout, err error, submitting bool) error {
	switch {
	case err == nil && p.Status.Final():
		_, err := s.applyOutcome(ctx, a.Reference, p.Status, p.Reason, p.BankReference, p.UpdatedAt)
		return err
	case err == nil:
		if _, err := s.applyOutcome(ctx, a.Reference, bank.PayoutSubmitted, "", p.BankReference, p.UpdatedAt); err != nil {
			return err
		}
		return s.later(ctx, a)
	case submitting && refused(err):
		// The bank looked at the payout and said no (a malformed account,
		// say): as final as a FAILED callback, and the money goes back.
		_, err := s.applyOutcome(ctx, a.Reference, bank.PayoutFailed, paydesk.AsError(err).Message, "", s.clock())
		return err
	}
	level := slog.LevelWarn
	if !errors.Is(err, bank.ErrUnavailable) && !errors.Is(err, context.DeadlineExceeded) {
		level = slog.LevelError
	}
	s.log.Log(ctx, level, "payout got no answer; asking again later", "reference", a.Reference, "error", err)
	return s.later(ctx, a)
}

// refused reports whether the bank rejected a payout request outright.
func refused(err error) bool {
	e := paydesk.AsError(err)
	return e.Kind == paydesk.KindInvalid
}

// later puts off the next check of a payout by QueryAfter.
func (s *Service) later(ctx context.Context, a Attempt) error {
	now := s.clock()
	_, err := s.store.UpdateAttempt(ctx, a.Reference, []string{attemptSubmitting, string(bank.PayoutSubmitted)},
		map[string]any{"next_check_at": now.Add(s.cfg.QueryAfter), "tries": a.Tries + 1, "updated_at": now})
	return err
}

// applyOutcome records the bank's word on the payout ref: SUBMITTED (it
// has the payout), PAID or FAILED. It is idempotent and moves forward only:
// the same outcome twice, a late SUBMITTED after PAID, or an answer about
// an attempt already decided changes nothing and reports false.
func (s *Service) applyOutcome(ctx context.Context, ref string, status bank.PayoutStatus, reason, bankRef string, at time.Time) (bool, error) {
	var changed bool
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		changed = false
		now := s.clock()
		a, err := s.store.Attempt(ctx, ref, true)
		if err != nil {
			return err
		}
		if status == bank.PayoutSubmitted {
			changed, err = s.store.UpdateAttempt(ctx, ref, []string{attemptSubmitting},
				map[string]any{"status": string(bank.PayoutSubmitted), "bank_reference": bankRef, "updated_at": now})
			return err
		}
		if a.final() {
			if a.Status != string(status) {
				s.log.Error("the bank contradicts a payout's recorded outcome; reconciliation will list it",
					"reference", ref, "recorded", a.Status, "bank_says", status)
			}
			return nil
		}
		set := map[string]any{"status": string(status), "reason": truncate(reason, 255), "bank_at": at.UTC(), "updated_at": now}
		if bankRef != "" {
			set["bank_reference"] = bankRef
		}
		if changed, err = s.store.UpdateAttempt(ctx, ref, []string{attemptSubmitting, string(bank.PayoutSubmitted)}, set); err != nil || !changed {
			return err
		}
		sub, err := s.subject(ctx, a.Kind, a.SubjectID)
		if err != nil {
			return err
		}
		if sub.State != Submitted || sub.Attempt != a.Attempt {
			return fmt.Errorf("payout %s: its %s %d is %s on attempt %d", ref, a.Kind, a.SubjectID, sub.State, sub.Attempt)
		}
		to := Paid
		if status == bank.PayoutFailed {
			to = Failed
		}
		return s.finish(ctx, sub, a, to, reason)
	})
	return changed, err
}

// finish moves a SUBMITTED subject to PAID or FAILED with its money:
// frozen to the bank, or back to available (with a withdrawal's fee).
func (s *Service) finish(ctx context.Context, sub subject, a Attempt, to State, reason string) error {
	if err := move(sub.State, to); err != nil {
		return err
	}
	m, err := s.merchants.Merchant(ctx, sub.merchantID)
	if err != nil {
		return err
	}
	plat, err := s.ledger.Platform(ctx, sub.currency)
	if err != nil {
		return err
	}
	now := s.clock()
	set := map[string]any{"state": string(to), "updated_at": now}
	var ps []ledger.Posting
	var ref string
	if to == Paid {
		set["paid_at"], set["reason"] = now, ""
		ref, ps = paidRef(a.Reference), []ledger.Posting{{Source: m.Accounts.Frozen, Destination: plat.Clearing, Amount: sub.amount}}
	} else {
		set["failed_at"], set["reason"] = now, truncate(reason, 255)
		ref, ps = failedRef(a.Reference), []ledger.Posting{{Source: m.Accounts.Frozen, Destination: m.Accounts.Available, Amount: sub.amount}}
		if sub.kind == KindWithdrawal {
			ps = append(ps, ledger.Posting{Source: plat.Fees, Destination: m.Accounts.Available, Amount: sub.fee})
		}
	}
	ok, err := s.store.UpdatePayout(ctx, sub.kind, sub.id, sub.Version, set)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%s %d changed while recording payout %s", sub.kind, sub.id, a.Reference)
	}
	memo := sub.memo + " " + a.Reference
	if to == Failed && reason != "" {
		memo += ": " + reason
	}
	if err := s.post(ctx, sub.kind, ref, memo, ps...); err != nil {
		return err
	}
	return s.emitSubject(ctx, sub.kind, sub.id)
}

// subject reads a batch or withdrawal.
func (s *Service) subject(ctx context.Context, kind string, id int64) (subject, error) {
	if kind == KindWithdrawal {
		w, err := s.store.Withdrawal(ctx, 0, id)
		return withdrawalSubject(w), err
	}
	b, err := s.store.Batch(ctx, 0, id)
	return batchSubject(b), err
}

// HandleCallback verifies a bank callback (body and the signature of its
// SignatureHeader) and applies it. It reports whether anything changed:
// a callback delivered twice, late, or after the scheduler's query already
// learnt the outcome changes nothing. A bad signature is
// BANK_CALLBACK_INVALID and nothing is read.
func (s *Service) HandleCallback(ctx context.Context, body []byte, signature string) (bool, error) {
	cb, err := bank.VerifyCallback(s.cfg.CallbackSecret, body, signature)
	if err != nil {
		return false, err
	}
	a, err := s.store.Attempt(ctx, cb.Reference, false)
	if err != nil {
		return false, err
	}
	if a.Amount != int64(cb.Amount) || a.Currency != string(cb.Currency) || a.Channel != channelBank {
		return false, ErrCallbackMismatch.WithMessage("payout %s is %s %s by %s; the callback says %s %s", a.Reference,
			paydesk.Amount(a.Amount), a.Currency, a.Channel, cb.Amount, cb.Currency)
	}
	return s.applyOutcome(ctx, cb.Reference, cb.Status, cb.Reason, cb.BankReference, cb.At)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary: reasons may be Chinese.
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
