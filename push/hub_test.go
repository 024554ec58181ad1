package push_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/internal/testkit"
	"github.com/paydesk/paydesk/push"
	"github.com/paydesk/paydesk/rbac"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// startHub runs a hub over ob until the test ends.
func startHub(t *testing.T, ob *push.Outbox, cfg push.Config) *push.Hub {
	t.Helper()
	h := push.NewHub(ob, cfg)
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

// frame is a message a stream produced, decoded.
type frame struct {
	Type   string `json:"type"`
	Seq    int64  `json:"seq"`
	Resync bool   `json:"resync"`
}

// receive reads n messages from s, failing after a few seconds.
func receive(t *testing.T, s *push.Stream, n int) []frame {
	t.Helper()
	var got []frame
	deadline := time.After(5 * time.Second)
	for len(got) < n {
		msgs, err := s.Next(context.Background())
		if err != nil {
			t.Fatalf("after %v: %v", got, err)
		}
		for _, m := range msgs {
			var f frame
			if err := json.Unmarshal(m, &f); err != nil {
				t.Fatalf("message %s: %v", m, err)
			}
			got = append(got, f)
		}
		if len(msgs) > 0 {
			continue
		}
		select {
		case <-s.Wait():
		case <-deadline:
			t.Fatalf("got %v, want %d messages", got, n)
		}
	}
	return got
}

// quiet fails if s produces anything within a short while.
func quiet(t *testing.T, s *push.Stream) {
	t.Helper()
	deadline := time.After(300 * time.Millisecond)
	for {
		msgs, err := s.Next(context.Background())
		if err != nil || len(msgs) > 0 {
			t.Fatalf("unexpected %q, %v", msgs, err)
		}
		select {
		case <-s.Wait():
		case <-deadline:
			return
		}
	}
}

func seqs(fs []frame) []int64 {
	var out []int64
	for _, f := range fs {
		out = append(out, f.Seq)
	}
	return out
}

func emit(t *testing.T, ob *push.Outbox, e push.Event) push.Event {
	t.Helper()
	e, err := ob.Emit(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

var owner = push.Audience{MerchantID: 1, StaffID: 1, Role: rbac.Owner}

// TestResumeSeam: a stream resumed after 2 gets 3, 4, 5 from the outbox,
// then the ready message, then 6 and 7, which were written while it was
// replaying, once each, then live events.
func TestResumeSeam(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ob := push.NewOutbox(db, nil)
		h := startHub(t, ob, push.Config{})
		for range 5 {
			emit(t, ob, push.Event{MerchantID: 1, Type: push.PaymentPaid})
		}
		s, err := h.Subscribe(context.Background(), owner, 2, true)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		emit(t, ob, push.Event{MerchantID: 1, Type: push.PaymentPaid})
		emit(t, ob, push.Event{MerchantID: 1, Type: push.PaymentClosed})
		// Let the dispatcher queue 6 and 7 live before the replay reads them.
		time.Sleep(50 * time.Millisecond)
		got := receive(t, s, 6)
		if want := []int64{3, 4, 5, 6, 7, 7}; !equal(seqs(got), want) || got[5].Type != "ready" {
			t.Fatalf("got %+v, want 3..7 then ready at 7", got)
		}
		emit(t, ob, push.Event{MerchantID: 1, Type: push.PaymentPaid})
		if got := receive(t, s, 1); got[0].Seq != 8 || got[0].Type != "payment.paid" {
			t.Fatalf("live = %+v", got)
		}
		quiet(t, s)
	})
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestReplayOverflowReplaysAgain: live events that overflow the queue of a
// stream still replaying are read from the outbox instead; nothing is lost
// and the stream is not cut off.
func TestReplayOverflowReplaysAgain(t *testing.T) {
	db := storagetest.Open(t, storage.SQLite)
	ob := push.NewOutbox(db, nil)
	h := startHub(t, ob, push.Config{QueueSize: 2})
	s, err := h.Subscribe(context.Background(), owner, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for range 5 {
		emit(t, ob, push.Event{MerchantID: 1, Type: push.PaymentPaid})
	}
	time.Sleep(100 * time.Millisecond) // the dispatcher overflows the queue
	got := receive(t, s, 6)
	if want := []int64{1, 2, 3, 4, 5, 5}; !equal(seqs(got), want) || got[5].Type != "ready" {
		t.Fatalf("got %+v, want 1..5 then ready at 5", got)
	}
}

// TestSlowConsumerIsCutOff: a live stream whose queue overflows ends with
// ErrSlowConsumer instead of growing.
func TestSlowConsumerIsCutOff(t *testing.T) {
	db := storagetest.Open(t, storage.SQLite)
	ob := push.NewOutbox(db, nil)
	h := startHub(t, ob, push.Config{QueueSize: 2})
	s, err := h.Subscribe(context.Background(), owner, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := receive(t, s, 1); got[0].Type != "ready" || got[0].Seq != 0 {
		t.Fatalf("got %+v, want ready at 0", got)
	}
	for range 3 {
		emit(t, ob, push.Event{MerchantID: 1, Type: push.PaymentPaid})
	}
	waitFor(t, func() bool { return s.Err() != nil })
	if _, err := s.Next(context.Background()); !errors.Is(err, push.ErrSlowConsumer) {
		t.Fatalf("Next = %v, want ErrSlowConsumer", err)
	}
}

// TestStaffDisabledEndsStreams: disabling a staff member ends their
// streams, on this instance through Disconnect and on any instance
// through the staff.disabled event.
func TestStaffDisabledEndsStreams(t *testing.T) {
	db := storagetest.Open(t, storage.SQLite)
	ob := push.NewOutbox(db, nil)
	h := startHub(t, ob, push.Config{})
	cash := push.Audience{MerchantID: 1, StoreID: 5, StaffID: 4, Role: rbac.Cashier}
	manager := push.Audience{MerchantID: 1, StoreID: 5, StaffID: 3, Role: rbac.Manager}
	a, _ := h.Subscribe(context.Background(), cash, 0, false)
	b, _ := h.Subscribe(context.Background(), cash, 0, false)
	m, _ := h.Subscribe(context.Background(), manager, 0, false)
	for _, s := range []*push.Stream{a, b, m} {
		defer s.Close()
		receive(t, s, 1)
	}
	if n := h.Disconnect(1, 4); n != 2 {
		t.Fatalf("Disconnect = %d, want 2", n)
	}
	if _, err := a.Next(context.Background()); !errors.Is(err, push.ErrStaffDisabled) {
		t.Fatalf("Next = %v", err)
	}

	// Through the event, as on another instance.
	c, _ := h.Subscribe(context.Background(), cash, 0, false)
	defer c.Close()
	receive(t, c, 1)
	if err := ob.StaffDisabled(context.Background(), cashier.Staff{ID: 4, MerchantID: 1, StoreID: 5, Role: rbac.Cashier}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return errors.Is(c.Err(), push.ErrStaffDisabled) })
	if got := receive(t, m, 1); got[0].Type != "staff.disabled" {
		t.Fatalf("manager got %+v", got)
	}
	if h.Close(); m.Err() != push.ErrClosed {
		t.Fatalf("after Close: %v", m.Err())
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !ok(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5 s")
		}
	}
}

// mute is a bus whose wake-ups are lost.
type mute struct{ push.Bus }

func (mute) Publish(context.Context) error { return nil }

// TestTwoInstances: two hubs on one database, woken through Redis. An event
// written through one reaches a stream on the other at once (the other polls
// only hourly), exactly once; with the wake-up lost, its poll still finds it.
func TestTwoInstances(t *testing.T) {
	rdb := testkit.Redis(t)
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			db := storagetest.Open(t, d)
			ch := testkit.Unique("paydesk:test:")
			a := push.NewOutbox(db, nil)
			startHub(t, a, push.Config{Bus: push.NewRedisBus(rdb, ch), PollInterval: time.Hour})
			b := startHub(t, push.NewOutbox(db, nil), push.Config{Bus: push.NewRedisBus(rdb, ch), PollInterval: time.Hour})
			s, err := b.Subscribe(context.Background(), owner, 0, false)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			receive(t, s, 1)
			start := time.Now()
			emit(t, a, push.Event{MerchantID: 1, Type: push.PaymentPaid})
			if got := receive(t, s, 1); got[0].Seq != 1 || time.Since(start) > 2*time.Second {
				t.Fatalf("got %+v after %v", got, time.Since(start))
			}
			quiet(t, s)

			// The wake-up is lost: B's own poll delivers.
			c := push.NewOutbox(db, nil)
			startHub(t, c, push.Config{Bus: mute{push.NewRedisBus(rdb, ch)}, PollInterval: time.Hour})
			slow := startHub(t, push.NewOutbox(db, nil), push.Config{Bus: push.NewRedisBus(rdb, testkit.Unique("paydesk:test:")), PollInterval: 200 * time.Millisecond})
			s2, err := slow.Subscribe(context.Background(), owner, 1, true)
			if err != nil {
				t.Fatal(err)
			}
			defer s2.Close()
			receive(t, s2, 1)
			emit(t, c, push.Event{MerchantID: 1, Type: push.PaymentPaid})
			if got := receive(t, s2, 1); got[0].Seq != 2 {
				t.Fatalf("got %+v", got)
			}
			quiet(t, s2)
		})
	}
}
