package wallet

import (
	"context"
	"errors"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/storage"
)

// Store is what the wallet needs from the database. Writes join the
// transaction carried by ctx, if any, so a payment's Work commits with it.
type Store interface {
	paydesk.TxRunner
	// InTransaction reports whether ctx carries a transaction.
	InTransaction(ctx context.Context) bool

	// CreateWallet inserts w and sets its ID. A taken phone is ErrPhoneTaken;
	// a taken code id is errCodeIDTaken, and the caller draws another.
	CreateWallet(ctx context.Context, w *Wallet) error
	SetAccounts(ctx context.Context, id WalletID, cash, coupon ledger.AccountID) error
	WalletByID(ctx context.Context, id WalletID) (Wallet, error)
	WalletByPhone(ctx context.Context, phone string) (Wallet, error)
	// CashAccountsByPhonePrefix returns the cash accounts of wallets by phone.
	CashAccountsByPhonePrefix(ctx context.Context, prefix string) (map[string]ledger.AccountID, error)
	// WalletByCodeID reads the wallet a payment code names, with its
	// balances (Wallet.balances) and the code's attempts row (into ahead).
	WalletByCodeID(ctx context.Context, codeID string, ahead *storage.AttemptRead) (Wallet, error)
	SetCard(ctx context.Context, id WalletID, card bank.Card) error
	SetCodeSecret(ctx context.Context, id WalletID, secret []byte) error
	SetNoPasswordLimit(ctx context.Context, id WalletID, limit paydesk.Amount) error

	// UseCode records that the code of kind at counter paid; a second use is
	// errCodeUsed. The primary key decides between simultaneous uses.
	UseCode(ctx context.Context, id WalletID, kind byte, counter int64, at time.Time) error
	// CodeUsed reports whether the code of kind at counter has paid.
	CodeUsed(ctx context.Context, id WalletID, kind byte, counter int64) (bool, error)
	// ForgetUsedCodes deletes records of uses before t, which no code can
	// be valid for any more.
	ForgetUsedCodes(ctx context.Context, before time.Time) (int64, error)

	// CreateVoucher inserts v; a reference the wallet used before is errDuplicate.
	CreateVoucher(ctx context.Context, v *Voucher) error
	VoucherByReference(ctx context.Context, id WalletID, ref string) (Voucher, error)
	// ActiveVouchers lists the wallet's unused vouchers that expire after now.
	ActiveVouchers(ctx context.Context, id WalletID, now time.Time) ([]Voucher, error)
	// SpendVoucher marks an active, unexpired voucher of the wallet used by
	// payment ref, and reports false when it was not (any more) such a voucher.
	SpendVoucher(ctx context.Context, id WalletID, v VoucherID, ref string, now time.Time) (bool, error)

	// CreateCoupon inserts c; a reference the wallet used before is errDuplicate.
	CreateCoupon(ctx context.Context, c *Coupon) error
	CouponByReference(ctx context.Context, id WalletID, ref string) (Coupon, error)
	// LiveCoupons lists the wallet's coupons with money left that expire after now.
	LiveCoupons(ctx context.Context, id WalletID, now time.Time) ([]Coupon, error)
	// SpendCoupon takes amount off an unexpired coupon of the wallet that
	// has at least that much left, and reports false when it had not.
	SpendCoupon(ctx context.Context, id WalletID, c CouponID, amount paydesk.Amount, now time.Time) (bool, error)
	// RestoreCoupon gives amount back to a coupon of the wallet (a refund of
	// a payment it paid), expired or not.
	RestoreCoupon(ctx context.Context, id WalletID, c CouponID, amount paydesk.Amount, now time.Time) error
	// RestoreVoucher makes a voucher that payment ref used active again and
	// reports false when it was not used by ref.
	RestoreVoucher(ctx context.Context, id WalletID, v VoucherID, ref string) (bool, error)
	// ExpiredCoupons lists up to limit coupons expired by now with money left.
	ExpiredCoupons(ctx context.Context, now time.Time, limit int) ([]Coupon, error)
	// EmptyCoupon sets an expired coupon's remaining from want to zero and
	// reports false when it no longer had exactly want left.
	EmptyCoupon(ctx context.Context, c CouponID, want paydesk.Amount) (bool, error)

	// RecordCardReturn records r as PENDING, in the transaction of ctx; a
	// return of the same debit recorded before is left as it is.
	RecordCardReturn(ctx context.Context, r CardReturn) error
	// FinishCardReturn records how the return of debit ended.
	FinishCardReturn(ctx context.Context, debit string, state CardReturnState, at time.Time) error
	// PendingCardReturns lists up to limit returns still waiting for the
	// bank, oldest first.
	PendingCardReturns(ctx context.Context, limit int) ([]CardReturn, error)
}

// Sentinel errors a Store returns for the service to act on.
var (
	errDuplicate = errors.New("wallet: duplicate reference")
	errCodeUsed  = errors.New("wallet: code used")
)
