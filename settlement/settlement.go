// Package settlement pays merchants: it cuts each business day into a
// settlement batch, pays the batch to the merchant's bound bank account
// when it is due (T+N), carries out withdrawals of the available balance,
// and answers for the money: balances, statements and reconciliation with
// the bank's daily file.
//
// # The money flow
//
// A merchant has three cleared ledger accounts (SPEC §5): pending
// (collected, not yet settled), available (settled, withdrawable) and
// frozen (in a payout in flight); book balance is their sum. Voucher and
// coupon money sits on a fourth, marketing account and is in none of them
// (seed 004, FAQ 5). bank:clearing stands for the banks: money paid out
// goes there and leaves paydesk.
//
//	payment          customer ──▶ pending ──fee──▶ platform:fees   (pos)
//	refund           pending (then available) ──▶ customer         (pos)
//	cut-off          nothing moves: the day's batch is computed from the
//	                 day's entries on pending (payments − refunds − fees)
//	due date         nothing moves: NOT_DUE → AWAITING_PAYMENT
//	submit           pending ──▶ frozen       AWAITING_PAYMENT → SUBMITTED
//	bank says paid   frozen ──▶ bank:clearing SUBMITTED → PAID
//	bank says failed frozen ──▶ available     SUBMITTED → FAILED
//	retry            available ──▶ frozen     FAILED → SUBMITTED
//	offline paid     pending or available ──▶ bank:clearing        → PAID
//	offline failed   pending ──▶ available                         → FAILED
//	settle (manual)  pending ──▶ available    AWAITING_PAYMENT → SETTLED
//	withdraw from a  nothing moves            FAILED → SETTLED
//	  failed batch's money
//	withdrawal       available ──▶ frozen (+ fee to platform:fees)  SUBMITTED
//	  paid           frozen ──▶ bank:clearing                       PAID
//	  failed         frozen ──▶ available (and the fee comes back)  FAILED
//
// A merchant's payout mode (mode.go) chooses what the due date does: auto
// pays the batch to the bank, manual settles it into available for the
// owner to withdraw. In auto mode settlement money never passes through
// available on its way to the bank: moving it to available at the due
// date would let the owner withdraw the same money the batch is about to
// pay. It reaches available when a payout fails, reserved for the batch's
// retry; a withdrawal that needs it closes the batch as SETTLED (see
// Withdraw), so the batch is never retried and its reason stays true.
//
// # Batches add up to pending, to the cent
//
// A batch's Net is exactly the sum of the day's entries on the pending
// account (every transfer except settlement's own), so pending always
// equals the batches whose money is still in it plus the days not cut yet.
// A refund may take money of an earlier day that is already cut, so a day
// can net negative. Its deficit is then deducted from the newest batches
// whose money is still in pending (Adjustment < 0 on them, > 0 on the
// negative day, whose Amount becomes 0); should they not cover it all, the
// rest is carried into the next day's batch. Amount = Net + Adjustment is
// what a batch pays, never below zero, and pending stays equal to
//
//	Σ Amount (batches NOT_DUE or AWAITING_PAYMENT) + Σ entries not cut yet − carried deficit.
//
// # Exactly once
//
// Every state change is one conditional UPDATE (on the row's version) in the
// same transaction as its ledger transfer and its event, so of several
// scheduler instances, callbacks and operators racing, exactly one moves a
// payout, and a ledger reference per step makes a replay harmless. The bank
// sees one payout reference per attempt ("stl-12-1", "wdr-7-1"); an attempt
// that got no answer is asked about again (PayoutStatus) and resubmitted
// under the same reference, never under a new one, so nothing is paid
// twice; a new attempt is made only after the bank said FAILED.
package settlement

import (
	"context"
	"log/slog"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/merchant"
	"github.com/paydesk/paydesk/storage"
)

// Batch is the settlement of one merchant's business day.
type Batch struct {
	ID          int64
	MerchantID  int64
	BusinessDay Day
	Currency    paydesk.Currency
	// DayStart and DayEnd bound the business day; DueAt is when it may be paid.
	DayStart, DayEnd, DueAt time.Time
	// Payments are the day's payments credited to pending (cash and card).
	Payments paydesk.Amount
	// Refunds are the day's refunds (and any other debit) taken from pending.
	Refunds paydesk.Amount
	// Fees are the day's fees net of fees returned with refunds.
	Fees paydesk.Amount
	// Net = Payments − Refunds − Fees: the day's change to pending.
	Net paydesk.Amount
	// Adjustment is what netting added (a negative day's deficit covered by
	// other batches) or took away (deficits of later days deducted here).
	Adjustment paydesk.Amount
	// Amount = Net + Adjustment, what the batch pays. Never negative.
	Amount paydesk.Amount
	// Entries is how many ledger entries the day had on pending.
	Entries int64
	Payout
}

// Withdrawal is an owner's request to pay out available balance.
type Withdrawal struct {
	ID         int64
	MerchantID int64
	// RequestNo is the client's number that makes the request idempotent.
	RequestNo string
	Amount    paydesk.Amount
	// Fee is charged on top of Amount, to the platform.
	Fee      paydesk.Amount
	Currency paydesk.Currency
	// StaffID is the owner who asked.
	StaffID int64
	Payout
}

// Payout is the progress a batch and a withdrawal share.
type Payout struct {
	State State
	// Attempt counts the payouts made so far (a retry after FAILED is the
	// next attempt); 0 before the first.
	Attempt int
	// Reference is the current attempt's payout reference at the bank.
	Reference string
	// Offline is set when the operator recorded the outcome by hand.
	Offline bool
	// Reason is the bank's (or operator's) reason for FAILED, or why a due
	// batch still waits (no bank account bound, funds short).
	Reason string
	// Version increases with every change; updates are conditional on it.
	Version     int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
	SubmittedAt *time.Time
	PaidAt      *time.Time
	FailedAt    *time.Time
}

// BankAccount is a merchant's bound settlement account.
type BankAccount struct {
	MerchantID int64
	bank.BankAccount
	UpdatedAt time.Time
}

// Balance is a merchant's cleared balances. Book = Pending + Available +
// Frozen; marketing money (vouchers, coupons) is in none of them.
type Balance struct {
	Pending, Available, Frozen, Book paydesk.Amount
	Currency                         paydesk.Currency
}

// KindSettlement and KindWithdrawal are the ledger transfer kinds this
// package posts. Settlement's own movements of pending are left out of the
// day's totals.
const (
	KindSettlement = "settlement"
	KindWithdrawal = "withdrawal"
	kindPayment    = "payment"
)

// dayTotals sums the entries on a pending account posted in [from, to),
// settlement's own transfers left out: KindIn are the payments' credits,
// KindOut the payments' debits (the fees), OtherIn the other credits (fees
// given back with refunds), OtherOut the other debits (refunds).
func (s *Service) dayTotals(ctx context.Context, account ledger.AccountID, from, to time.Time) (ledger.Totals, error) {
	return s.ledger.Totals(ctx, ledger.TotalsFilter{AccountID: account, From: from, To: to, Kind: kindPayment, Except: KindSettlement})
}

// Event types pushed to the merchant's apps.
const (
	EventSettlementUpdated = "settlement.updated"
	EventWithdrawalUpdated = "withdrawal.updated"
)

// Event is a change the merchant's apps are told about.
type Event struct {
	MerchantID int64
	Type       string
	// Data is the event's subject: the Batch of settlement.updated, the
	// Withdrawal of withdrawal.updated.
	Data any
}

// Emitter writes events to the outbox. Emit is called inside the
// transaction of the change (ctx carries it), so the event commits or rolls
// back with it.
type Emitter interface {
	Emit(ctx context.Context, e Event) error
}

// EmitterFunc adapts a function to Emitter.
type EmitterFunc func(ctx context.Context, e Event) error

// Emit calls f.
func (f EmitterFunc) Emit(ctx context.Context, e Event) error { return f(ctx, e) }

// NoEvents is the Emitter that drops every event.
var NoEvents Emitter = EmitterFunc(func(context.Context, Event) error { return nil })

// Config holds the rules. Zero values take the defaults.
type Config struct {
	// Cutoff shifts the business day from local midnight (see Calendar),
	// between -12h and +12h. Default 0: midnight to midnight.
	Cutoff time.Duration
	// Grace is how long after a day ends it is cut, so that transfers
	// stamped just before the cut-off have committed. Default 2 minutes.
	Grace time.Duration
	// QueryAfter is how long a payout may go without an answer before the
	// scheduler asks the bank about it (and resubmits it under the same
	// reference if the bank never got it). Default 2 minutes.
	QueryAfter time.Duration
	// BankTimeout bounds one call to the bank. Default 15 s.
	BankTimeout time.Duration
	// WithdrawalMin is the smallest withdrawal. Default 1.00.
	WithdrawalMin paydesk.Amount
	// WithdrawalDailyLimit bounds the withdrawals of one merchant's
	// business day, failed ones excepted. Default 50,000.00.
	WithdrawalDailyLimit paydesk.Amount
	// WithdrawalFee is charged per withdrawal on top of its amount, to the
	// platform's fee account, and given back if the withdrawal fails.
	// Default 0.
	WithdrawalFee paydesk.Amount
	// CallbackSecret verifies the bank's callbacks (HMAC-SHA256).
	CallbackSecret []byte
	// AllowSettleNow lets SettleNow cut today before it ends: for
	// development and demos only, never in production.
	AllowSettleNow bool
}

func (c Config) withDefaults() Config {
	if c.Grace <= 0 {
		c.Grace = 2 * time.Minute
	}
	if c.QueryAfter <= 0 {
		c.QueryAfter = 2 * time.Minute
	}
	if c.BankTimeout <= 0 {
		c.BankTimeout = 15 * time.Second
	}
	if c.WithdrawalMin <= 0 {
		c.WithdrawalMin = 100
	}
	if c.WithdrawalDailyLimit <= 0 {
		c.WithdrawalDailyLimit = 5_000_000
	}
	if c.WithdrawalFee < 0 {
		c.WithdrawalFee = 0
	}
	return c
}

// Errors with stable codes.
var (
	ErrBatchNotFound       = &paydesk.Error{Kind: paydesk.KindNotFound, Code: "SETTLEMENT_NOT_FOUND", Message: "no such settlement batch"}
	ErrWithdrawalNotFound  = &paydesk.Error{Kind: paydesk.KindNotFound, Code: "WITHDRAWAL_NOT_FOUND", Message: "no such withdrawal"}
	ErrNoBankAccount       = &paydesk.Error{Kind: paydesk.KindUnprocessable, Code: "BANK_ACCOUNT_NOT_BOUND", Message: "the merchant has no bound bank account"}
	ErrInsufficientBalance = ledger.ErrMerchantInsufficientBalance.WithMessage("the available balance does not cover this")
	ErrBelowMinimum        = &paydesk.Error{Kind: paydesk.KindInvalid, Code: "WITHDRAWAL_BELOW_MINIMUM", Message: "the amount is below the smallest withdrawal"}
	ErrDailyLimit          = &paydesk.Error{Kind: paydesk.KindUnprocessable, Code: "WITHDRAWAL_DAILY_LIMIT", Message: "the amount is above what is left of today's withdrawal limit"}
	ErrInvalidRequestNo    = &paydesk.Error{Kind: paydesk.KindInvalid, Code: "INVALID_REQUEST_NO", Message: "request_no must be 1 to 64 characters of letters, digits, '-', '_' or '.'"}
	ErrPayoutNotFound      = bank.ErrPayoutNotFound
	ErrCallbackMismatch    = &paydesk.Error{Kind: paydesk.KindUnprocessable, Code: "BANK_CALLBACK_MISMATCH", Message: "the callback does not match the payout it names"}
	ErrPayoutInFlight      = &paydesk.Error{Kind: paydesk.KindConflict, Code: "PAYOUT_IN_FLIGHT", Message: "the bank has this payout; wait for its answer"}
	ErrDayNotEnded         = &paydesk.Error{Kind: paydesk.KindInvalid, Code: "BUSINESS_DAY_NOT_ENDED", Message: "the business day has not ended yet"}
	ErrBadSignature        = bank.ErrBadSignature
)

// Service carries out settlement, withdrawal, statements and reconciliation.
type Service struct {
	store     Store
	ledger    *ledger.Ledger
	merchants *merchant.Service
	bank      bank.Channel
	events    Emitter
	clock     paydesk.Clock
	log       *slog.Logger
	cfg       Config
}

// Deps are what the Service is built on.
type Deps struct {
	// Store keeps settlement's rows; NewGormStore(DB) if nil.
	Store Store
	// DB is the application database, for the default Store.
	DB        *storage.DB
	Ledger    *ledger.Ledger
	Merchants *merchant.Service
	Bank      bank.Channel
	// Events receives settlement.updated and withdrawal.updated; NoEvents if nil.
	Events Emitter
	Clock  paydesk.Clock
	// Logger, discarding if nil.
	Logger *slog.Logger
}

// New returns a Service.
func New(d Deps, cfg Config) *Service {
	if d.Events == nil {
		d.Events = NoEvents
	}
	if d.Clock == nil {
		d.Clock = paydesk.SystemClock
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Store == nil {
		d.Store = NewGormStore(d.DB)
	}
	return &Service{store: d.Store, ledger: d.Ledger, merchants: d.Merchants, bank: d.Bank,
		events: d.Events, clock: d.Clock, log: d.Logger, cfg: cfg.withDefaults()}
}

// SetEmitter replaces the emitter; call it before serving.
func (s *Service) SetEmitter(e Emitter) {
	if e == nil {
		e = NoEvents
	}
	s.events = e
}

// Config returns the rules in force, defaults applied.
func (s *Service) Config() Config { return s.cfg }

// calendar returns m's business-day calendar.
func (s *Service) calendar(m merchant.Merchant) Calendar {
	return Calendar{Location: m.Location(), Cutoff: s.cfg.Cutoff, SettlementDays: m.SettlementDays}
}
