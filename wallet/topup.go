package wallet

import (
	"context"
	"errors"
	"fmt"

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
// out of the wallet's cash to the card-refunds account, then asks the bank
// to refund the debit (RefundCard), all under references derived from the
// debit's, so a retry does it once. If the cash was spent meanwhile there
// is nothing parked to return. It must not run inside a transaction.
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
	ref := f.CardDebit + ":unwind"
	_, err = s.ledger.Post(ctx, ledger.Transfer{Reference: ref, Kind: "autotopup_return", Memo: "card shortfall of a payment that did not happen",
		Postings: []ledger.Posting{{Source: w.CashAccount, Destination: plat.CardRefunds, Amount: f.Card}}}, nil)
	var short *ledger.InsufficientFunds
	if errors.As(err, &short) {
		return nil // spent by another payment meanwhile: nothing is parked
	}
	if err != nil {
		return fmt.Errorf("return card shortfall %s: %w", f.CardDebit, err)
	}
	if _, err := s.RefundCard(ctx, id, ref+":card", f.CardDebit, f.Card); err != nil {
		return fmt.Errorf("return card shortfall %s: %w", f.CardDebit, err)
	}
	return nil
}
