package wallet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/ledger"
)

// CouponID identifies a coupon.
type CouponID int64

// Coupon (和包券) is platform stored value with an expiry. Unlike a voucher
// it is money from the moment it is issued: the platform's marketing account
// pays it into the wallet's coupon account, and payments draw it down
// across as many purchases as it lasts.
type Coupon struct {
	ID        CouponID
	WalletID  WalletID
	Reference string // the issuer's, unique per wallet
	Amount    paydesk.Amount
	Remaining paydesk.Amount
	Currency  paydesk.Currency
	ExpiresAt time.Time
	CreatedAt time.Time
}

// CouponRequest asks to issue a coupon.
type CouponRequest struct {
	Wallet    WalletID
	Amount    paydesk.Amount
	ExpiresAt time.Time
	// Reference makes issuing idempotent per wallet.
	Reference string
}

// IssueCoupon gives a wallet a coupon and moves its money from the
// platform's marketing account into the wallet's coupon account, both in
// one transaction. Issuing again with the same reference returns the first
// coupon; the same reference with other terms is IDEMPOTENCY_CONFLICT.
func (s *Service) IssueCoupon(ctx context.Context, req CouponRequest) (Coupon, error) {
	if err := req.Amount.ValidPayment(); err != nil {
		return Coupon{}, err
	}
	if err := checkReference(req.Reference); err != nil {
		return Coupon{}, err
	}
	now := s.clock()
	expires := req.ExpiresAt.UTC().Truncate(time.Microsecond)
	if !expiresAfter(expires, now) {
		return Coupon{}, paydesk.ErrInvalid.WithMessage("a coupon must expire in the future")
	}
	w, err := s.wallet(ctx, req.Wallet)
	if err != nil {
		return Coupon{}, err
	}
	c := Coupon{WalletID: w.ID, Reference: req.Reference, Amount: req.Amount, Remaining: req.Amount, Currency: w.Currency, ExpiresAt: expires, CreatedAt: now}
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.CreateCoupon(ctx, &c); err != nil {
			return err
		}
		plat, err := s.platform(ctx)
		if err != nil {
			return err
		}
		_, err = s.ledger.Post(ctx, ledger.Transfer{Reference: fmt.Sprintf("wallet:%d:coupon:%s", w.ID, req.Reference), Kind: "coupon_issue",
			Memo:     fmt.Sprintf("coupon %d issued", c.ID),
			Postings: []ledger.Posting{{Source: plat.Marketing, Destination: w.CouponAccount, Amount: req.Amount}}}, nil)
		return err
	})
	if errors.Is(err, errDuplicate) {
		old, err := s.store.CouponByReference(ctx, w.ID, req.Reference)
		if err != nil {
			return Coupon{}, fmt.Errorf("issue coupon %s: %w", req.Reference, err)
		}
		if old.Amount != c.Amount || !old.ExpiresAt.Equal(c.ExpiresAt) {
			return Coupon{}, paydesk.ErrIdempotencyConflict.WithMessage("coupon %s was issued before with other terms", req.Reference)
		}
		return old, nil
	}
	if err != nil {
		return Coupon{}, fmt.Errorf("issue coupon %s: %w", req.Reference, err)
	}
	return c, nil
}

// ExpireCoupons returns what expired coupons have left to the platform's
// marketing account, so that a wallet's coupon balance is always exactly
// what its live coupons can still pay. It is safe to run from several
// instances at once (each coupon is emptied once) and returns how many
// coupons it emptied.
func (s *Service) ExpireCoupons(ctx context.Context) (int, error) {
	if err := s.outsideTx(ctx, "ExpireCoupons"); err != nil {
		return 0, err
	}
	done := 0
	for {
		cs, err := s.store.ExpiredCoupons(ctx, s.clock(), 100)
		if err != nil {
			return done, fmt.Errorf("expire coupons: %w", err)
		}
		if len(cs) == 0 {
			return done, nil
		}
		for _, c := range cs {
			emptied, err := s.expireCoupon(ctx, c)
			if err != nil {
				return done, fmt.Errorf("expire coupon %d: %w", c.ID, err)
			}
			if emptied {
				done++
			}
		}
	}
}

func (s *Service) expireCoupon(ctx context.Context, c Coupon) (emptied bool, err error) {
	w, err := s.wallet(ctx, c.WalletID)
	if err != nil {
		return false, err
	}
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		ok, err := s.store.EmptyCoupon(ctx, c.ID, c.Remaining)
		if err != nil || !ok {
			return err // another instance got there first
		}
		emptied = true
		plat, err := s.platform(ctx)
		if err != nil {
			return err
		}
		_, err = s.ledger.Post(ctx, ledger.Transfer{Reference: fmt.Sprintf("wallet:%d:coupon-expiry:%d", w.ID, c.ID), Kind: "coupon_expiry",
			Memo:     fmt.Sprintf("coupon %d expired", c.ID),
			Postings: []ledger.Posting{{Source: w.CouponAccount, Destination: plat.Marketing, Amount: c.Remaining}}}, nil)
		return err
	})
	return emptied && err == nil, err
}
