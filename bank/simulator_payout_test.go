package bank_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/bank"
)

var payoutAccount = bank.BankAccount{Number: "6222020200112233", Holder: "Tea House Ltd", BankName: "ICBC"}

func payoutReq(ref string, amount paydesk.Amount) bank.PayoutRequest {
	return bank.PayoutRequest{Reference: ref, Account: payoutAccount, Amount: amount, Currency: "CNY"}
}

// callbacks collects what a Simulator delivers.
type callbacks struct {
	mu  sync.Mutex
	got []bank.Callback
}

func (c *callbacks) deliver(secret []byte) func(context.Context, []byte, string) error {
	return func(_ context.Context, body []byte, sig string) error {
		cb, err := bank.VerifyCallback(secret, body, sig)
		if err != nil {
			return err
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		c.got = append(c.got, cb)
		return nil
	}
}

func (c *callbacks) all() []bank.Callback {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.got)
}

func TestManualPayoutsWaitForComplete(t *testing.T) {
	ctx := context.Background()
	secret := []byte("s3cret")
	var cbs callbacks
	dir := t.TempDir()
	at := time.Date(2026, 11, 25, 23, 30, 0, 0, time.UTC)
	s := newSimulator(t, bank.SimulatorConfig{ManualPayouts: true, CallbackSecret: secret, Deliver: cbs.deliver(secret), PayoutFileDir: dir,
		Clock: func() time.Time { return at }})
	for _, ref := range []string{"m-1", "m-2"} {
		if p, err := s.Payout(ctx, payoutReq(ref, 500)); err != nil || p.Status != bank.PayoutSubmitted {
			t.Fatalf("payout %s: %+v %v", ref, p, err)
		}
	}
	if p, _ := s.PayoutStatus(ctx, "m-1"); p.Status != bank.PayoutSubmitted || len(cbs.all()) != 0 {
		t.Fatalf("a manual payout moved by itself: %+v", p)
	}
	if err := s.Complete("m-1", bank.PayoutPaid, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Complete("m-2", bank.PayoutFailed, "account frozen"); err != nil {
		t.Fatal(err)
	}
	got := cbs.all()
	if len(got) != 2 || got[0].Reference != "m-1" || got[0].Status != bank.PayoutPaid || got[1].Status != bank.PayoutFailed || got[1].Reason != "account frozen" {
		t.Fatalf("callbacks %+v", got)
	}
	for _, c := range []struct {
		ref    string
		status bank.PayoutStatus
		code   string
	}{{"m-1", bank.PayoutFailed, "CONFLICT"}, {"m-9", bank.PayoutPaid, "PAYOUT_NOT_FOUND"}, {"m-1", bank.PayoutSubmitted, "INVALID_ARGUMENT"}} {
		if err := s.Complete(c.ref, c.status, ""); paydesk.ErrorCode(err) != c.code {
			t.Errorf("Complete(%s, %s) = %v, want %s", c.ref, c.status, err, c.code)
		}
	}

	// The daily file lists the paid one only; its twin in memory agrees.
	paid, err := bank.ReadPayoutFile(filepath.Join(dir, bank.PayoutFileName("2026-11-25")))
	if err != nil || len(paid) != 1 || paid[0].Reference != "m-1" || paid[0].Amount != 500 || !paid[0].UpdatedAt.Equal(at) {
		t.Fatalf("daily file: %+v %v", paid, err)
	}
	if mem := s.PaidPayouts("2026-11-25"); len(mem) != 1 || mem[0].BankReference != paid[0].BankReference {
		t.Fatalf("in memory: %+v", mem)
	}
}

func TestNoReplyAccountIsFoundByQuery(t *testing.T) {
	ctx := context.Background()
	s := newSimulator(t, bank.SimulatorConfig{ManualPayouts: true})
	req := payoutReq("lost-1", 700)
	req.Account.Number = bank.SimAccountNoReply
	for range 3 {
		if _, err := s.Payout(ctx, req); !errors.Is(err, bank.ErrUnavailable) {
			t.Fatalf("payout to the no-reply account: %v", err)
		}
	}
	p, err := s.PayoutStatus(ctx, "lost-1")
	if err != nil || p.Status != bank.PayoutSubmitted || p.Amount != 700 {
		t.Fatalf("status: %+v %v", p, err)
	}
	if err := s.Complete("lost-1", bank.PayoutPaid, ""); err != nil {
		t.Fatal(err)
	}
	if paid := s.PaidPayouts(time.Now().UTC().Format(time.DateOnly)); len(paid) != 1 {
		t.Fatalf("three submissions of one reference paid %d times", len(paid))
	}
}

func TestPayoutFailureRate(t *testing.T) {
	var cbs callbacks
	secret := []byte("k")
	s := newSimulator(t, bank.SimulatorConfig{PayoutFailureRate: 1, CallbackSecret: secret, Deliver: cbs.deliver(secret)})
	if _, err := s.Payout(context.Background(), payoutReq("f-1", 100)); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); len(cbs.all()) == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond) // the bank calls back on its own goroutine
	}
	if got := cbs.all(); len(got) != 1 || got[0].Status != bank.PayoutFailed || got[0].Reason == "" {
		t.Fatalf("callbacks %+v", got)
	}
}

func TestPostCallbacks(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		bodies = append(bodies, r.Header.Get(bank.SignatureHeader)+" "+string(b))
		w.WriteHeader(status)
	}))
	defer srv.Close()
	post := bank.PostCallbacks(srv.Client(), func() string { return srv.URL + "/v1/bank/callbacks" })
	if err := post(context.Background(), []byte(`{"id":"x"}`), "abc"); err != nil {
		t.Fatal(err)
	}
	status = http.StatusUnauthorized
	if err := post(context.Background(), []byte(`{}`), "bad"); err == nil {
		t.Fatal("a 401 counted as delivered")
	}
	if len(bodies) != 2 || bodies[0] != `abc {"id":"x"}` {
		t.Fatalf("server saw %q", bodies)
	}
}

func TestVerifyCallbackAcceptsEveryStatus(t *testing.T) {
	secret := []byte("k")
	for _, st := range []bank.PayoutStatus{bank.PayoutSubmitted, bank.PayoutPaid, bank.PayoutFailed, "LOST"} {
		body, sig, _ := bank.SignCallback(secret, bank.Callback{ID: "c", Reference: "r", Status: st, Amount: 1, Currency: "CNY"})
		_, err := bank.VerifyCallback(secret, body, sig)
		if (err == nil) != st.Valid() {
			t.Errorf("status %s: %v", st, err)
		}
	}
}
