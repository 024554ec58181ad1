package ledger

import (
	"context"
	"errors"
	"time"

	"github.com/paydesk/paydesk"
)

// The reads other packages make of the book: statements, a day's totals,
// a wallet's history, balances under lock. They are here, over the
// ledger's Store, so that no other package reads the ledger's tables.

// Line is one entry of a statement with its transfer's kind, reference
// and memo.
type Line struct {
	Seq          int64
	Amount       paydesk.Amount
	BalanceAfter paydesk.Amount
	CreatedAt    time.Time
	TransferID   int64
	Kind         string
	Reference    string
	Memo         string
}

// TotalsFilter selects an account's entries posted in [From, To), leaving
// out those of transfers of kind Except; Kind splits the rest in two.
type TotalsFilter struct {
	AccountID AccountID
	From, To  time.Time
	Kind      string
	Except    string
}

// Totals sums the entries a TotalsFilter selects: KindIn and KindOut are
// the credits and (positive) debits of transfers of the filter's Kind,
// OtherIn and OtherOut those of every other kind.
type Totals struct {
	Entries                            int64
	KindIn, KindOut, OtherIn, OtherOut paydesk.Amount
}

// Movement is one transfer as some accounts see it: its net amount on each.
type Movement struct {
	TransferID int64
	Reference  string
	Kind       string
	Memo       string
	CreatedAt  time.Time
	Amounts    map[AccountID]paydesk.Amount
}

// ReadStore is what the ledger's reads need from the database.
type ReadStore interface {
	// EdgeEntry returns the first entry of account at or after t (last
	// false) or the last one before t (last true): the earliest (latest)
	// time and, of the entries posted at that time, the lowest (highest)
	// seq. ok is false when there is none.
	EdgeEntry(ctx context.Context, account AccountID, t time.Time, last bool) (e Entry, ok bool, err error)
	// Lines reads up to limit entries of account with after < seq <=
	// through, in seq order, with their transfers, into into[:0].
	Lines(ctx context.Context, account AccountID, after, through int64, limit int, into []Line) ([]Line, error)
	Totals(ctx context.Context, f TotalsFilter) (Totals, error)
	// Movements lists the transfers touching accounts, newest first,
	// before transfer id before (0: from the newest).
	Movements(ctx context.Context, accounts []AccountID, before int64, limit int) ([]Movement, error)
}

// FirstEntryFrom returns the first entry of account posted at or after t
// (of those posted at one moment, the lowest seq); ok is false if none is.
// Its cost does not grow with the account.
func (l *Ledger) FirstEntryFrom(ctx context.Context, account AccountID, t time.Time) (Entry, bool, error) {
	return l.store.EdgeEntry(ctx, account, t, false)
}

// LastEntryBefore returns the last entry of account posted before t.
func (l *Ledger) LastEntryBefore(ctx context.Context, account AccountID, t time.Time) (Entry, bool, error) {
	return l.store.EdgeEntry(ctx, account, t, true)
}

// Lines reads one page of an account's statement: up to limit entries with
// after < seq <= through, in seq order, each with its transfer, reusing
// into's memory. Walking pages by the last seq costs the same per page
// however long the account.
func (l *Ledger) Lines(ctx context.Context, account AccountID, after, through int64, limit int, into []Line) ([]Line, error) {
	return l.store.Lines(ctx, account, after, through, limit, into)
}

// Totals sums an account's entries over a time range, split by kind.
func (l *Ledger) Totals(ctx context.Context, f TotalsFilter) (Totals, error) {
	return l.store.Totals(ctx, f)
}

// Movements lists the transfers that touch any of accounts, newest first,
// limit at a time before transfer id before (0 for the newest), each with
// its net amount on each of the accounts.
func (l *Ledger) Movements(ctx context.Context, accounts []AccountID, before int64, limit int) ([]Movement, error) {
	if len(accounts) == 0 || limit <= 0 {
		return nil, nil
	}
	return l.store.Movements(ctx, accounts, before, limit)
}

// LockedBalance reads an account's balance for update, in the transaction
// ctx carries: no transfer touches the account until that transaction ends.
func (l *Ledger) LockedBalance(ctx context.Context, id AccountID) (paydesk.Amount, error) {
	if !l.store.InTransaction(ctx) {
		return 0, errors.New("ledger: LockedBalance needs a transaction")
	}
	as, err := l.store.LockAccounts(ctx, []AccountID{id})
	if err != nil {
		return 0, err
	}
	a, ok := as[id]
	if !ok {
		return 0, ErrAccountNotFound.WithMessage("no ledger account %d", id)
	}
	return a.Balance, nil
}
