// Package wallet is the paying side of paydesk: the customer's wallet with
// its cash, vouchers, coupons and bound bank card, the payment codes and
// dynamic passwords a customer pays with, and the funding rule that decides
// which of that money pays for a purchase.
//
// Money never sits in this package's tables: every balance is a ledger
// account (wallet:{id}:cash, wallet:{id}:coupon) and every movement is a
// ledger transfer with a reference that says what it was. The tables keep
// the customer, the secrets, and the vouchers and coupons that say which
// marketing money may be drawn.
//
// A POS payment uses the package in two steps: ConsumePaymentCode (or
// VerifyDynamicPassword) finds the paying wallet, then PreparePayment plans
// the funding, debits the bound card for any shortfall, and hands back the
// postings and the Work that the POS posts in one ledger transfer together
// with its fee and its order.
package wallet

import (
	"context"
	"fmt"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/storage"
)

// WalletID identifies a wallet (and its customer: one wallet per phone).
type WalletID int64

// DefaultNoPasswordLimit is the amount above which a scan-code payment waits
// for the customer to confirm it in the app (SPEC §2): 1,000.00.
const DefaultNoPasswordLimit paydesk.Amount = 100000

// Wallet is a wallet as stored, secrets included. It never leaves the
// service: callers get a View.
type Wallet struct {
	ID           WalletID
	Phone        string
	PasswordHash string
	Currency     paydesk.Currency
	// CodeID is the public half of the wallet's payment codes (see paymentcode.go).
	CodeID     string
	CodeSecret []byte
	// TOTPSecret is the base32 RFC 6238 secret behind dynamic passwords.
	TOTPSecret      string
	NoPasswordLimit paydesk.Amount
	// Card is the bound bank card, nil when there is none.
	Card          *bank.Card
	CashAccount   ledger.AccountID
	CouponAccount ledger.AccountID
	// VouchersUntil is the latest expiry of the vouchers it was ever
	// issued, zero if none: after it, no voucher of its can pay.
	VouchersUntil time.Time
	CreatedAt     time.Time

	// balances, when set, are the balances of the cash and coupon accounts
	// read together with the wallet (WalletByCodeID), for planning the
	// payment that read it without a second read.
	balances *walletBalances
}

type walletBalances struct{ cash, coupon paydesk.Amount }

// Attempts counts failures per key and locks a key that fails too often;
// *storage.Attempts is the implementation, kept in the database so a lock
// holds across restarts and instances.
//
// Every check of a secret claims its attempt first (Claim), so that a burst
// of concurrent guesses is cut at the limit before any is checked, then
// reports the outcome: Failed, Reset (the owner proved the secret) or
// Release (the attempt must not count). ClaimCheckAhead does the claim and
// the check in one for payment codes, where a right code writes nothing.
type Attempts interface {
	Check(ctx context.Context, key string) error
	Claim(ctx context.Context, key string, rule storage.AttemptRule) error
	// ReadAhead and ClaimCheckAhead are ClaimCheck on a row read along
	// with the payment code's wallet (Store.WalletByCodeID).
	ReadAhead(key string) *storage.AttemptRead
	ClaimCheckAhead(ctx context.Context, ahead *storage.AttemptRead, rule storage.AttemptRule, check func() (release bool)) (released bool, err error)
	Failed(ctx context.Context, key string, rule storage.AttemptRule) (locked bool, err error)
	Fail(ctx context.Context, key string, rule storage.AttemptRule) (locked bool, err error)
	Release(ctx context.Context, key string) error
	Reset(ctx context.Context, key string) error
}

// Config is what a Service needs. Store, Ledger, Bank and Attempts are required.
type Config struct {
	Store    Store
	Ledger   *ledger.Ledger
	Bank     bank.Channel
	Attempts Attempts
	Clock    paydesk.Clock    // SystemClock if nil
	Currency paydesk.Currency // DefaultCurrency if empty
	// Passwords tunes password hashing; the zero value is the production setting.
	Passwords paydesk.PasswordParams
	// Lock-out rules of one (phone, IP) for log-in, one (phone, merchant)
	// for dynamic passwords and one code id for payment codes; zero values
	// take the defaults below. See storage.Guard for how a phone failing
	// everywhere is guarded rather than locked.
	LoginRule           storage.AttemptRule
	DynamicPasswordRule storage.AttemptRule
	PaymentCodeRule     storage.AttemptRule
}

// Default lock-out rules. The dynamic-password rule is SPEC §2's — 5 wrong
// tries for one phone in 15 minutes lock it for 15 minutes — applied to
// each merchant separately, so that one merchant's wrong tries cannot stop
// the customer paying another. DefaultPhoneCeiling is how many failures of
// one phone from everywhere in 15 minutes make every IP or merchant locked
// after its first failure (storage.Guard).
var (
	DefaultPhoneCeiling        = storage.AttemptRule{Max: 20, Window: 15 * time.Minute, Lockout: 15 * time.Minute}
	guardedRule                = storage.AttemptRule{Max: 1, Window: 15 * time.Minute, Lockout: 15 * time.Minute}
	DefaultLoginRule           = storage.AttemptRule{Max: 5, Window: 15 * time.Minute, Lockout: 15 * time.Minute}
	DefaultDynamicPasswordRule = storage.AttemptRule{Max: 5, Window: 15 * time.Minute, Lockout: 15 * time.Minute}
	DefaultPaymentCodeRule     = storage.AttemptRule{Max: 5, Window: 15 * time.Minute, Lockout: 15 * time.Minute}
)

// Service carries out what customers (and, for vouchers and coupons, the
// platform operator) do with wallets.
type Service struct {
	store     Store
	ledger    *ledger.Ledger
	bank      bank.Channel
	attempts  Attempts
	clock     paydesk.Clock
	currency  paydesk.Currency
	passwords *paydesk.Passwords

	loginGuard, dynamicGuard storage.Guard
	codeRule                 storage.AttemptRule
}

// New returns a Service, first making sure the platform's ledger accounts exist.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Ledger == nil || cfg.Bank == nil || cfg.Attempts == nil {
		return nil, fmt.Errorf("wallet: Store, Ledger, Bank and Attempts are required")
	}
	s := &Service{store: cfg.Store, ledger: cfg.Ledger, bank: cfg.Bank, attempts: cfg.Attempts, clock: cfg.Clock,
		currency: cfg.Currency, passwords: paydesk.NewPasswords(cfg.Passwords),
		loginGuard: storage.Guard{Counter: cfg.Attempts, Prefix: "wallet-login", Pair: orRule(cfg.LoginRule, DefaultLoginRule),
			Guarded: guardedRule, Account: DefaultPhoneCeiling},
		dynamicGuard: storage.Guard{Counter: cfg.Attempts, Prefix: "dynpw", Pair: orRule(cfg.DynamicPasswordRule, DefaultDynamicPasswordRule),
			Guarded: guardedRule, Account: DefaultPhoneCeiling},
		codeRule: orRule(cfg.PaymentCodeRule, DefaultPaymentCodeRule)}
	if s.clock == nil {
		s.clock = paydesk.SystemClock
	}
	if s.currency == "" {
		s.currency = paydesk.DefaultCurrency
	}
	// Set up here, outside any transaction, so that the ledger keeps it.
	if _, err := s.platform(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func orRule(r, def storage.AttemptRule) storage.AttemptRule {
	if r.Max <= 0 {
		return def
	}
	return r
}

// platform returns the ledger's chart of platform accounts, which the
// wallet's money comes from and goes back to.
func (s *Service) platform(ctx context.Context) (ledger.Platform, error) {
	return s.ledger.Platform(ctx, s.currency)
}

// wallet reads a wallet or returns ErrWalletNotFound.
func (s *Service) wallet(ctx context.Context, id WalletID) (Wallet, error) {
	w, err := s.store.WalletByID(ctx, id)
	if err != nil {
		return Wallet{}, fmt.Errorf("wallet %d: %w", id, err)
	}
	return w, nil
}

// outsideTx refuses to run a step that talks to the bank, or that must
// commit on its own, inside a caller's transaction: a rollback there would
// undo the ledger's record of money the bank had already moved, or give a
// used code back.
func (s *Service) outsideTx(ctx context.Context, what string) error {
	if s.store.InTransaction(ctx) {
		return paydesk.ErrInternal.WithMessage("wallet: %s must not run inside a database transaction", what)
	}
	return nil
}
