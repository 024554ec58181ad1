package settlement

import (
	"context"
	"errors"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/bank"
)

// Store is what settlement needs from the database: batches, withdrawals,
// payout attempts, cursors, bound bank accounts and payout modes. Methods
// that write, and those that lock, run in the transaction ctx carries.
// The ledger's tables are the ledger's: settlement reads them through it.
type Store interface {
	paydesk.TxRunner

	MerchantIDs(ctx context.Context) ([]int64, error)

	// Cursor returns the merchant's cursor, creating it at start when it
	// has none; FindCursor reads it without creating it; LockCursor reads
	// it for update (the zero Cursor when there is none).
	Cursor(ctx context.Context, merchantID int64, start Day, now time.Time) (Cursor, error)
	FindCursor(ctx context.Context, merchantID int64) (Cursor, bool, error)
	LockCursor(ctx context.Context, merchantID int64) (Cursor, error)
	// MoveCursor moves the cursor from cut-through from to c, reporting
	// whether it was still at from.
	MoveCursor(ctx context.Context, from string, c Cursor) (bool, error)

	// CreateBatch inserts b at version 1 and returns it as stored.
	CreateBatch(ctx context.Context, b Batch) (Batch, error)
	// Batch reads a batch by id; merchantID 0 means of any merchant.
	Batch(ctx context.Context, merchantID, id int64) (Batch, error)
	BatchOfDay(ctx context.Context, merchantID int64, d Day) (Batch, error)
	// Batches pages the merchant's batches, newest first, below id before (0: from the newest).
	Batches(ctx context.Context, merchantID, before int64, limit int) ([]Batch, error)
	// BatchesIn lists batches of any merchant in state, oldest first;
	// dueBy, if not zero, keeps those due by then, and bankOnly those not
	// recorded offline.
	BatchesIn(ctx context.Context, state State, dueBy time.Time, bankOnly bool, limit int) ([]Batch, error)
	// MerchantBatchesIn lists the merchant's batches in state, oldest
	// first; limit 0 lists them all.
	MerchantBatchesIn(ctx context.Context, merchantID int64, state State, limit int) ([]Batch, error)
	// UpcomingBatches lists the merchant's batches whose money is still in
	// pending, soonest due first.
	UpcomingBatches(ctx context.Context, merchantID int64, limit int) ([]Batch, error)
	// LockOpenBatches reads, for update, the merchant's batches with money
	// still in pending, newest business day first.
	LockOpenBatches(ctx context.Context, merchantID int64) ([]Batch, error)
	// LockFailedBatches reads the merchant's FAILED batches, oldest first, for update.
	LockFailedBatches(ctx context.Context, merchantID int64) ([]Batch, error)
	// PayoutSums adds up the merchant's batches whose money is still in
	// pending (open) and its batches and withdrawals SUBMITTED (in flight).
	PayoutSums(ctx context.Context, merchantID int64) (open, inFlight paydesk.Amount, err error)

	// UpdatePayout changes the batch (kind KindSettlement) or withdrawal
	// id if it is still at version, bumping the version; set maps columns
	// to values. It reports whether it did.
	UpdatePayout(ctx context.Context, kind string, id, version int64, set map[string]any) (bool, error)

	// CreateWithdrawal inserts w, of business day day, at version 1 and
	// returns it as stored; a taken request number is errDuplicateRequest.
	CreateWithdrawal(ctx context.Context, w Withdrawal, day Day) (Withdrawal, error)
	// Withdrawal reads a withdrawal by id; merchantID 0 means of any merchant.
	Withdrawal(ctx context.Context, merchantID, id int64) (Withdrawal, error)
	WithdrawalByRequestNo(ctx context.Context, merchantID int64, requestNo string) (Withdrawal, error)
	Withdrawals(ctx context.Context, merchantID, before int64, limit int) ([]Withdrawal, error)
	MerchantWithdrawalsIn(ctx context.Context, merchantID int64, state State, limit int) ([]Withdrawal, error)
	// WithdrawnOn sums the merchant's withdrawals of day, failed ones excepted.
	WithdrawnOn(ctx context.Context, merchantID int64, day Day) (paydesk.Amount, error)

	CreateAttempt(ctx context.Context, a *Attempt) error
	// Attempt reads the attempt ref, for update if lock.
	Attempt(ctx context.Context, ref string, lock bool) (Attempt, error)
	// OpenAttempts lists the bank payouts without a final answer whose time
	// to be checked has come.
	OpenAttempts(ctx context.Context, now time.Time, limit int) ([]Attempt, error)
	// PaidAttempts lists the bank payouts the bank paid in [from, to), by reference.
	PaidAttempts(ctx context.Context, from, to time.Time) ([]Attempt, error)
	// UpdateAttempt changes an attempt that is still in one of the statuses from.
	UpdateAttempt(ctx context.Context, ref string, from []string, set map[string]any) (bool, error)

	BankAccount(ctx context.Context, merchantID int64) (BankAccount, error)
	// LockBankAccount reads the merchant's bank account for update: the row
	// every withdrawal of the merchant locks, so that their daily limit is
	// checked one at a time.
	LockBankAccount(ctx context.Context, merchantID int64) (BankAccount, error)
	SaveBankAccount(ctx context.Context, a BankAccount) error

	// PayoutMode reads the merchant's mode; ok is false when none is set.
	PayoutMode(ctx context.Context, merchantID int64) (mode PayoutMode, ok bool, err error)
	SavePayoutMode(ctx context.Context, merchantID int64, mode PayoutMode, at time.Time) error
}

// errDuplicateRequest is a withdrawal's request number already taken.
var errDuplicateRequest = errors.New("settlement: request_no taken")

// Cursor is how far a merchant's business days are cut.
type Cursor struct {
	MerchantID int64
	CutThrough string
	// Carry is the deficit carried into the next day's batch.
	Carry int64
	// CutAt is when CutThrough was cut, if that was before the day ended
	// (dev-mode settle now): the next day's batch starts there.
	CutAt     *time.Time
	UpdatedAt time.Time
}

// Attempt statuses. SUBMITTING means the bank has not confirmed it has the
// payout; the bank's own statuses follow.
const (
	attemptSubmitting = "SUBMITTING"
	channelBank       = "bank"
	channelOffline    = "offline"
)

// Attempt is one payout as the bank sees it.
type Attempt struct {
	ID            int64
	Reference     string
	Kind          string
	SubjectID     int64
	MerchantID    int64
	Attempt       int
	Channel       string
	Amount        int64
	Currency      string
	AccountNumber string
	AccountHolder string
	BankName      string
	Status        string
	BankReference string
	Reason        string
	BankAt        *time.Time
	NextCheckAt   time.Time
	Tries         int
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

func (a Attempt) request() bank.PayoutRequest {
	return bank.PayoutRequest{Reference: a.Reference, Amount: paydesk.Amount(a.Amount), Currency: paydesk.Currency(a.Currency),
		Account: bank.BankAccount{Number: a.AccountNumber, Holder: a.AccountHolder, BankName: a.BankName}}
}

func (a Attempt) final() bool { return bank.PayoutStatus(a.Status).Final() }
