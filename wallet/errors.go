package wallet

import (
	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/storage"
)

// Errors of the wallet, each with a stable code the apps switch on. Refusals
// of a cashier's payment (a wrong code or password) are KindUnprocessable,
// not KindUnauthorized: the cashier's own login is fine.
var (
	ErrPhoneTaken         = paydesk.ErrPhoneTaken.WithMessage("a wallet with this phone exists")
	ErrInvalidCredentials = paydesk.ErrInvalidCredentials
	ErrWalletNotFound     = &paydesk.Error{Kind: paydesk.KindNotFound, Code: "WALLET_NOT_FOUND", Message: "no such wallet"}
	ErrNoCard             = &paydesk.Error{Kind: paydesk.KindUnprocessable, Code: "CARD_NOT_BOUND", Message: "the wallet has no bound bank card"}
	ErrInsufficientFunds  = &paydesk.Error{Kind: paydesk.KindUnprocessable, Code: "INSUFFICIENT_FUNDS", Message: "the wallet cannot cover the amount"}
	// ErrFundingChanged means the vouchers, coupons or cash a payment was
	// planned on were spent by another payment before it committed. Nothing
	// moved; PreparePayment again plans on what is left.
	ErrFundingChanged     = &paydesk.Error{Kind: paydesk.KindConflict, Code: "FUNDING_CHANGED", Message: "the wallet changed during the payment, try again"}
	ErrVoucherNotFound    = &paydesk.Error{Kind: paydesk.KindNotFound, Code: "VOUCHER_NOT_FOUND", Message: "no such voucher"}
	ErrCouponNotFound     = &paydesk.Error{Kind: paydesk.KindNotFound, Code: "COUPON_NOT_FOUND", Message: "no such coupon"}
	ErrPaymentCodeInvalid = &paydesk.Error{Kind: paydesk.KindUnprocessable, Code: "PAYMENT_CODE_INVALID", Message: "the payment code is not valid"}
	ErrPaymentCodeExpired = &paydesk.Error{Kind: paydesk.KindUnprocessable, Code: "PAYMENT_CODE_EXPIRED", Message: "the payment code has expired, show a new one"}
	ErrPaymentCodeUsed    = &paydesk.Error{Kind: paydesk.KindUnprocessable, Code: "PAYMENT_CODE_USED", Message: "the payment code was used already, show a new one"}

	ErrDynamicPasswordWrong = &paydesk.Error{Kind: paydesk.KindUnprocessable, Code: "DYNAMIC_PASSWORD_WRONG", Message: "wrong phone or dynamic password"}
	ErrDynamicPasswordUsed  = &paydesk.Error{Kind: paydesk.KindUnprocessable, Code: "DYNAMIC_PASSWORD_USED", Message: "the dynamic password was used already, read out the next one"}

	// ErrTooManyAttempts is storage's lock-out error, with RetryAfter set.
	ErrTooManyAttempts = storage.ErrTooManyAttempts
)
