package bank

import (
	"strings"
	"time"

	"github.com/paydesk/paydesk"
)

// BankAccount is where a payout goes: a merchant's settlement account.
type BankAccount struct {
	Number   string // the account number, 6 to 34 digits or letters (IBAN-like)
	Holder   string
	BankName string
}

// PayoutRequest asks the bank to send Amount to Account.
type PayoutRequest struct {
	Reference string
	Account   BankAccount
	Amount    paydesk.Amount
	Currency  paydesk.Currency
}

// PayoutStatus is where a payout stands at the bank. It only moves forward:
// SUBMITTED, then PAID or FAILED, and never back.
type PayoutStatus string

const (
	PayoutSubmitted PayoutStatus = "SUBMITTED"
	PayoutPaid      PayoutStatus = "PAID"
	PayoutFailed    PayoutStatus = "FAILED"
)

// Final reports whether s is an outcome that will not change.
func (s PayoutStatus) Final() bool { return s == PayoutPaid || s == PayoutFailed }

// Valid reports whether s is one of the three statuses.
func (s PayoutStatus) Valid() bool { return s == PayoutSubmitted || s.Final() }

// Payout is a payout as the bank knows it.
type Payout struct {
	Reference     string
	BankReference string
	Amount        paydesk.Amount
	Currency      paydesk.Currency
	Status        PayoutStatus
	// Reason is the bank's explanation of a FAILED payout, shown to the owner.
	Reason    string
	UpdatedAt time.Time
}

func (r PayoutRequest) validate() error {
	if err := validReference(r.Reference); err != nil {
		return err
	}
	if err := validMoney(r.Amount, r.Currency); err != nil {
		return err
	}
	n := r.Account.Number
	if len(n) < 6 || len(n) > 34 || strings.TrimFunc(n, isAlnum) != "" {
		return ErrBankAccountInvalid.WithMessage("account number must be 6 to 34 letters or digits")
	}
	if h := strings.TrimSpace(r.Account.Holder); h == "" || len(h) > 128 {
		return ErrBankAccountInvalid.WithMessage("account holder must be 1 to 128 bytes")
	}
	return nil
}

func isAlnum(r rune) bool {
	return (r >= '0' && r <= '9') || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z')
}
