// Package ledger is the double-entry book of every movement of money in
// paydesk, and the single writer of account balances.
//
// A Transfer is a list of postings (source, destination, amount); each posting
// becomes two entries that sum to zero, so the sum over all accounts is always
// zero. Balances are kept on the account row, so reading one never sums
// history, and every entry records the balance after it and a per-account
// sequence number, which makes statements cheap and lost updates impossible.
//
// Writes go through a Poster that groups concurrent transfers into one
// database transaction (group commit): a hot merchant account credited by
// dozens of cashiers is locked and updated once per batch, not once per
// payment. See poster.go.
package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"time"

	"github.com/paydesk/paydesk"
)

// AccountID identifies an account.
type AccountID int64

// Account is one balance in the book.
type Account struct {
	ID   AccountID
	Code string // unique and human readable, e.g. "merchant:42:pending"
	Type string // what the account is for, e.g. "merchant_pending"
	// Currency of every amount on the account.
	Currency paydesk.Currency
	// AllowNegative is true only for accounts that mirror the outside world
	// (a bank's clearing account, the platform's marketing budget); customer
	// and merchant accounts never go below zero.
	AllowNegative bool
	Balance       paydesk.Amount
	// Seq is the number of entries ever posted to the account.
	Seq       int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Posting moves Amount from Source to Destination.
type Posting struct {
	Source      AccountID
	Destination AccountID
	Amount      paydesk.Amount
}

// Transfer is one atomic, balanced movement of money.
type Transfer struct {
	ID int64
	// Reference makes a transfer idempotent: posting the same reference twice
	// records it once, and the second call gets the first result back.
	Reference string
	Kind      string // "payment", "refund", "topup", "settlement", ...
	Memo      string
	Postings  []Posting
	CreatedAt time.Time
	// Replayed is set on a result that was recorded by an earlier call.
	Replayed bool
}

// Entry is one side of a posting on one account.
type Entry struct {
	ID           int64
	TransferID   int64
	AccountID    AccountID
	Seq          int64          // position on the account, from 1
	Amount       paydesk.Amount // positive credits the account, negative debits it
	BalanceAfter paydesk.Amount
	CreatedAt    time.Time
}

// ErrMerchantInsufficientBalance is a merchant's balances short of what a
// refund (pos) or a payout (settlement) needs; each says what in its
// message (WithMessage), and the code is defined here once.
var ErrMerchantInsufficientBalance = &paydesk.Error{Kind: paydesk.KindUnprocessable, Code: "MERCHANT_INSUFFICIENT_BALANCE", Message: "the merchant's balance does not cover this"}

// Errors the ledger returns. Domain packages translate ErrInsufficientFunds
// into their own code (a wallet's INSUFFICIENT_FUNDS, a merchant's
// ErrMerchantInsufficientBalance), since only they know whose money it was.
var (
	ErrInsufficientFunds = &paydesk.Error{Kind: paydesk.KindUnprocessable, Code: "LEDGER_INSUFFICIENT_FUNDS", Message: "the account cannot go below zero"}
	ErrAccountNotFound   = &paydesk.Error{Kind: paydesk.KindNotFound, Code: "LEDGER_ACCOUNT_NOT_FOUND", Message: "no such ledger account"}
	ErrAccountConflict   = &paydesk.Error{Kind: paydesk.KindConflict, Code: "LEDGER_ACCOUNT_CONFLICT", Message: "an account with this code exists with other settings"}
	ErrInvalidTransfer   = &paydesk.Error{Kind: paydesk.KindInvalid, Code: "LEDGER_INVALID_TRANSFER", Message: "invalid transfer"}
	ErrNestedPost        = &paydesk.Error{Kind: paydesk.KindInternal, Code: "LEDGER_NESTED_POST", Message: "a transfer's work may not post another transfer"}
	ErrClosed            = &paydesk.Error{Kind: paydesk.KindUnavailable, Code: "LEDGER_CLOSED", Message: "the ledger is shutting down", RetryAfter: 1}
	// ErrNotPosted answers a transfer that the database failed to record:
	// it did not commit (the ledger checked), or the database could not
	// be asked. Either way posting the same reference again is safe: it
	// is recorded once, and a transfer recorded meanwhile is answered.
	ErrNotPosted = paydesk.ErrUnavailable.WithMessage("the database failed before the transfer was recorded: retry with the same reference")
)

// InsufficientFunds is the error for a posting that would take account below zero.
type InsufficientFunds struct {
	Account   AccountID
	Code      string
	Balance   paydesk.Amount
	Requested paydesk.Amount
}

func (e *InsufficientFunds) Error() string {
	return "ledger: account " + e.Code + " has " + e.Balance.String() + ", needs " + e.Requested.String()
}

// Is lets errors.Is(err, ErrInsufficientFunds) match.
func (e *InsufficientFunds) Is(target error) bool { return target == ErrInsufficientFunds }

// Unwrap exposes the coded error to paydesk.AsError.
func (e *InsufficientFunds) Unwrap() error { return ErrInsufficientFunds }

// validate checks a transfer's shape before it is queued.
func (t *Transfer) validate() error {
	switch {
	case t.Reference == "" || len(t.Reference) > 128:
		return ErrInvalidTransfer.WithMessage("reference must be 1 to 128 bytes")
	case t.Kind == "" || len(t.Kind) > 32:
		return ErrInvalidTransfer.WithMessage("kind must be 1 to 32 bytes")
	case len(t.Memo) > 255:
		return ErrInvalidTransfer.WithMessage("memo must be at most 255 bytes")
	case len(t.Postings) == 0:
		return ErrInvalidTransfer.WithMessage("a transfer needs at least one posting")
	}
	for i, p := range t.Postings {
		if p.Amount <= 0 {
			return ErrInvalidTransfer.WithMessage("posting %d: amount must be positive", i)
		}
		if p.Source == p.Destination {
			return ErrInvalidTransfer.WithMessage("posting %d: source and destination are the same account", i)
		}
	}
	return nil
}

// digest fingerprints what a transfer does, so that a retry of a reference
// with different postings is told apart from an honest retry.
func (t *Transfer) digest() string {
	h := sha256.New()
	h.Write([]byte(t.Kind))
	h.Write([]byte{0})
	var b [24]byte
	for _, p := range t.Postings {
		binary.BigEndian.PutUint64(b[0:], uint64(p.Source))
		binary.BigEndian.PutUint64(b[8:], uint64(p.Destination))
		binary.BigEndian.PutUint64(b[16:], uint64(p.Amount))
		h.Write(b[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Bulk writes the gathered writes of a batch's Work (see storage.Bulk):
// all at once in the order they were made (Flush), or in two parts around
// the batch's account locks: what locks no row other batches share
// (FlushEarly) and the rest (FlushLate).
type Bulk interface {
	Flush(ctx context.Context) error
	FlushEarly(ctx context.Context) error
	FlushLate(ctx context.Context) error
}

// Store is what the ledger needs from the database. All methods that write
// run inside the transaction carried by ctx.
type Store interface {
	paydesk.TxRunner
	// InTransaction reports whether ctx carries a transaction.
	InTransaction(ctx context.Context) bool
	// Bulk returns a context in which the writes of transfers' Work that
	// allow it are gathered, and the Bulk that writes them together.
	Bulk(ctx context.Context) (context.Context, Bulk)
	// LocksRows reports whether the database locks rows (MySQL), so that
	// a batch that takes its shared locks late lets other instances'
	// batches run meanwhile; SQLite's one writer gains nothing from it.
	LocksRows() bool

	CreateAccount(ctx context.Context, a *Account) error
	Account(ctx context.Context, id AccountID) (Account, error)
	// Accounts reads several accounts in one statement; missing ones are absent.
	Accounts(ctx context.Context, ids []AccountID) (map[AccountID]Account, error)
	AccountByCode(ctx context.Context, code string) (Account, error)

	// LockAccounts reads the accounts for update, in id order to avoid deadlocks.
	LockAccounts(ctx context.Context, ids []AccountID) (map[AccountID]*Account, error)
	// TransfersByReference returns the recorded transfers among refs, with their digests.
	TransfersByReference(ctx context.Context, refs []string) (map[string]RecordedTransfer, error)
	// CommittedTransfers is TransfersByReference for a transaction whose
	// COMMIT failed: it reads on a fresh connection, outside any
	// transaction, what is committed, and waits for a transaction that
	// still writes one of refs (a COMMIT the server is still carrying
	// out) to end first.
	CommittedTransfers(ctx context.Context, refs []string) (map[string]RecordedTransfer, error)
	// InsertTransfers records the transfers and returns their IDs in order.
	// If another transaction recorded one of their references since
	// TransfersByReference (another instance's poster), it fails with an
	// error marked retryable (see isRetryable), so that the batch runs
	// again and answers that reference as a replay.
	InsertTransfers(ctx context.Context, ts []NewTransfer) ([]int64, error)
	InsertEntries(ctx context.Context, es []Entry) error
	// SaveBalances writes the balance and seq of each account.
	SaveBalances(ctx context.Context, as []*Account) error

	Entries(ctx context.Context, f EntryFilter) ([]Entry, error)
	TransferByReference(ctx context.Context, ref string) (Transfer, error)
	Check(ctx context.Context) (CheckReport, error)
	// ReadStore serves the reads of reads.go.
	ReadStore
}

// RecordedTransfer is what the store remembers of a transfer for idempotency.
type RecordedTransfer struct {
	ID        int64
	Digest    string
	CreatedAt time.Time
}

// NewTransfer is a transfer row on its way into the store.
type NewTransfer struct {
	Reference string
	Kind      string
	Memo      string
	Digest    string
	CreatedAt time.Time
}

// EntryFilter selects entries of one account, oldest first.
type EntryFilter struct {
	AccountID AccountID
	AfterSeq  int64 // exclusive
	From, To  time.Time
	Limit     int
}

// CheckReport is the result of an integrity check of the whole book.
type CheckReport struct {
	// SumByCurrency is the sum of all balances per currency: zero in a sound book.
	SumByCurrency map[paydesk.Currency]paydesk.Amount
	// Drifted lists accounts whose balance differs from the sum of their entries.
	Drifted []AccountID
	// Unbalanced lists transfers whose entries do not sum to zero.
	Unbalanced []int64
	// Negative lists accounts below zero that forbid it.
	Negative []AccountID
	Accounts int64
	Entries  int64
}

// OK reports whether the book is sound.
func (r CheckReport) OK() bool {
	for _, s := range r.SumByCurrency {
		if s != 0 {
			return false
		}
	}
	return len(r.Drifted) == 0 && len(r.Unbalanced) == 0 && len(r.Negative) == 0
}
