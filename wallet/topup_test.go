package wallet_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
	"github.com/paydesk/paydesk/wallet"
)

func TestTopUpFromCard(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		id := f.register(t, "13800138000")

		_, err := f.svc.TopUp(ctx, id, 5000, "t-1")
		wantCode(t, "no card", err, "CARD_NOT_BOUND")

		card := f.bindCard(t, id, bank.SimCardOK)
		if v, _ := f.svc.Wallet(ctx, id); v.Card == nil || *v.Card != card || card.Last4 != "4242" {
			t.Fatalf("wallet card = %+v, want %+v", v.Card, card)
		}
		first, err := f.svc.TopUp(ctx, id, 5000, "t-1")
		if err != nil || first.Replayed || first.BankReference == "" {
			t.Fatalf("top up = %+v, %v", first, err)
		}
		// The retry of a top-up whose answer was lost charges and credits once.
		again, err := f.svc.TopUp(ctx, id, 5000, "t-1")
		if err != nil || !again.Replayed || again.TransferID != first.TransferID || again.BankReference != first.BankReference {
			t.Fatalf("retried top up = %+v, %v; want a replay of %+v", again, err, first)
		}
		if got := f.cash(t, id); got != 5000 {
			t.Fatalf("cash = %d, want 5000", got)
		}
		if n := len(f.bank.Debits()); n != 1 {
			t.Fatalf("the bank made %d debits, want 1", n)
		}
		_, err = f.svc.TopUp(ctx, id, 6000, "t-1")
		wantCode(t, "same reference, other amount", err, "IDEMPOTENCY_CONFLICT")

		for _, tt := range []struct {
			name   string
			amount int64
			ref    string
			code   string
		}{
			{"zero", 0, "t-2", "INVALID_AMOUNT"},
			{"negative", -5, "t-2", "INVALID_AMOUNT"},
			{"no reference", 100, "", "INVALID_ARGUMENT"},
			{"reference with spaces", 100, "t 2", "INVALID_ARGUMENT"},
		} {
			_, err := f.svc.TopUp(ctx, id, paydeskAmount(tt.amount), tt.ref)
			wantCode(t, tt.name, err, tt.code)
		}
		_, err = f.svc.TopUp(ctx, 777777, 100, "t-3")
		wantCode(t, "unknown wallet", err, "WALLET_NOT_FOUND")
		if got := f.cash(t, id); got != 5000 {
			t.Fatalf("cash = %d after refused top-ups, want 5000", got)
		}
	})
}

func TestDeclinedCardMovesNothing(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		id := f.register(t, "13800138000")
		for _, tt := range []struct{ card, code string }{
			{bank.SimCardDeclined, "CARD_DECLINED"},
			{bank.SimCardUnavailable, "BANK_UNAVAILABLE"},
		} {
			f.bindCard(t, id, tt.card)
			_, err := f.svc.TopUp(ctx, id, 5000, "t-"+tt.card)
			wantCode(t, "top up from "+tt.card, err, tt.code)
		}
		if got := f.cash(t, id); got != 0 {
			t.Fatalf("cash = %d after failed top-ups", got)
		}
		if r := f.mustBeSound(t); r.Entries != 0 {
			t.Fatalf("%d ledger entries after failed top-ups, want none", r.Entries)
		}
		if n := len(f.bank.Debits()); n != 0 {
			t.Fatalf("the bank made %d debits", n)
		}
		_, err := f.svc.BindCard(ctx, id, bankCard(bank.SimCardBlocked))
		wantCode(t, "blocked card", err, "CARD_DECLINED")
	})
}

// The bank charges but its answer is lost: the wallet sees BANK_UNAVAILABLE
// and nothing in the ledger; the app retries with the same reference and the
// money arrives once.
func TestTopUpRetryAfterLostReplyCreditsOnce(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db, bank.SimulatorConfig{LostReplyRate: 1})
		id := f.register(t, "13800138000")
		f.bindCard(t, id, bank.SimCardOK)
		_, err := f.svc.TopUp(ctx, id, 2500, "lost-1")
		wantCode(t, "lost reply", err, "BANK_UNAVAILABLE")
		if got := f.cash(t, id); got != 0 {
			t.Fatalf("cash = %d before the retry", got)
		}
		if _, err := f.svc.TopUp(ctx, id, 2500, "lost-1"); err != nil {
			t.Fatalf("retry: %v", err)
		}
		if _, err := f.svc.TopUp(ctx, id, 2500, "lost-1"); err != nil {
			t.Fatalf("second retry: %v", err)
		}
		if got := f.cash(t, id); got != 2500 {
			t.Fatalf("cash = %d, want 2500", got)
		}
		if n := len(f.bank.Debits()); n != 1 {
			t.Fatalf("the bank made %d debits, want 1", n)
		}
	})
}

func TestTopUpRefusesToRunInsideATransaction(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db)
		id := f.register(t, "13800138000")
		f.bindCard(t, id, bank.SimCardOK)
		err := db.InTx(context.Background(), func(ctx context.Context) error {
			_, err := f.svc.TopUp(ctx, id, 100, "in-tx")
			return err
		})
		wantCode(t, "top up inside a transaction", err, "INTERNAL")
	})
}

// A top-up sent to two instances at once (each with its own ledger
// poster), twice to each: the card is debited once, the wallet credited
// once, and every call answered with that one transfer, never
// UNAVAILABLE. Nothing but the transfer's reference guards a top-up in
// the database, so before issue 20 was fixed the instance that lost the
// race on it answered UNAVAILABLE.
func TestSameTopUpOnTwoInstances(t *testing.T) {
	const wallets, copies = 40, 2
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		other := ledger.New(ledger.NewGormStore(db), ledger.WithClock(f.clock))
		t.Cleanup(other.Close)
		instances := []*wallet.Service{f.svc, f.serviceOn(t, other)}
		ids := make([]wallet.WalletID, wallets)
		for i := range ids {
			ids[i] = f.register(t, fmt.Sprintf("1380000%04d", i))
			f.bindCard(t, ids[i], bank.SimCardOK)
		}
		type answer struct {
			top wallet.TopUp
			err error
		}
		answers := make([][]answer, wallets)
		for i := range answers {
			answers[i] = make([]answer, len(instances)*copies)
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		for k, svc := range instances {
			for c := range copies {
				wg.Go(func() {
					<-start
					for i, id := range ids {
						top, err := svc.TopUp(ctx, id, 2500, "twice")
						answers[i][k*copies+c] = answer{top, err}
					}
				})
			}
		}
		close(start)
		wg.Wait()

		for i, as := range answers {
			posted := 0
			for j, a := range as {
				switch {
				case a.err != nil:
					t.Errorf("wallet %d copy %d: %v", i, j, a.err)
				case a.top.TransferID != as[0].top.TransferID:
					t.Errorf("wallet %d copy %d: transfer %d, another copy got %d", i, j, a.top.TransferID, as[0].top.TransferID)
				case !a.top.Replayed:
					posted++
				}
			}
			if posted != 1 {
				t.Errorf("wallet %d: %d copies answered as posted, want one", i, posted)
			}
			if got := f.cash(t, ids[i]); got != 2500 {
				t.Errorf("wallet %d has %d, want 2500", i, got)
			}
		}
		if n := len(f.bank.Debits()); n != wallets {
			t.Errorf("the bank made %d debits, want %d", n, wallets)
		}
	})
}
