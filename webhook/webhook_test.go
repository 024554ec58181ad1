package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/internal/seal"
	"github.com/paydesk/paydesk/internal/testkit"
	"github.com/paydesk/paydesk/push"
	"github.com/paydesk/paydesk/rbac"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
	"github.com/paydesk/paydesk/webhook"
)

// env is the webhook service and a dispatcher on one real database.
type env struct {
	db     *storage.DB
	clock  *testkit.Clock
	outbox *push.Outbox
	store  *webhook.GormStorage
	svc    *webhook.Service
}

func newEnv(t testing.TB, db *storage.DB) *env {
	c := testkit.NewClock(time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC))
	e := &env{db: db, clock: c, outbox: push.NewOutbox(db, c.Now), store: webhook.NewGormStorage(db, seal.Must(make([]byte, seal.KeyLen)))}
	e.svc = webhook.NewService(e.store, e.outbox, c.Now)
	return e
}

func (e *env) dispatcher(cfg webhook.Config) *webhook.Dispatcher {
	cfg.AllowPrivate = true
	return webhook.NewDispatcher(e.store, e.outbox, e.clock.Now, cfg, e.svc)
}

var ownerOf = func(merchantID int64) cashier.Actor {
	return cashier.Actor{StaffID: 1, MerchantID: merchantID, Role: rbac.Owner}
}

// emit writes an event of the merchant about an order.
func (e *env) emit(t testing.TB, merchantID, orderID int64, typ push.Type) push.Event {
	t.Helper()
	ev, err := e.outbox.Emit(context.Background(), push.Event{MerchantID: merchantID, OrderID: orderID, Type: typ,
		Data: json.RawMessage(fmt.Sprintf(`{"id":%d}`, orderID))})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// receiver is the merchant's server: it verifies every delivery's
// signature and answers what status says.
type receiver struct {
	t      testing.TB
	secret string
	clock  *testkit.Clock
	mu     sync.Mutex
	got    []push.Event // verified deliveries, in arrival order
	calls  int
	status func(call int, e push.Event) int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	if err := webhook.Verify(r.secret, req.Header.Get(webhook.SignatureHeader), body, r.clock.Now(), 5*time.Minute); err != nil {
		r.t.Errorf("delivery does not verify: %v", err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	var ev struct {
		ID      int64     `json:"id"`
		Seq     int64     `json:"seq"`
		Type    push.Type `json:"type"`
		OrderID int64     `json:"order_id"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		r.t.Errorf("delivery is not an event: %s", body)
	}
	r.mu.Lock()
	r.calls++
	call := r.calls
	e := push.Event{ID: ev.ID, Seq: ev.Seq, Type: ev.Type, OrderID: ev.OrderID}
	status := http.StatusOK
	if r.status != nil {
		status = r.status(call, e)
	}
	if status/100 == 2 {
		r.got = append(r.got, e)
	}
	r.mu.Unlock()
	w.WriteHeader(status)
}

func (r *receiver) callCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

func (r *receiver) received() []push.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// serve starts a receiver and an endpoint of merchantID pointing at it.
func (e *env) serve(t testing.TB, merchantID int64, status func(int, push.Event) int) (*receiver, webhook.Endpoint) {
	t.Helper()
	r := &receiver{t: t, clock: e.clock, status: status}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	ep, err := e.svc.CreateEndpoint(context.Background(), ownerOf(merchantID), webhook.NewEndpoint{URL: srv.URL + "/hooks"})
	if err != nil {
		t.Fatal(err)
	}
	r.secret = ep.Secret
	return r, ep
}

func run(t testing.TB, d *webhook.Dispatcher) webhook.Result {
	t.Helper()
	res, err := d.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestFailingThreeTimesThenDelivered: an endpoint that answers 500 three
// times and then 200 gets the event exactly once more after the failures,
// at the back-off's times and not before, and the log shows it delivered.
func TestFailingThreeTimesThenDelivered(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		rcv, ep := e.serve(t, 7, func(call int, _ push.Event) int {
			if call <= 3 {
				return http.StatusInternalServerError
			}
			return http.StatusOK
		})
		d := e.dispatcher(webhook.Config{})
		ev := e.emit(t, 7, 555, push.PaymentPaid)
		e.emit(t, 8, 556, push.PaymentPaid) // another merchant's: never sent here

		for attempt := 1; attempt <= 3; attempt++ {
			if res := run(t, d); res.Failed != 1 || res.Delivered != 0 {
				t.Fatalf("attempt %d: %+v", attempt, res)
			}
			// Not before its back-off is over.
			e.clock.Advance(webhook.Backoff(attempt) - time.Second)
			if res := run(t, d); res.Failed+res.Delivered != 0 {
				t.Fatalf("retried %s early: %+v", time.Second, res)
			}
			e.clock.Advance(time.Second)
		}
		if res := run(t, d); res.Delivered != 1 {
			t.Fatalf("fourth attempt: %+v", res)
		}
		for range 3 {
			e.clock.Advance(webhook.MaxRetryGap)
			if res := run(t, d); res.Delivered+res.Failed != 0 {
				t.Fatalf("sent again after delivery: %+v", res)
			}
		}
		if got := rcv.received(); len(got) != 1 || got[0].ID != ev.ID || rcv.callCount() != 4 {
			t.Fatalf("received %+v in %d calls", got, rcv.callCount())
		}
		log, _, err := e.svc.Deliveries(context.Background(), ownerOf(7), ep.ID, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(log) != 1 || log[0].State != webhook.Delivered || log[0].Attempts != 4 || log[0].LastStatus != 200 || log[0].DeliveredAt == nil {
			t.Fatalf("log: %+v", log)
		}
		// Redelivered on request: once more.
		if _, err := e.svc.Redeliver(context.Background(), ownerOf(7), log[0].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Redeliver(context.Background(), ownerOf(8), log[0].ID); !errors.Is(err, webhook.ErrDeliveryNotFound) {
			t.Fatalf("another merchant redelivers: %v", err)
		}
		if res := run(t, d); res.Delivered != 1 || len(rcv.received()) != 2 {
			t.Fatalf("redelivery: %+v", res)
		}
	})
}

// TestGivesUpAfterADay: a dead endpoint is tried for more than 24 hours,
// then the delivery is failed, and the attempts are spaced as Backoff says.
func TestGivesUpAfterADay(t *testing.T) {
	if total := func() (d time.Duration) {
		for n := 1; n < webhook.MaxAttempts; n++ {
			d += webhook.Backoff(n)
		}
		return d
	}(); total < 24*time.Hour {
		t.Fatalf("the last attempt comes %s after the first, want >= 24h", total)
	}
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		_, ep := e.serve(t, 7, func(int, push.Event) int { return http.StatusServiceUnavailable })
		d := e.dispatcher(webhook.Config{})
		e.emit(t, 7, 1, push.PaymentClosed)
		for n := 1; n <= webhook.MaxAttempts; n++ {
			if res := run(t, d); res.Failed != 1 {
				t.Fatalf("attempt %d: %+v", n, res)
			}
			e.clock.Advance(webhook.Backoff(n))
		}
		log, _, _ := e.svc.Deliveries(context.Background(), ownerOf(7), ep.ID, 0, 10)
		if len(log) != 1 || log[0].State != webhook.Failed || log[0].Attempts != webhook.MaxAttempts || log[0].LastStatus != 503 {
			t.Fatalf("log: %+v", log)
		}
	})
}

// TestInOrderPerOrder: while an order's first event is failing, its later
// events wait; other orders' events are not held back.
func TestInOrderPerOrder(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		rcv, _ := e.serve(t, 7, func(call int, ev push.Event) int {
			if call == 1 {
				return http.StatusBadGateway // the first event of order 1, once
			}
			return http.StatusOK
		})
		d := e.dispatcher(webhook.Config{Workers: 1})
		paid := e.emit(t, 7, 1, push.PaymentPaid)
		refund := e.emit(t, 7, 1, push.RefundSucceeded)
		other := e.emit(t, 7, 2, push.PaymentPaid)
		run(t, d)
		if got := rcv.received(); len(got) != 1 || got[0].ID != other.ID {
			t.Fatalf("while order 1's first event fails, received %+v", got)
		}
		e.clock.Advance(webhook.Backoff(1))
		run(t, d)
		got := rcv.received()
		if len(got) != 3 || got[1].ID != paid.ID || got[2].ID != refund.ID {
			t.Fatalf("received %+v", got)
		}
	})
}

// TestTwoInstancesDeliverOnce: two dispatchers on one database, passing at
// the same time over and over, deliver each of many events exactly once,
// each order's in order.
func TestTwoInstancesDeliverOnce(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		rcv, _ := e.serve(t, 7, nil)
		a, b := e.dispatcher(webhook.Config{Workers: 4}), e.dispatcher(webhook.Config{Workers: 4})
		const orders, perOrder = 30, 3
		types := []push.Type{push.PaymentPaid, push.RefundSucceeded, push.RefundSucceeded}
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { // events keep coming while the instances deliver
			defer wg.Done()
			for i := range orders * perOrder {
				if _, err := e.outbox.Emit(context.Background(), push.Event{MerchantID: 7, OrderID: int64(i%orders) + 1, Type: types[i/orders]}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
		done := make(chan struct{})
		for _, d := range []*webhook.Dispatcher{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					if _, err := d.RunOnce(context.Background()); err != nil {
						t.Error(err)
						return
					}
					select {
					case <-done:
						return
					default:
					}
					if len(rcv.received()) == orders*perOrder || t.Failed() {
						return
					}
				}
			}()
		}
		wg.Wait()
		close(done)
		run(t, a)
		run(t, b)
		got := rcv.received()
		if len(got) != orders*perOrder {
			t.Fatalf("received %d deliveries, want %d", len(got), orders*perOrder)
		}
		seen := map[int64]bool{}
		last := map[int64]int64{}
		for _, ev := range got {
			if seen[ev.ID] {
				t.Fatalf("event %d delivered twice", ev.ID)
			}
			seen[ev.ID] = true
			if ev.Seq < last[ev.OrderID] {
				t.Fatalf("order %d: event seq %d after %d", ev.OrderID, ev.Seq, last[ev.OrderID])
			}
			last[ev.OrderID] = ev.Seq
		}
	})
}

// TestOutboundGuards: without AllowPrivate a loopback endpoint is never
// connected to; a redirect is a failed attempt, never followed.
func TestOutboundGuards(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		rcv, ep := e.serve(t, 7, nil)
		guarded := webhook.NewDispatcher(e.store, e.outbox, e.clock.Now, webhook.Config{}, nil)
		e.emit(t, 7, 1, push.PaymentPaid)
		if res := run(t, guarded); res.Failed != 1 || rcv.callCount() != 0 {
			t.Fatalf("a loopback endpoint was reached: %+v, %d calls", res, rcv.callCount())
		}
		log, _, _ := e.svc.Deliveries(context.Background(), ownerOf(7), ep.ID, 0, 10)
		if len(log) != 1 || !strings.Contains(log[0].LastError, "not public") {
			t.Fatalf("log: %+v", log)
		}

		target := &receiver{t: t, clock: e.clock}
		tsrv := httptest.NewServer(target)
		t.Cleanup(tsrv.Close)
		redirect := httptest.NewServer(http.RedirectHandler(tsrv.URL, http.StatusTemporaryRedirect))
		t.Cleanup(redirect.Close)
		rep, err := e.svc.CreateEndpoint(context.Background(), ownerOf(9), webhook.NewEndpoint{URL: redirect.URL})
		if err != nil {
			t.Fatal(err)
		}
		e.emit(t, 9, 1, push.PaymentPaid)
		d := e.dispatcher(webhook.Config{})
		run(t, d)
		log, _, _ = e.svc.Deliveries(context.Background(), ownerOf(9), rep.ID, 0, 10)
		if len(log) != 1 || log[0].State != webhook.Pending || log[0].LastStatus != http.StatusTemporaryRedirect || target.callCount() != 0 {
			t.Fatalf("redirect: log %+v, target called %d times", log, target.callCount())
		}
	})
}

func TestCreateEndpointRefuses(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		for _, u := range []string{"", "ftp://x", "https://", "/hooks", "https://u:p@x.com/", "https://x.com/#f", "mailto:a@b.c"} {
			if _, err := e.svc.CreateEndpoint(context.Background(), ownerOf(1), webhook.NewEndpoint{URL: u}); !errors.Is(err, webhook.ErrInvalidURL) {
				t.Errorf("%q: %v", u, err)
			}
		}
		if _, err := e.svc.CreateEndpoint(context.Background(), ownerOf(1), webhook.NewEndpoint{URL: "https://x.com", Events: []push.Type{"staff.disabled"}}); err == nil {
			t.Error("staff.disabled is accepted")
		}
		mgr := cashier.Actor{StaffID: 2, MerchantID: 1, StoreID: 1, Role: rbac.Manager}
		if _, err := e.svc.CreateEndpoint(context.Background(), mgr, webhook.NewEndpoint{URL: "https://x.com"}); err == nil {
			t.Error("a manager creates an endpoint")
		}
	})
}

func TestSignVerify(t *testing.T) {
	now := time.Unix(1_764_640_000, 0)
	body := []byte(`{"type":"payment.paid"}`)
	h := webhook.Sign("whsec_x", now, body)
	if !strings.HasPrefix(h, "t=1764640000,v1=") {
		t.Fatal(h)
	}
	if err := webhook.Verify("whsec_x", h, body, now.Add(time.Minute), 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		secret, header string
		body           []byte
		at             time.Time
	}{
		"other secret": {"whsec_y", h, body, now},
		"other body":   {"whsec_x", h, []byte(`{}`), now},
		"too late":     {"whsec_x", h, body, now.Add(6 * time.Minute)},
		"garbage":      {"whsec_x", "v1=zz", body, now},
		"no v1":        {"whsec_x", "t=1764640000", body, now},
	} {
		if err := webhook.Verify(c.secret, c.header, c.body, c.at, 5*time.Minute); !errors.Is(err, webhook.ErrBadSignature) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// FuzzVerify: any header a receiver is sent is refused or accepted
// without a panic, and only a true signature is accepted.
func FuzzVerify(f *testing.F) {
	now := time.Unix(1_764_640_000, 0)
	f.Add(webhook.Sign("s", now, []byte("b")), []byte("b"))
	f.Add("t=,v1=", []byte{})
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		if webhook.Verify("s", header, body, now, time.Hour) == nil && webhook.Verify("s", webhook.Sign("s", now, body), body, now, time.Hour) != nil {
			t.Fatal("inconsistent")
		}
	})
}
