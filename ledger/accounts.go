package ledger

import (
	"context"

	"github.com/paydesk/paydesk"
)

// CreateAccount opens an account, or returns the existing one with the same
// code when its type, currency and sign rule agree (so callers may ensure
// accounts idempotently); otherwise ErrAccountConflict.
func (l *Ledger) CreateAccount(ctx context.Context, a Account) (Account, error) {
	if a.Code == "" || len(a.Code) > 128 || a.Type == "" || len(a.Type) > 32 || len(a.Currency) != 3 {
		return Account{}, ErrInvalidTransfer.WithMessage("an account needs a code (≤128 bytes), a type (≤32 bytes) and a 3-letter currency")
	}
	now := l.clock()
	a.ID, a.Balance, a.Seq, a.CreatedAt, a.UpdatedAt = 0, 0, 0, now, now
	err := l.store.CreateAccount(ctx, &a)
	if err == nil {
		return a, nil
	}
	existing, gerr := l.store.AccountByCode(ctx, a.Code)
	if gerr != nil {
		return Account{}, err
	}
	if existing.Type != a.Type || existing.Currency != a.Currency || existing.AllowNegative != a.AllowNegative {
		return Account{}, ErrAccountConflict.WithMessage("account %s exists as %s/%s", a.Code, existing.Type, existing.Currency)
	}
	return existing, nil
}

// Account returns the account with its current balance.
func (l *Ledger) Account(ctx context.Context, id AccountID) (Account, error) {
	return l.store.Account(ctx, id)
}

// AccountByCode returns the account named code.
func (l *Ledger) AccountByCode(ctx context.Context, code string) (Account, error) {
	return l.store.AccountByCode(ctx, code)
}

// Balance returns the current balance of an account.
func (l *Ledger) Balance(ctx context.Context, id AccountID) (paydesk.Amount, error) {
	a, err := l.store.Account(ctx, id)
	return a.Balance, err
}

// Balances returns the balances of several accounts, read in one statement
// (so of one moment on MySQL); an unknown account is ACCOUNT_NOT_FOUND.
func (l *Ledger) Balances(ctx context.Context, ids ...AccountID) (map[AccountID]paydesk.Amount, error) {
	as, err := l.store.Accounts(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[AccountID]paydesk.Amount, len(ids))
	for _, id := range ids {
		a, ok := as[id]
		if !ok {
			return nil, ErrAccountNotFound.WithMessage("no ledger account %d", id)
		}
		out[id] = a.Balance
	}
	return out, nil
}

// Entries lists an account's entries, oldest first.
func (l *Ledger) Entries(ctx context.Context, f EntryFilter) ([]Entry, error) {
	if f.Limit <= 0 || f.Limit > 10000 {
		f.Limit = 10000
	}
	return l.store.Entries(ctx, f)
}

// TransferByReference returns the transfer recorded under ref, with its postings.
func (l *Ledger) TransferByReference(ctx context.Context, ref string) (Transfer, error) {
	return l.store.TransferByReference(ctx, ref)
}

// Check verifies the whole book: every transfer sums to zero, every balance
// equals the sum of its entries, all balances sum to zero per currency, and
// no account that forbids it is negative.
func (l *Ledger) Check(ctx context.Context) (CheckReport, error) {
	return l.store.Check(ctx)
}
