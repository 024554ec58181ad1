package pos_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/pos"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
	"github.com/paydesk/paydesk/wallet"
)

// cardOnly registers a wallet with no cash and a bound card.
func (s *shop) cardOnly(t *testing.T, phone string) wallet.WalletID {
	t.Helper()
	ctx := context.Background()
	w, err := s.wallets.Register(ctx, phone, "customer-pass")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.wallets.BindCard(ctx, w, bank.CardDetails{Number: bank.SimCardOK, Holder: "C", ExpiryMonth: 12, ExpiryYear: 2030}); err != nil {
		t.Fatal(err)
	}
	return w
}

// One payment code presented by many cashiers at once to a wallet that pays
// by card: the card is debited once, one payment is PAID and the others are
// PAYMENT_CODE_USED, and no card money is left parked in the wallet's cash.
func TestOneCodeManyCashiersDebitsTheCardOnce(t *testing.T) {
	const cashiers, rounds = 20, 3
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		w := s.cardOnly(t, "13900000077")
		for round := range rounds {
			code := s.code(t, w)
			debits := len(s.bank.Debits())
			var (
				wg    sync.WaitGroup
				mu    sync.Mutex
				codes = map[string]int{}
			)
			for c := range cashiers {
				wg.Go(func() {
					o, err := s.pos.TakeScanPayment(ctx, s.cashier, pos.ScanPayment{OutTradeNo: fmt.Sprintf("R%d-C%d", round, c), Amount: 3000, PaymentCode: code})
					mu.Lock()
					defer mu.Unlock()
					if err == nil && o.State != pos.Paid {
						t.Errorf("cashier %d: order %s without an error", c, o.State)
					}
					codes[paydesk.ErrorCode(err)]++
				})
			}
			wg.Wait()
			// The others are PAYMENT_CODE_USED, or TOO_MANY_ATTEMPTS when
			// they came while the code id's attempts were all being checked.
			if codes[""] != 1 || codes["PAYMENT_CODE_USED"]+codes["TOO_MANY_ATTEMPTS"] != cashiers-1 {
				t.Fatalf("round %d: answers %v, want one PAID and %d refused", round, codes, cashiers-1)
			}
			if n := len(s.bank.Debits()) - debits; n != 1 {
				t.Fatalf("round %d: %d card debits for one payment, want 1", round, n)
			}
			if cash := s.cash(t, w); cash != 0 {
				t.Fatalf("round %d: %d of card money parked in the wallet's cash", round, cash)
			}
		}
		if got, want := s.pending(t), paydesk.Amount(rounds)*(3000-s.merchant.FeeRate.Of(3000)); got != want {
			t.Errorf("merchant pending = %d, want %d", got, want)
		}
	})
}

// Two card-funded wallets pay one collection QR at once: one pays, and the
// card debit of the other, if it was made, goes back to its card.
func TestCardShortfallOfALostOrderGoesBackToTheCard(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		for round := range 5 {
			a := s.cardOnly(t, fmt.Sprintf("1390000%02d01", round))
			b := s.cardOnly(t, fmt.Sprintf("1390000%02d02", round))
			o, err := s.pos.CreateCollectionQR(ctx, s.cashier, pos.Collection{OutTradeNo: fmt.Sprintf("Q%d", round), Amount: 2500})
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, w := range []wallet.WalletID{a, b} {
				wg.Go(func() { _, errs[i] = s.pos.PayOrder(ctx, w, o.PayToken) })
			}
			wg.Wait()
			if (errs[0] == nil) == (errs[1] == nil) {
				t.Fatalf("two payers of one QR: %v / %v; want exactly one success", errs[0], errs[1])
			}
			if ca, cb := s.cash(t, a), s.cash(t, b); ca != 0 || cb != 0 {
				t.Fatalf("round %d: card money parked in wallet cash: %d and %d", round, ca, cb)
			}
		}
		var debited, refunded paydesk.Amount
		for _, d := range s.bank.Debits() {
			debited += d.Amount
		}
		for _, r := range s.bank.Refunds() {
			refunded += r.Amount
		}
		if debited-refunded != 5*2500 {
			t.Errorf("cards debited %d and refunded %d: net %d, want %d", debited, refunded, debited-refunded, 5*2500)
		}
	})
}

// changingFunds makes every payment's transaction fail as a race lost on
// the wallet's funding does, while on is set.
type changingFunds struct{ on atomic.Bool }

func (c *changingFunds) OrderChanged(ctx context.Context, o pos.Order, change pos.Change) error {
	if c.on.Load() && change == pos.ChangePaid {
		return fmt.Errorf("another payment spent the money: %w", wallet.ErrFundingChanged)
	}
	return nil
}

// A payment whose wallet keeps changing under every plan fails with
// FUNDING_CHANGED, and the card money charged for it goes back to the card
// instead of staying in the wallet's cash; the till's retry of the same
// order then charges the card anew and pays.
func TestCardShortfallOfAPaymentThatKeptLosingGoesBackToTheCard(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		funds := &changingFunds{}
		s.pos.Observe(funds)
		w := s.cardOnly(t, "13900000088")
		net := func() (n paydesk.Amount) {
			for _, d := range s.bank.Debits() {
				n += d.Amount
			}
			for _, r := range s.bank.Refunds() {
				n -= r.Amount
			}
			return n
		}
		pay := pos.ScanPayment{OutTradeNo: "KEPT-LOSING", Amount: 2500}
		funds.on.Store(true)
		pay.PaymentCode = s.code(t, w)
		if _, err := s.pos.TakeScanPayment(ctx, s.cashier, pay); paydesk.ErrorCode(err) != "FUNDING_CHANGED" {
			t.Fatalf("payment = %v, want FUNDING_CHANGED", err)
		}
		if cash, card := s.cash(t, w), net(); cash != 0 || card != 0 {
			t.Fatalf("after the failed payment: cash %d, card charged %d net; want both 0", cash, card)
		}

		funds.on.Store(false)
		s.advance(time.Minute) // a new payment code
		pay.PaymentCode = s.code(t, w)
		o, err := s.pos.TakeScanPayment(ctx, s.cashier, pay)
		if err != nil || o.State != pos.Paid || o.Funding.Card != 2500 {
			t.Fatalf("retry = %+v, %v; want PAID by card", o, err)
		}
		if cash, card := s.cash(t, w), net(); cash != 0 || card != 2500 {
			t.Fatalf("after the retry: cash %d, card charged %d net; want 0 and 2500", cash, card)
		}
	})
}
