package push_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/paydesk/paydesk/push"
	"github.com/paydesk/paydesk/rbac"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// TestSessionEndedEndsItsStreams: a logout ends the streams of that login
// session on every instance (two hubs on one database), and no other: not
// the same cashier's other session, and nobody is shown the event.
func TestSessionEndedEndsItsStreams(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		here := startHub(t, push.NewOutbox(db, nil), push.Config{PollInterval: 20 * time.Millisecond})
		there := startHub(t, push.NewOutbox(db, nil), push.Config{PollInterval: 20 * time.Millisecond})
		phone := push.Audience{MerchantID: 1, StoreID: 5, StaffID: 4, Role: rbac.Cashier, Session: "phone"}
		tablet := phone
		tablet.Session = "tablet"
		subscribe := func(h *push.Hub, a push.Audience) *push.Stream {
			s, err := h.Subscribe(ctx, a, 0, false)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(s.Close)
			receive(t, s, 1) // ready
			return s
		}
		phoneHere, phoneThere := subscribe(here, phone), subscribe(there, phone)
		tabletHere, tabletThere := subscribe(here, tablet), subscribe(there, tablet)
		ownerThere := subscribe(there, owner)

		if err := here.SessionEnded(ctx, phone); err != nil {
			t.Fatalf("SessionEnded: %v", err)
		}
		for _, s := range []*push.Stream{phoneHere, phoneThere} {
			waitFor(t, func() bool { return s.Err() != nil })
			if _, err := s.Next(ctx); !errors.Is(err, push.ErrSessionEnded) {
				t.Fatalf("Next = %v, want ErrSessionEnded", err)
			}
		}
		for _, s := range []*push.Stream{tabletHere, tabletThere, ownerThere} {
			quiet(t, s)
		}
		// A resuming owner is not replayed the event either.
		s, err := there.Subscribe(ctx, owner, 0, true)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if got := receive(t, s, 1); got[0].Type != "ready" || got[0].Seq != 1 {
			t.Fatalf("resume got %+v, want only ready at 1", got)
		}
	})
}

// TestWalletSessionEnded: a customer's session ends on this instance at
// once, their other session goes on.
func TestWalletSessionEnded(t *testing.T) {
	db := storagetest.Open(t, storage.SQLite)
	h := startHub(t, push.NewOutbox(db, nil), push.Config{})
	ctx := context.Background()
	phone := push.Audience{WalletID: 9, Session: "phone"}
	tablet := push.Audience{WalletID: 9, Session: "tablet"}
	a, _ := h.Subscribe(ctx, phone, 0, false)
	b, _ := h.Subscribe(ctx, tablet, 0, false)
	defer a.Close()
	defer b.Close()
	if err := h.SessionEnded(ctx, phone); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(a.Err(), push.ErrSessionEnded) || b.Err() != nil {
		t.Fatalf("errors %v, %v; want ErrSessionEnded, nil", a.Err(), b.Err())
	}
	// A token without a session names none to end.
	if n := h.EndSession(push.Audience{WalletID: 9}); n != 0 {
		t.Fatalf("EndSession without a session ended %d", n)
	}
}
