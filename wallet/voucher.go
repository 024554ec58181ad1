package wallet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/paydesk/paydesk"
)

// VoucherID identifies a voucher.
type VoucherID int64

// VoucherStatus is where a voucher stands: active until a payment uses it.
type VoucherStatus string

const (
	VoucherActive VoucherStatus = "active"
	VoucherUsed   VoucherStatus = "used"
)

// Voucher (代金券) is a fixed amount off one payment, optionally only at one
// merchant, until it expires. Issuing one moves no money: the platform's
// marketing account pays the merchant when it is spent.
type Voucher struct {
	ID        VoucherID
	WalletID  WalletID
	Reference string // the issuer's, unique per wallet
	Amount    paydesk.Amount
	Currency  paydesk.Currency
	// MerchantID restricts the voucher to one merchant; 0 means any.
	MerchantID int64
	ExpiresAt  time.Time
	Status     VoucherStatus
	// UsedBy is the reference of the payment that spent it.
	UsedBy    string
	UsedAt    *time.Time
	CreatedAt time.Time
}

// UsableAt reports whether the voucher can pay at merchant at time now.
func (v Voucher) UsableAt(merchant int64, now time.Time) bool {
	return v.Status == VoucherActive && expiresAfter(v.ExpiresAt, now) && (v.MerchantID == 0 || v.MerchantID == merchant)
}

// VoucherRequest asks to issue a voucher.
type VoucherRequest struct {
	Wallet     WalletID
	Amount     paydesk.Amount
	MerchantID int64 // 0: any merchant
	ExpiresAt  time.Time
	// Reference makes issuing idempotent per wallet (e.g. "campaign-7").
	Reference string
}

// IssueVoucher gives a wallet a voucher, as the platform operator or the demo
// seed does. Issuing again with the same reference returns the first voucher;
// the same reference with other terms is IDEMPOTENCY_CONFLICT.
func (s *Service) IssueVoucher(ctx context.Context, req VoucherRequest) (Voucher, error) {
	if err := req.Amount.ValidPayment(); err != nil {
		return Voucher{}, err
	}
	if err := checkReference(req.Reference); err != nil {
		return Voucher{}, err
	}
	if req.MerchantID < 0 {
		return Voucher{}, paydesk.ErrInvalid.WithMessage("merchant id must not be negative")
	}
	now := s.clock()
	expires := req.ExpiresAt.UTC().Truncate(time.Microsecond) // what the database keeps
	if !expiresAfter(expires, now) {
		return Voucher{}, paydesk.ErrInvalid.WithMessage("a voucher must expire in the future")
	}
	if _, err := s.wallet(ctx, req.Wallet); err != nil {
		return Voucher{}, err
	}
	v := Voucher{WalletID: req.Wallet, Reference: req.Reference, Amount: req.Amount, Currency: s.currency, MerchantID: req.MerchantID,
		ExpiresAt: expires, Status: VoucherActive, CreatedAt: now}
	err := s.store.CreateVoucher(ctx, &v)
	if errors.Is(err, errDuplicate) {
		old, err := s.store.VoucherByReference(ctx, req.Wallet, req.Reference)
		if err != nil {
			return Voucher{}, fmt.Errorf("issue voucher %s: %w", req.Reference, err)
		}
		if old.Amount != v.Amount || old.MerchantID != v.MerchantID || !old.ExpiresAt.Equal(v.ExpiresAt) {
			return Voucher{}, paydesk.ErrIdempotencyConflict.WithMessage("voucher %s was issued before with other terms", req.Reference)
		}
		return old, nil
	}
	if err != nil {
		return Voucher{}, fmt.Errorf("issue voucher %s: %w", req.Reference, err)
	}
	return v, nil
}
