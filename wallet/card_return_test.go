package wallet_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
	"github.com/paydesk/paydesk/wallet"
)

// refundsDown is a bank whose refunds fail as an outage does while down is
// set: the outcome is unknown and a retry with the same reference is right.
type refundsDown struct {
	bank.Channel
	down atomic.Bool
}

func (b *refundsDown) Refund(ctx context.Context, req bank.RefundRequest) (bank.RefundResult, error) {
	if b.down.Load() {
		return bank.RefundResult{}, paydesk.ErrUnavailable.WithMessage("the bank does not answer")
	}
	return b.Channel.Refund(ctx, req)
}

// A card shortfall whose payment did not happen goes back to the card even
// when the bank is down at the time: the money waits in the card-refunds
// account under a PENDING return, the wallet's sweep retries it, and once
// the bank answers the card gets it back exactly once.
func TestCardShortfallReturnSurvivesABankOutage(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		b := &refundsDown{Channel: f.bank}
		svc, err := wallet.New(ctx, wallet.Config{
			Store: wallet.NewGormStore(f.db, wallet.MustSealer(testDataKey)), Ledger: f.ledger, Bank: b, Attempts: storage.NewAttempts(f.db, f.clock), Clock: f.clock,
			Passwords: paydesk.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1},
		})
		if err != nil {
			t.Fatal(err)
		}
		id := f.register(t, "13800138077")
		f.bindCard(t, id, bank.SimCardOK)
		// The card pays the whole shortfall of a payment that then loses its
		// order to another payer: the POS returns the shortfall.
		p, err := svc.PreparePayment(ctx, wallet.PaymentRequest{Wallet: id, Merchant: testMerchant, Amount: 2500, Reference: "lost-order", To: f.merchant})
		if err != nil {
			t.Fatal(err)
		}
		if p.Funding.Card != 2500 || f.cash(t, id) != 2500 {
			t.Fatalf("funding %+v, cash %d: want the card to pay 2500 into the cash", p.Funding, f.cash(t, id))
		}
		cardRefunds := func() paydesk.Amount { return f.balance(t, "bank:card-refunds") }
		refunded := func() (n int, sum paydesk.Amount) {
			for _, r := range f.bank.Refunds() {
				if r.DebitReference == p.Funding.CardDebit {
					n, sum = n+1, sum+r.Amount
				}
			}
			return n, sum
		}

		b.down.Store(true)
		if err := svc.ReturnShortfall(ctx, id, p.Funding); paydesk.ErrorCode(err) != "UNAVAILABLE" {
			t.Fatalf("return with the bank down = %v, want UNAVAILABLE", err)
		}
		if cash, waiting := f.cash(t, id), cardRefunds(); cash != 0 || waiting != 2500 {
			t.Fatalf("after the failed return: cash %d, card refunds %d; want 0 and 2500 waiting for the card", cash, waiting)
		}
		if err := svc.Sweep(ctx); err == nil {
			t.Fatal("the sweep finished a return while the bank is down")
		}
		if n, _ := refunded(); n != 0 {
			t.Fatalf("%d refunds while the bank was down", n)
		}

		b.down.Store(false)
		done, err := svc.RetryCardReturns(ctx)
		if err != nil || done != 1 {
			t.Fatalf("retry = %d, %v; want the one return finished", done, err)
		}
		if n, sum := refunded(); n != 1 || sum != 2500 {
			t.Fatalf("card refunded %d times, %d in all; want once, 2500", n, sum)
		}
		if cash, waiting := f.cash(t, id), cardRefunds(); cash != 0 || waiting != 0 {
			t.Fatalf("after the retry: cash %d, card refunds %d; want both 0", cash, waiting)
		}
		// Nothing left to do, and a late retry of the POS's call refunds
		// nothing twice.
		if done, err := svc.RetryCardReturns(ctx); err != nil || done != 0 {
			t.Fatalf("second retry = %d, %v; want nothing to do", done, err)
		}
		if err := svc.ReturnShortfall(ctx, id, p.Funding); err != nil {
			t.Fatal(err)
		}
		if n, _ := refunded(); n != 1 {
			t.Fatalf("card refunded %d times after the repeats, want once", n)
		}
	})
}

// A payment planned again after its card money was spent by another
// payment debits the card anew instead of replaying the spent debit, which
// would add nothing to the cash; a plan after a crash between the bank's
// debit and the ledger would reuse it (the bank answers it once).
func TestReplannedShortfallDebitsTheCardAnew(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		id := f.register(t, "13800138078")
		f.bindCard(t, id, bank.SimCardOK)
		req := wallet.PaymentRequest{Wallet: id, Merchant: testMerchant, Amount: 2500, Reference: "replanned", To: f.merchant}
		first, err := f.svc.PreparePayment(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		// Another payment of the wallet spends the card money first.
		if _, err := f.pay(ctx, id, testMerchant, 2500, "the-other-one"); err != nil {
			t.Fatal(err)
		}
		second, err := f.svc.PreparePayment(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if second.Funding.CardDebit == first.Funding.CardDebit || len(f.bank.Debits()) != 2 || f.cash(t, id) != 2500 {
			t.Fatalf("debits %q then %q, %d bank debits, cash %d; want a second debit and 2500 to pay with",
				first.Funding.CardDebit, second.Funding.CardDebit, len(f.bank.Debits()), f.cash(t, id))
		}
	})
}
