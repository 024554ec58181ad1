package settlement_test

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/settlement"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// submitted makes one sale at s and runs the scheduler past the cut-off:
// the day's batch is SUBMITTED to the bank.
func (w *world) submitted(t testing.TB, s *shop) settlement.Batch {
	t.Helper()
	day := calendar.DayOf(w.clock.Now())
	w.pay(t, s, w.customer(t, 100_000), "sale-"+day.String(), 10_000)
	w.clock.Set(calendar.End(day).Add(3 * time.Minute))
	w.tick(t)
	b := w.batchOf(t, s, day)
	wantState(t, "the day's batch", b.State, settlement.Submitted)
	return b
}

// clearing is the balance of bank:clearing, where payouts go.
func (w *world) clearing(t testing.TB) paydesk.Amount {
	t.Helper()
	a, err := w.ledger.AccountByCode(context.Background(), ledger.ClearingAccount)
	if err != nil {
		t.Fatal(err)
	}
	return a.Balance
}

// signed is a bank callback about batch b, signed with the bank's secret.
func signed(t testing.TB, b settlement.Batch, status bank.PayoutStatus, amount paydesk.Amount) ([]byte, string) {
	t.Helper()
	body, sig, err := bank.SignCallback([]byte(callbackSecret), bank.Callback{ID: "cb-" + b.Reference + "-" + string(status), Reference: b.Reference,
		BankReference: "P" + b.Reference, Status: status, Amount: amount, Currency: b.Currency, At: testStart, Reason: reasonFor(status)})
	if err != nil {
		t.Fatal(err)
	}
	return body, sig
}

func reasonFor(s bank.PayoutStatus) string {
	if s == bank.PayoutFailed {
		return "account frozen"
	}
	return ""
}

func (w *world) callback(t testing.TB, body []byte, sig string) bool {
	t.Helper()
	changed, err := w.svc.HandleCallback(context.Background(), body, sig)
	if err != nil {
		t.Fatalf("callback: %v", err)
	}
	return changed
}

func TestCallbackWithABadSignatureChangesNothing(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		w := newWorld(t, db, noCallbacks)
		s := w.openShop(t, "Tea", 1, "6222020200112233")
		b := w.submitted(t, s)
		before, clearing := w.agree(t, s), w.clearing(t)

		body, sig := signed(t, b, bank.PayoutPaid, b.Amount)
		forged, _, _ := bank.SignCallback([]byte("not-the-secret"), bank.Callback{ID: "x", Reference: b.Reference, Status: bank.PayoutPaid, Amount: b.Amount, Currency: b.Currency})
		_, forgedSig, _ := bank.SignCallback([]byte("not-the-secret"), bank.Callback{ID: "x", Reference: b.Reference, Status: bank.PayoutPaid, Amount: b.Amount, Currency: b.Currency})
		tampered := append([]byte(nil), body...)
		tampered[len(tampered)-3] ^= 1
		for name, c := range map[string]struct {
			body []byte
			sig  string
		}{
			"signed with another secret": {forged, forgedSig},
			"body changed after signing": {tampered, sig},
			"no signature":               {body, ""},
			"signature of another body":  {body, forgedSig},
			"garbage":                    {[]byte("{"), "zz"},
		} {
			changed, err := w.svc.HandleCallback(context.Background(), c.body, c.sig)
			if changed || paydesk.AsError(err).Kind != paydesk.KindUnauthorized || paydesk.ErrorCode(err) != "BANK_CALLBACK_INVALID" {
				t.Errorf("%s: changed %v, error %v; want BANK_CALLBACK_INVALID (401)", name, changed, err)
			}
		}
		if got := w.batchOf(t, s, b.BusinessDay); got.State != settlement.Submitted || got.Version != b.Version {
			t.Fatalf("after forged callbacks the batch is %s (version %d → %d)", got.State, b.Version, got.Version)
		}
		if after := w.agree(t, s); after != before || w.clearing(t) != clearing {
			t.Fatalf("forged callbacks moved money: %+v → %+v", before, after)
		}
		// The genuine one still works.
		if !w.callback(t, body, sig) {
			t.Fatal("the genuine callback changed nothing")
		}
	})
}

func TestTheSameCallbackTwiceChangesOnce(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		w := newWorld(t, db, noCallbacks)
		s := w.openShop(t, "Tea", 1, "6222020200112233")
		b := w.submitted(t, s)
		clearing := w.clearing(t)
		body, sig := signed(t, b, bank.PayoutPaid, b.Amount)

		// Delivered twice at once, and again later.
		var changes atomic.Int32
		done := make(chan error, 4)
		for range 4 {
			go func() {
				changed, err := w.svc.HandleCallback(context.Background(), body, sig)
				if changed {
					changes.Add(1)
				}
				done <- err
			}()
		}
		for range 4 {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
		if w.callback(t, body, sig) || changes.Load() != 1 {
			t.Fatalf("%d of 5 deliveries of one callback changed the batch, want 1", changes.Load())
		}
		wantState(t, "the batch", w.batchOf(t, s, b.BusinessDay).State, settlement.Paid)
		if got := w.clearing(t) - clearing; got != b.Amount {
			t.Fatalf("the bank got %s, want %s once", got, b.Amount)
		}
		if got := w.events.states(settlement.EventSettlementUpdated, b.ID); !slices.Equal(got, []string{"NOT_DUE", "AWAITING_PAYMENT", "SUBMITTED", "PAID"}) {
			t.Fatalf("events %v", got)
		}
		w.agree(t, s)
	})
}

func TestLateAndOutOfOrderCallbacksChangeNothing(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		w := newWorld(t, db, noCallbacks)
		s := w.openShop(t, "Tea", 1, "6222020200112233")
		first := w.submitted(t, s)

		// Attempt 1 fails; the operator retries; attempt 2 is in flight.
		failBody, failSig := signed(t, first, bank.PayoutFailed, first.Amount)
		if !w.callback(t, failBody, failSig) {
			t.Fatal("the FAILED callback changed nothing")
		}
		retried, err := w.svc.RetryBatch(context.Background(), first.ID)
		if err != nil || retried.State != settlement.Submitted || retried.Attempt != 2 {
			t.Fatalf("retry: %+v %v", retried, err)
		}
		before := w.agree(t, s)

		// Late news of attempt 1: the same FAILED again, a contradicting
		// PAID, a SUBMITTED. None touches attempt 2 or the money.
		okBody, okSig := signed(t, first, bank.PayoutPaid, first.Amount)
		subBody, subSig := signed(t, first, bank.PayoutSubmitted, first.Amount)
		for _, c := range [][2][]byte{{failBody, []byte(failSig)}, {okBody, []byte(okSig)}, {subBody, []byte(subSig)}} {
			if w.callback(t, c[0], string(c[1])) {
				t.Fatalf("a late callback for attempt 1 changed something: %s", c[0])
			}
		}
		if got := w.batchOf(t, s, first.BusinessDay); got.State != settlement.Submitted || got.Attempt != 2 || w.agree(t, s) != before {
			t.Fatalf("after late callbacks: %+v", got)
		}

		// Attempt 2 is paid; a SUBMITTED for it arriving after the PAID, and
		// a FAILED, change nothing.
		paid2, paid2Sig := signed(t, retried, bank.PayoutPaid, retried.Amount)
		if !w.callback(t, paid2, paid2Sig) {
			t.Fatal("attempt 2's PAID changed nothing")
		}
		after := w.agree(t, s)
		for _, st := range []bank.PayoutStatus{bank.PayoutSubmitted, bank.PayoutFailed} {
			body, sig := signed(t, retried, st, retried.Amount)
			if w.callback(t, body, sig) {
				t.Fatalf("a %s after PAID changed something", st)
			}
		}
		if got := w.batchOf(t, s, first.BusinessDay); got.State != settlement.Paid || w.agree(t, s) != after {
			t.Fatalf("after out-of-order callbacks: %+v", got)
		}

		// A genuine callback that disagrees with the payout's amount is refused.
		body, sig := signed(t, retried, bank.PayoutPaid, retried.Amount+1)
		_, err = w.svc.HandleCallback(context.Background(), body, sig)
		wantCode(t, err, "BANK_CALLBACK_MISMATCH")
	})
}

// lossyBank drops requests before they reach the bank while drop is set:
// the caller sees BANK_UNAVAILABLE and the bank has nothing.
type lossyBank struct {
	bank.Channel
	drop   atomic.Bool
	payout atomic.Int32 // Payout calls that reached the bank
}

func (b *lossyBank) Payout(ctx context.Context, req bank.PayoutRequest) (bank.Payout, error) {
	if b.drop.Load() {
		return bank.Payout{}, bank.ErrUnavailable
	}
	b.payout.Add(1)
	return b.Channel.Payout(ctx, req)
}

func (b *lossyBank) PayoutStatus(ctx context.Context, ref string) (bank.Payout, error) {
	if b.drop.Load() {
		return bank.Payout{}, bank.ErrUnavailable
	}
	return b.Channel.PayoutStatus(ctx, ref)
}

// TestUnansweredPayoutIsQueriedAndNeverPaidTwice: the bank takes a payout
// but its reply is lost. The scheduler asks (PayoutStatus), learns the
// bank has it, and later that it is PAID; the bank's callback arriving
// after that changes nothing. A request lost before it reached the bank is
// found missing and sent again under the same reference. Either way the
// bank pays once.
func TestUnansweredPayoutIsQueriedAndNeverPaidTwice(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		var lossy *lossyBank
		w := newWorld(t, db, noCallbacks, func(s *setup) {
			s.wrapBank = func(c bank.Channel) bank.Channel { lossy = &lossyBank{Channel: c}; return lossy }
		})
		query := w.svc.Config().QueryAfter

		// The reply is lost: the bank has the payout, paydesk does not know.
		s := w.openShop(t, "Tea", 1, bank.SimAccountNoReply)
		b := w.submitted(t, s)
		clearing := w.clearing(t)
		if p, err := w.bank.PayoutStatus(ctx, b.Reference); err != nil || p.Status != bank.PayoutSubmitted {
			t.Fatalf("the bank has %+v %v", p, err)
		}
		w.tick(t) // too early to ask
		w.clock.Advance(query)
		w.tick(t) // asks: SUBMITTED
		if err := w.bank.Complete(b.Reference, bank.PayoutPaid, ""); err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(query)
		w.tick(t) // asks again: PAID
		wantState(t, "the batch after the query", w.batchOf(t, s, b.BusinessDay).State, settlement.Paid)
		// The bank's callback comes late, twice.
		p, _ := w.bank.PayoutStatus(ctx, b.Reference)
		body, sig, _ := bank.SignCallback([]byte(callbackSecret), bank.Callback{ID: "cb1", Reference: p.Reference, BankReference: p.BankReference,
			Status: p.Status, Amount: p.Amount, Currency: p.Currency, At: p.UpdatedAt})
		if w.callback(t, body, sig) || w.callback(t, body, sig) {
			t.Fatal("the late callback changed a batch the query had settled")
		}
		if got := w.clearing(t) - clearing; got != b.Amount {
			t.Fatalf("paid out %s, want %s once", got, b.Amount)
		}
		w.agree(t, s)

		// The request is lost on the way: the bank never had it.
		s2 := w.openShop(t, "Noodle", 1, "6222020200112233")
		lossy.drop.Store(true)
		b2 := w.submitted(t, s2)
		w.clock.Advance(query)
		w.tick(t) // the bank is still unreachable: nothing changes
		lossy.drop.Store(false)
		if _, err := w.bank.PayoutStatus(ctx, b2.Reference); paydesk.ErrorCode(err) != "PAYOUT_NOT_FOUND" {
			t.Fatalf("the bank has the lost payout: %v", err)
		}
		sent := lossy.payout.Load()
		w.clock.Advance(query)
		w.tick(t) // not found: sent again, same reference
		if p, err := w.bank.PayoutStatus(ctx, b2.Reference); err != nil || p.Status != bank.PayoutSubmitted || lossy.payout.Load() != sent+1 {
			t.Fatalf("resubmitted payout: %+v %v (%d calls)", p, err, lossy.payout.Load()-sent)
		}
		w.clock.Advance(query)
		w.tick(t) // the bank has it now: nothing is sent again
		if lossy.payout.Load() != sent+1 {
			t.Fatalf("the payout was sent %d more times", lossy.payout.Load()-sent-1)
		}
		if err := w.bank.Complete(b2.Reference, bank.PayoutPaid, ""); err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(query)
		w.tick(t)
		got := w.batchOf(t, s2, b2.BusinessDay)
		if got.State != settlement.Paid || got.Attempt != 1 {
			t.Fatalf("the lost payout: %+v", got)
		}
		w.agree(t, s2)
	})
}
