package view

import (
	"time"

	"github.com/paydesk/paydesk/settlement"
)

// BankAccount is the merchant's payout bank account, as GET and PUT
// /v1/bank-account answer it and `paydesk bank-account set` prints it.
// The number is masked (settlement.BankAccount.Masked): the full number is
// never shown, so a screenshot or a log leaks nothing usable.
type BankAccount struct {
	Number    string    `json:"number"`
	Holder    string    `json:"holder"`
	BankName  string    `json:"bank_name"`
	UpdatedAt time.Time `json:"updated_at"`
}

// BankAccountOf is a's JSON shape.
func BankAccountOf(a settlement.BankAccount) BankAccount {
	return BankAccount{Number: a.Masked(), Holder: a.Holder, BankName: a.BankName, UpdatedAt: a.UpdatedAt}
}
