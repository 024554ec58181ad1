package settlement

import (
	"context"
	"strings"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/rbac"
)

// SetBankAccount binds the merchant's settlement bank account, replacing
// the one before (the operator's `paydesk bank-account set`). Payouts
// already submitted keep going to the account they were sent to; a batch
// that FAILED is retried to the new one by the scheduler.
func (s *Service) SetBankAccount(ctx context.Context, merchantID int64, a bank.BankAccount) (BankAccount, error) {
	a.Number = strings.ReplaceAll(strings.TrimSpace(a.Number), " ", "")
	a.Holder, a.BankName = strings.TrimSpace(a.Holder), strings.TrimSpace(a.BankName)
	if n := a.Number; len(n) < 6 || len(n) > 34 || strings.TrimFunc(n, isAlnum) != "" {
		return BankAccount{}, bank.ErrBankAccountInvalid.WithMessage("account number must be 6 to 34 letters or digits")
	}
	if a.Holder == "" || len(a.Holder) > 128 || len(a.BankName) > 128 {
		return BankAccount{}, bank.ErrBankAccountInvalid.WithMessage("account holder must be 1 to 128 bytes, bank name at most 128")
	}
	if _, err := s.merchants.Merchant(ctx, merchantID); err != nil {
		return BankAccount{}, err
	}
	acct := BankAccount{MerchantID: merchantID, BankAccount: a, UpdatedAt: s.clock()}
	return acct, s.store.SaveBankAccount(ctx, acct)
}

// BindBankAccount is the owner binding the merchant's payout account from
// the app, confirming it with their own password: a live session alone
// may not redirect the merchant's payouts (cashier.Service.ConfirmPassword
// audits and throttles wrong ones). The change and its audit record commit
// together.
func (s *Service) BindBankAccount(ctx context.Context, actor cashier.Actor, password string, a bank.BankAccount) (BankAccount, error) {
	if actor.Role != rbac.Owner {
		return BankAccount{}, paydesk.ErrForbidden.WithMessage("only an owner binds the payout bank account")
	}
	if err := s.merchants.Staff().ConfirmPassword(ctx, actor, password); err != nil {
		return BankAccount{}, err
	}
	var out BankAccount
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		var err error
		if out, err = s.SetBankAccount(ctx, actor.MerchantID, a); err != nil {
			return err
		}
		return s.merchants.Staff().Record(ctx, actor, cashier.AuditBankAccountChanged, actor.MerchantID, out.Masked()+" at "+out.BankName)
	})
	return out, err
}

// Masked is the account number as every screen, log and operator command
// shows it: four stars and its last four characters. The stars are fixed,
// not one per hidden digit, so the mask does not tell the number's length,
// and a number of four characters or fewer shows no digit at all.
func (a BankAccount) Masked() string {
	n := a.Number
	if len(n) <= 4 {
		return "****"
	}
	return "****" + n[len(n)-4:]
}

// BankAccount returns the merchant's bound account, or BANK_ACCOUNT_NOT_BOUND.
func (s *Service) BankAccount(ctx context.Context, merchantID int64) (BankAccount, error) {
	return s.store.BankAccount(ctx, merchantID)
}

func isAlnum(r rune) bool {
	return (r >= '0' && r <= '9') || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z')
}

// Balance returns the merchant's cleared balances, read in one statement
// so that they are of one moment and add up to the book balance. The
// marketing account (vouchers, coupons) is not part of them.
func (s *Service) Balance(ctx context.Context, merchantID int64) (Balance, error) {
	m, err := s.merchants.Merchant(ctx, merchantID)
	if err != nil {
		return Balance{}, err
	}
	bs, err := s.ledger.Balances(ctx, m.Accounts.Pending, m.Accounts.Available, m.Accounts.Frozen)
	if err != nil {
		return Balance{}, err
	}
	b := Balance{Pending: bs[m.Accounts.Pending], Available: bs[m.Accounts.Available], Frozen: bs[m.Accounts.Frozen], Currency: m.Currency}
	var book paydesk.Amount
	for _, v := range []paydesk.Amount{b.Pending, b.Available, b.Frozen} {
		if book, err = book.Add(v); err != nil {
			return Balance{}, err
		}
	}
	b.Book = book
	return b, nil
}
