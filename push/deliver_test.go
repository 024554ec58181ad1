package push_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/paydesk/paydesk/push"
	"github.com/paydesk/paydesk/rbac"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// TestDeliveryMatchesVisible: the hub offers each event only to the
// streams its indexes pick; every stream must still get exactly the events
// Visible admits, whoever took the payment (an owner and a manager take
// payments too) and whatever the event.
func TestDeliveryMatchesVisible(t *testing.T) {
	db := storagetest.Open(t, storage.SQLite)
	ob := push.NewOutbox(db, nil)
	h := startHub(t, ob, push.Config{})
	const m, storeA, storeB = 1, 10, 20
	auds := []push.Audience{
		{MerchantID: m, StaffID: 1, Role: rbac.Owner},
		{MerchantID: m, StaffID: 2, Role: rbac.Owner},
		{MerchantID: m, StoreID: storeA, StaffID: 3, Role: rbac.Manager},
		{MerchantID: m, StoreID: storeB, StaffID: 4, Role: rbac.Manager},
		{MerchantID: m, StoreID: storeA, StaffID: 5, Role: rbac.Cashier},
		{MerchantID: m, StoreID: storeA, StaffID: 6, Role: rbac.Cashier},
		{MerchantID: m, StoreID: storeB, StaffID: 7, Role: rbac.Cashier},
		{MerchantID: 2, StaffID: 8, Role: rbac.Owner},
		{WalletID: 100},
		{WalletID: 101},
	}
	var subs []*push.Stream
	for _, a := range auds {
		for range 2 { // two devices each
			s, err := h.Subscribe(context.Background(), a, 0, false)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			receive(t, s, 1)
			subs = append(subs, s)
		}
	}
	events := []push.Event{
		{MerchantID: m, Type: push.PaymentPaid, StoreID: storeA, CashierID: 5, WalletID: 100},
		{MerchantID: m, Type: push.PaymentPaying, StoreID: storeB, CashierID: 7, WalletID: 101},
		{MerchantID: m, Type: push.PaymentClosed, StoreID: storeA},                                // store QR
		{MerchantID: m, Type: push.PaymentPaid, StoreID: 0, CashierID: 1, WalletID: 100},          // the owner took it
		{MerchantID: m, Type: push.RefundSucceeded, StoreID: storeB, CashierID: 4, WalletID: 101}, // the manager took it
		{MerchantID: m, Type: push.SettlementUpdated},
		{MerchantID: m, Type: push.WithdrawalUpdated},
		{MerchantID: m, Type: "something.new", StoreID: storeA, CashierID: 5},
		{MerchantID: 2, Type: push.PaymentPaid, CashierID: 8, WalletID: 100},
		{MerchantID: m, Type: push.StaffDisabled, StoreID: storeB, CashierID: 99},
	}
	var written []push.Event
	for _, e := range events {
		written = append(written, emit(t, ob, e))
	}
	for i, s := range subs {
		a := auds[i/2]
		var want []int64
		for _, e := range written {
			if push.Visible(a, &e) {
				want = append(want, e.ID)
			}
		}
		var got []int64
		if len(want) > 0 {
			for _, raw := range receiveRaw(t, s, len(want)) {
				var f struct{ ID int64 }
				if err := json.Unmarshal(raw, &f); err != nil {
					t.Fatal(err)
				}
				got = append(got, f.ID)
			}
		}
		if !equal(got, want) {
			t.Errorf("%+v got events %v, want %v", a, got, want)
		}
	}
	for _, s := range subs {
		quiet(t, s)
	}
}

// receiveRaw reads n messages from s as they were sent.
func receiveRaw(t *testing.T, s *push.Stream, n int) [][]byte {
	t.Helper()
	var got [][]byte
	for len(got) < n {
		msgs, err := s.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, msgs...)
		if len(msgs) == 0 {
			select {
			case <-s.Wait():
			case <-time.After(5 * time.Second):
				t.Fatalf("got %d messages, want %d", len(got), n)
			}
		}
	}
	return got
}
