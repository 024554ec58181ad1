package bank_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/bank/banktest"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// The simulator on the database keeps the contract, on SQLite and MariaDB,
// across restarts: every call goes to a simulator started afresh on the
// same database (which also makes it several instances sharing one bank).
func TestSimulatorOnTheDatabaseKeepsTheContractAcrossRestarts(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			fresh := func(db *storage.DB) func() bank.Channel {
				return func() bank.Channel {
					return bank.NewSimulator(bank.SimulatorConfig{Store: bank.NewGormSimStore(db), ManualPayouts: true})
				}
			}
			t.Run("restarted between every call", func(t *testing.T) {
				banktest.RunChannelContract(t, func() bank.Channel {
					ch, closeAll := banktest.Restarting(fresh(storagetest.Open(t, d)))
					t.Cleanup(closeAll)
					return ch
				})
			})
		})
	}
}

// A payout submitted to one server's bank, which then stops before the
// bank settles it, is settled once by the bank of the server started after,
// which delivers its callback once; submitting the same reference again
// after the restart is the same payout, never a second one.
func TestPayoutSubmittedBeforeARestartIsSettledOnceAfterIt(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		req := bank.PayoutRequest{Reference: "settle-42", Account: bank.BankAccount{Number: "6222020200112233", Holder: "Tea House Ltd"}, Amount: 98765, Currency: "CNY"}

		// The first server's bank would settle in an hour; it stops first.
		first := bank.NewSimulator(bank.SimulatorConfig{Store: bank.NewGormSimStore(db), PayoutDelay: time.Hour})
		card := banktest.MustBind(t, first, bank.SimCardOK)
		p1, err := first.Payout(ctx, req)
		if err != nil || p1.Status != bank.PayoutSubmitted {
			t.Fatalf("payout = %+v, %v", p1, err)
		}
		first.Close()

		var (
			mu        sync.Mutex
			callbacks []bank.Callback
			got       = make(chan struct{}, 10)
		)
		secret := []byte("0123456789abcdef0123456789abcdef")
		deliver := func(_ context.Context, body []byte, sig string) error {
			cb, err := bank.VerifyCallback(secret, body, sig)
			if err != nil {
				t.Errorf("callback: %v", err)
				return err
			}
			mu.Lock()
			callbacks = append(callbacks, cb)
			mu.Unlock()
			got <- struct{}{}
			return nil
		}
		// Two servers start after it on the same database, sharing the bank.
		var seconds []*bank.Simulator
		for range 2 {
			s := newSimulator(t, bank.SimulatorConfig{Store: bank.NewGormSimStore(db), CallbackSecret: secret, Deliver: deliver})
			seconds = append(seconds, s)
		}
		<-got
		for _, s := range seconds {
			s.Close() // waits for any other settling in flight
		}
		mu.Lock()
		if len(callbacks) != 1 || callbacks[0].Reference != req.Reference || callbacks[0].Status != bank.PayoutPaid {
			t.Fatalf("callbacks after the restart = %+v, want one PAID for %s", callbacks, req.Reference)
		}
		mu.Unlock()

		after := newSimulator(t, bank.SimulatorConfig{Store: bank.NewGormSimStore(db), ManualPayouts: true})
		st, err := after.PayoutStatus(ctx, req.Reference)
		if err != nil || st.Status != bank.PayoutPaid || st.BankReference != p1.BankReference {
			t.Fatalf("status after the restart = %+v, %v; want PAID %s", st, err, p1.BankReference)
		}
		again, err := after.Payout(ctx, req)
		if err != nil || again.BankReference != p1.BankReference || again.Status != bank.PayoutPaid {
			t.Fatalf("the same payout submitted after the restart = %+v, %v; want the first, PAID", again, err)
		}
		if n := len(after.PaidPayouts(st.UpdatedAt.In(time.UTC).Format(time.DateOnly))); n != 1 {
			t.Fatalf("the bank paid %d payouts, want 1", n)
		}
		// The card bound before the restart still debits.
		if _, err := after.Debit(ctx, bank.DebitRequest{Reference: "after-restart", CardToken: card.Token, Amount: 100, Currency: "CNY"}); err != nil {
			t.Fatalf("debit with a card bound before the restart: %v", err)
		}
	})
}
