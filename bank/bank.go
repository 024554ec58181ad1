// Package bank is paydesk's door to the banks: debits from a customer's bound
// card (a top-up, or the shortfall of a payment) and payouts to a merchant's
// bank account (settlement and withdrawals). Everything goes through the
// Channel interface so the rest of paydesk never knows which bank, or the
// built-in Simulator, is on the other side.
//
// Every operation that moves money carries a caller-chosen Reference and is
// idempotent by it: a retry after a timeout, a crash or a lost reply gets the
// first outcome back and never moves money twice. That is what lets callers
// debit first and book the ledger afterwards without ever losing money.
package bank

import (
	"context"
	"time"

	"github.com/paydesk/paydesk"
)

// Channel is a connection to a bank (or to the Simulator).
//
// Debits are synchronous: the answer is the bank's final word. Payouts are
// asynchronous: Payout only submits, and the outcome arrives later as a
// signed Callback (see callback.go), which the receiver verifies with
// VerifyCallback and applies idempotently; PayoutStatus answers the same
// question by query, for a receiver that missed a callback.
type Channel interface {
	// BindCard checks a card with its bank and returns a token that stands
	// for it from then on; paydesk never stores the card number.
	BindCard(ctx context.Context, card CardDetails) (Card, error)
	// Debit takes money from a bound card. It is idempotent by Reference:
	// the same request again returns the first result (success or decline);
	// the same Reference with another card or amount is IDEMPOTENCY_CONFLICT.
	// ErrUnavailable means the outcome is unknown: retry with the same Reference.
	Debit(ctx context.Context, req DebitRequest) (DebitResult, error)
	// Payout submits a transfer to a bank account, idempotent by Reference.
	Payout(ctx context.Context, req PayoutRequest) (Payout, error)
	// PayoutStatus reports where a submitted payout stands.
	PayoutStatus(ctx context.Context, reference string) (Payout, error)
	// Refund gives money of an earlier debit back to its card. It is
	// synchronous and idempotent by Reference like Debit; the refunds of one
	// debit never add up to more than it (REFUND_EXCEEDS_DEBIT), and a debit
	// the bank does not know, or declined, is DEBIT_NOT_FOUND.
	Refund(ctx context.Context, req RefundRequest) (RefundResult, error)
}

// MaxReferenceLen bounds a Reference, so callers can prefix their own
// namespaces and still fit the ledger's 128-byte references.
const MaxReferenceLen = 128

// DebitRequest asks to take Amount from the card behind CardToken.
type DebitRequest struct {
	Reference string
	CardToken string
	Amount    paydesk.Amount
	Currency  paydesk.Currency
}

// DebitResult is a completed debit.
type DebitResult struct {
	Reference string
	// BankReference is the bank's own id of the debit, for reconciliation
	// and for refunds to the card.
	BankReference string
	Amount        paydesk.Amount
	Currency      paydesk.Currency
	At            time.Time
}

// Errors a Channel returns. Each is a coded paydesk.Error, so the HTTP layer
// maps them without knowing the bank.
var (
	ErrCardDeclined = &paydesk.Error{Kind: paydesk.KindUnprocessable, Code: "CARD_DECLINED", Message: "the bank declined the card"}
	ErrCardInvalid  = &paydesk.Error{Kind: paydesk.KindInvalid, Code: "CARD_INVALID", Message: "the card details are not valid"}
	ErrCardNotFound = &paydesk.Error{Kind: paydesk.KindUnprocessable, Code: "CARD_NOT_FOUND", Message: "no card is bound under this token"}
	// ErrUnavailable means the bank did not answer, or its answer was lost:
	// the operation may or may not have happened, and a retry with the same
	// Reference finds out safely.
	ErrUnavailable        = &paydesk.Error{Kind: paydesk.KindUnavailable, Code: "BANK_UNAVAILABLE", Message: "the bank did not answer, retry with the same reference"}
	ErrPayoutNotFound     = &paydesk.Error{Kind: paydesk.KindNotFound, Code: "PAYOUT_NOT_FOUND", Message: "no payout with this reference"}
	ErrBankAccountInvalid = &paydesk.Error{Kind: paydesk.KindInvalid, Code: "BANK_ACCOUNT_INVALID", Message: "the bank account is not valid"}
)

// validReference checks a caller's Reference.
func validReference(ref string) error {
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

// validMoney checks an amount and its currency.
func validMoney(a paydesk.Amount, c paydesk.Currency) error {
	if err := a.ValidPayment(); err != nil {
		return err
	}
	if len(c) != 3 || !upper(string(c)) {
		return paydesk.ErrInvalid.WithMessage("currency must be a 3-letter ISO 4217 code")
	}
	return nil
}

func upper(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}
