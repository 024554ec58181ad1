package bank_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/bank/banktest"
)

func newSimulator(t *testing.T, cfg bank.SimulatorConfig) *bank.Simulator {
	t.Helper()
	s := bank.NewSimulator(cfg)
	t.Cleanup(s.Close)
	return s
}

func TestSimulatorKeepsTheChannelContract(t *testing.T) {
	banktest.RunChannelContract(t, func() bank.Channel { return newSimulator(t, bank.SimulatorConfig{}) })
}

func TestSimulatorFailureRateChargesNothing(t *testing.T) {
	ctx := context.Background()
	failing := newSimulator(t, bank.SimulatorConfig{FailureRate: 1, Seed: 1})
	for i := range 20 {
		// No card can be bound at rate 1, and the bank fails before it looks for one.
		_, err := failing.Debit(ctx, bank.DebitRequest{Reference: "r", CardToken: "card_x", Amount: paydesk.Amount(100 + i), Currency: "CNY"})
		if !errors.Is(err, bank.ErrUnavailable) {
			t.Fatalf("debit at failure rate 1: %v, want BANK_UNAVAILABLE", err)
		}
	}
	if n := len(failing.Debits()); n != 0 {
		t.Fatalf("%d debits recorded by calls that failed", n)
	}

	// At a rate of one half, about half fail; with a fixed seed, exactly reproducibly.
	half := newSimulator(t, bank.SimulatorConfig{FailureRate: 0.5, Seed: 42})
	c := banktest.MustBindRetrying(t, half, bank.SimCardOK)
	fails := 0
	for i := range 200 {
		if _, err := half.Debit(ctx, bank.DebitRequest{Reference: fmt.Sprintf("h-%d", i), CardToken: c.Token, Amount: 100, Currency: "CNY"}); err != nil {
			fails++
		}
	}
	if fails < 60 || fails > 140 {
		t.Fatalf("%d of 200 calls failed at rate 0.5", fails)
	}
	if got := len(half.Debits()); got != 200-fails {
		t.Fatalf("%d debits recorded, want %d (one per success)", got, 200-fails)
	}
}

// A lost reply is the case idempotency exists for: the bank charged, the
// caller does not know, and a retry with the same reference tells it.
func TestSimulatorLostReplyIsFoundByRetry(t *testing.T) {
	ctx := context.Background()
	s := newSimulator(t, bank.SimulatorConfig{LostReplyRate: 1})
	card := banktest.MustBind(t, s, bank.SimCardOK)
	req := bank.DebitRequest{Reference: "lost-1", CardToken: card.Token, Amount: 900, Currency: "CNY"}
	if _, err := s.Debit(ctx, req); !errors.Is(err, bank.ErrUnavailable) {
		t.Fatalf("first debit: %v, want a lost reply", err)
	}
	r, err := s.Debit(ctx, req)
	if err != nil || r.Amount != 900 {
		t.Fatalf("retry = %+v, %v; want the recorded debit", r, err)
	}
	if d := s.Debits(); len(d) != 1 || d[0].BankReference != r.BankReference {
		t.Fatalf("debits = %+v, want exactly the one", d)
	}
}

func TestSimulatorLatencyHonoursCancellation(t *testing.T) {
	s := newSimulator(t, bank.SimulatorConfig{Latency: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.BindCard(ctx, banktest.Card(bank.SimCardOK)); !errors.Is(err, context.Canceled) {
		t.Fatalf("bind with a cancelled context: %v", err)
	}
}

type delivery struct {
	body []byte
	sig  string
}

func TestSimulatorPayoutCallbacksAreSignedAndFinal(t *testing.T) {
	ctx := context.Background()
	secret := []byte("callback-secret")
	got := make(chan delivery, 16)
	refusals := 1
	s := newSimulator(t, bank.SimulatorConfig{CallbackSecret: secret, DuplicateCallbacks: true,
		Deliver: func(ctx context.Context, body []byte, sig string) error {
			// The receiver is down for the first try: the bank must try again.
			if refusals > 0 {
				refusals--
				return errors.New("503")
			}
			got <- delivery{body, sig}
			return nil
		}})
	acct := bank.BankAccount{Number: "6222020200112233", Holder: "Tea House Ltd"}
	if _, err := s.Payout(ctx, bank.PayoutRequest{Reference: "p-ok", Account: acct, Amount: 1000, Currency: "CNY"}); err != nil {
		t.Fatal(err)
	}
	want := map[string]bank.PayoutStatus{"p-ok": bank.PayoutPaid}
	callbacks := map[string]int{}
	for range 2 {
		d := <-got
		cb, err := bank.VerifyCallback(secret, d.body, d.sig)
		if err != nil {
			t.Fatalf("verify callback: %v", err)
		}
		if cb.Status != want[cb.Reference] || cb.Amount != 1000 {
			t.Fatalf("callback = %+v", cb)
		}
		callbacks[cb.ID]++
		if _, err := bank.VerifyCallback([]byte("other"), d.body, d.sig); !errors.Is(err, bank.ErrBadSignature) {
			t.Fatalf("callback verified under another secret: %v", err)
		}
	}
	if len(callbacks) != 1 {
		t.Fatalf("a duplicated callback changed its id: %v", callbacks)
	}

	if _, err := s.Payout(ctx, bank.PayoutRequest{Reference: "p-closed", Account: bank.BankAccount{Number: bank.SimAccountClosed, Holder: "Gone Ltd"}, Amount: 500, Currency: "CNY"}); err != nil {
		t.Fatal(err)
	}
	d := <-got
	cb, err := bank.VerifyCallback(secret, d.body, d.sig)
	if err != nil || cb.Status != bank.PayoutFailed || cb.Reason == "" {
		t.Fatalf("payout to a closed account: callback %+v, %v; want FAILED with a reason", cb, err)
	}
	<-got // its duplicate
	p, err := s.PayoutStatus(ctx, "p-closed")
	if err != nil || p.Status != bank.PayoutFailed {
		t.Fatalf("status = %+v, %v", p, err)
	}
}

func TestSimulatorCloseLeavesSlowPayoutsSubmitted(t *testing.T) {
	s := bank.NewSimulator(bank.SimulatorConfig{PayoutDelay: time.Hour})
	p, err := s.Payout(context.Background(), bank.PayoutRequest{Reference: "slow", Account: bank.BankAccount{Number: "6222020200112233", Holder: "X"}, Amount: 1, Currency: "CNY"})
	if err != nil || p.Status != bank.PayoutSubmitted {
		t.Fatalf("payout = %+v, %v", p, err)
	}
	s.Close()
	if p, _ := s.PayoutStatus(context.Background(), "slow"); p.Status != bank.PayoutSubmitted {
		t.Fatalf("status after close = %s", p.Status)
	}
	if _, err := s.Payout(context.Background(), bank.PayoutRequest{Reference: "late", Account: bank.BankAccount{Number: "6222020200112233", Holder: "X"}, Amount: 1, Currency: "CNY"}); !errors.Is(err, bank.ErrUnavailable) {
		t.Fatalf("payout after close: %v", err)
	}
}
