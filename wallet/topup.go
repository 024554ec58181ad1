package wallet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/ledger"
)

// MaxReferenceLen bounds the references callers choose (top-ups, vouchers,
// coupons, payments), leaving room in the ledger's 128-byte references for
// the wallet's own prefix.
const MaxReferenceLen = 64

// checkReference refuses references that are empty, long or not printable
// ASCII: they end up in ledger references and bank requests.
func checkReference(ref string) error {
	if ref == "" || len(ref) > MaxReferenceLen {
		return paydesk.ErrInvalid.WithMessage("reference must be 1 to %d bytes", MaxReferenceLen)
	}
	for i := 0; i < len(ref); i++ {
		if ref[i] < 0x21 || ref[i] > 0x7e {
			return paydesk.ErrInvalid.WithMessage("reference must be printable ASCII without spaces")
		}
	}
	return nil
}

// TopUp is a completed top-up.
type TopUp struct {
	// Reference is the ledger transfer's (and the bank debit's) reference.
	Reference     string
	Amount        paydesk.Amount
	BankReference string
	TransferID    int64
	// Replayed is set when an earlier call with the same reference did the work.
	Replayed bool
}

// TopUp moves amount from the wallet's bound card into its cash. It is
// idempotent by reference: a retry (after a timeout, or a crash between the
// bank's debit and the ledger) debits the card once and credits the wallet
// once. A declined card moves nothing. It must not run inside a transaction.
func (s *Service) TopUp(ctx context.Context, id WalletID, amount paydesk.Amount, reference string) (TopUp, error) {
	if err := s.outsideTx(ctx, "TopUp"); err != nil {
		return TopUp{}, err
	}
	if err := amount.ValidPayment(); err != nil {
		return TopUp{}, err
	}
	if err := checkReference(reference); err != nil {
		return TopUp{}, err
	}
	w, err := s.wallet(ctx, id)
	if err != nil {
		return TopUp{}, err
	}
	ref := fmt.Sprintf("wallet:%d:topup:%s", w.ID, reference)
	d, t, err := s.cardToCash(ctx, w, amount, ref, "top-up from card")
	if err != nil {
		return TopUp{}, fmt.Errorf("wallet %d: top up %s: %w", id, reference, err)
	}
	return TopUp{Reference: ref, Amount: amount, BankReference: d.BankReference, TransferID: t.ID, Replayed: t.Replayed}, nil
}

// cardToCash debits the bound card under ref and then books the money into
// the wallet's cash under the same ref. The order is what keeps money from
// being lost: the ledger never shows money the bank has not given, and if
// the booking fails after the debit, a retry with the same ref gets the
// bank's first answer and books it once.
func (s *Service) cardToCash(ctx context.Context, w Wallet, amount paydesk.Amount, ref, memo string) (bank.DebitResult, ledger.Transfer, error) {
	if w.Card == nil {
		return bank.DebitResult{}, ledger.Transfer{}, ErrNoCard
	}
	plat, err := s.platform(ctx)
	if err != nil {
		return bank.DebitResult{}, ledger.Transfer{}, err
	}
	d, err := s.bank.Debit(ctx, bank.DebitRequest{Reference: ref, CardToken: w.Card.Token, Amount: amount, Currency: w.Currency})
	if err != nil {
		return bank.DebitResult{}, ledger.Transfer{}, err
	}
	t, err := s.ledger.Post(ctx, ledger.Transfer{Reference: ref, Kind: "topup", Memo: memo,
		Postings: []ledger.Posting{{Source: plat.Clearing, Destination: w.CashAccount, Amount: amount}}}, nil)
	if err != nil {
		return bank.DebitResult{}, ledger.Transfer{}, err
	}
	return d, t, nil
}

// ReturnShortfall gives the card shortfall of a payment that will not
// happen (the order went to another payer, or closed, while the card was
// being charged) back to the card it came from, so card money the customer
// did not spend is never parked in the wallet's cash. It books the money
// out of the wallet's cash to the card-refunds account, recording a
// PENDING card return in the same transaction, then asks the bank to
// refund the debit (RefundCard), all under references derived from the
// debit's, so a retry does it once. A bank that does not answer leaves the
// return PENDING for the wallet's Sweep (RetryCardReturns) to finish. If
// the cash was spent meanwhile there is nothing parked to return. It must
// not run inside a transaction.
func (s *Service) ReturnShortfall(ctx context.Context, id WalletID, f Funding) error {
	if f.Card <= 0 || f.CardDebit == "" {
		return nil
	}
	if err := s.outsideTx(ctx, "ReturnShortfall"); err != nil {
		return err
	}
	w, err := s.wallet(ctx, id)
	if err != nil {
		return err
	}
	plat, err := s.platform(ctx)
	if err != nil {
		return err
	}
	r := CardReturn{DebitReference: f.CardDebit, Wallet: w.ID, Amount: f.Card, CreatedAt: s.clock()}
	_, err = s.ledger.Post(ctx, ledger.Transfer{Reference: r.unwindReference(), Kind: "autotopup_return", Memo: "card shortfall of a payment that did not happen",
		Postings: []ledger.Posting{{Source: w.CashAccount, Destination: plat.CardRefunds, Amount: f.Card}}},
		func(ctx context.Context) error { return s.store.RecordCardReturn(ctx, r) })
	var short *ledger.InsufficientFunds
	if errors.As(err, &short) {
		return nil // spent by another payment meanwhile: nothing is parked
	}
	if err != nil {
		return fmt.Errorf("return card shortfall %s: %w", f.CardDebit, err)
	}
	return s.finishCardReturn(ctx, r)
}

// CardReturn is a card shortfall on its way back to its card: booked out
// of the wallet's cash into the card-refunds account, waiting for the
// bank's refund of the debit.
type CardReturn struct {
	DebitReference string
	Wallet         WalletID
	Amount         paydesk.Amount
	State          CardReturnState
	CreatedAt      time.Time
}

// CardReturnState is where a card return stands.
type CardReturnState string

// The states of a card return. Only PENDING moves, once.
const (
	CardReturnPending CardReturnState = "PENDING"
	// CardReturnDone: the bank refunded the debit to the card.
	CardReturnDone CardReturnState = "DONE"
	// CardReturnToBalance: the card can no longer take the money (the bank
	// refused for good), so it went back to the wallet's cash.
	CardReturnToBalance CardReturnState = "TO_BALANCE"
)

// unwindReference names the ledger transfer that takes the shortfall out
// of the wallet's cash; the bank refund is named after it.
func (r CardReturn) unwindReference() string { return r.DebitReference + ":unwind" }

// finishCardReturn asks the bank to refund r's debit and records the
// outcome. An error leaves r PENDING, for a retry.
func (s *Service) finishCardReturn(ctx context.Context, r CardReturn) error {
	out, err := s.RefundCard(ctx, r.Wallet, r.unwindReference()+":card", r.DebitReference, r.Amount)
	if err != nil {
		return fmt.Errorf("return card shortfall %s: %w", r.DebitReference, err)
	}
	state := CardReturnDone
	if out == CardRefundedToBalance {
		state = CardReturnToBalance
	}
	if err := s.store.FinishCardReturn(ctx, r.DebitReference, state, s.clock()); err != nil {
		// The money is where it belongs; a retry refunds nothing twice
		// (the bank and the ledger are idempotent by reference) and
		// records the state then.
		return fmt.Errorf("return card shortfall %s: %w", r.DebitReference, err)
	}
	return nil
}

// RetryCardReturns finishes the card returns the bank has not confirmed
// (it was down when they were made), oldest first, and returns how many it
// finished. It is safe on several instances at once: the bank and the
// ledger are idempotent by the return's references. A return that fails
// again stays PENDING for the next call.
func (s *Service) RetryCardReturns(ctx context.Context) (int, error) {
	pending, err := s.store.PendingCardReturns(ctx, 100)
	if err != nil {
		return 0, err
	}
	done, failed := 0, 0
	var last error
	for _, r := range pending {
		if err := s.finishCardReturn(ctx, r); err != nil {
			failed, last = failed+1, err
			continue
		}
		done++
	}
	if failed > 0 {
		return done, fmt.Errorf("%d card returns still pending: %w", failed, last)
	}
	return done, nil
}
