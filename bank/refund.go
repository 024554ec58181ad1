package bank

import (
	"time"

	"github.com/paydesk/paydesk"
)

// RefundRequest asks the bank to give (part of) an earlier card debit back
// to the card it came from. The bank finds the card from the debit, so a
// refund reaches the card that paid even if the wallet has since bound
// another one.
type RefundRequest struct {
	// Reference names this refund and makes it idempotent.
	Reference string
	// DebitReference is the Reference of the debit being refunded.
	DebitReference string
	Amount         paydesk.Amount
	Currency       paydesk.Currency
}

// RefundResult is a completed refund to a card.
type RefundResult struct {
	Reference      string
	DebitReference string
	// BankReference is the bank's own id of the refund, for reconciliation.
	BankReference string
	Amount        paydesk.Amount
	Currency      paydesk.Currency
	At            time.Time
}

// Errors of card refunds.
var (
	ErrDebitNotFound      = &paydesk.Error{Kind: paydesk.KindUnprocessable, Code: "DEBIT_NOT_FOUND", Message: "the bank has no successful debit with this reference"}
	ErrRefundExceedsDebit = &paydesk.Error{Kind: paydesk.KindUnprocessable, Code: "REFUND_EXCEEDS_DEBIT", Message: "the refunds of a debit would exceed the debit"}
)

func (r RefundRequest) validate() error {
	if err := validReference(r.Reference); err != nil {
		return err
	}
	if err := validReference(r.DebitReference); err != nil {
		return err
	}
	return validMoney(r.Amount, r.Currency)
}
