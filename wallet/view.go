package wallet

import (
	"context"
	"fmt"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/bank"
)

// View is what the wallet app shows on its home screen.
type View struct {
	ID       WalletID
	Phone    string
	Currency paydesk.Currency
	// Cash is the cash balance.
	Cash paydesk.Amount
	// Coupons is what the live (unexpired) coupons have left.
	Coupons paydesk.Amount
	// CouponList and Vouchers are the live ones, soonest expiry first.
	CouponList []Coupon
	Vouchers   []Voucher
	// Card is the bound card, nil when none.
	Card            *bank.Card
	NoPasswordLimit paydesk.Amount
}

// Wallet returns the wallet's balances, live vouchers and coupons, and card.
func (s *Service) Wallet(ctx context.Context, id WalletID) (View, error) {
	w, err := s.wallet(ctx, id)
	if err != nil {
		return View{}, err
	}
	now := s.clock()
	cash, err := s.ledger.Balance(ctx, w.CashAccount)
	if err != nil {
		return View{}, fmt.Errorf("wallet %d: %w", id, err)
	}
	vs, err := s.store.ActiveVouchers(ctx, id, now)
	if err != nil {
		return View{}, fmt.Errorf("wallet %d: %w", id, err)
	}
	cs, err := s.store.LiveCoupons(ctx, id, now)
	if err != nil {
		return View{}, fmt.Errorf("wallet %d: %w", id, err)
	}
	v := View{ID: w.ID, Phone: w.Phone, Currency: w.Currency, Cash: cash, CouponList: cs, Vouchers: vs, Card: w.Card, NoPasswordLimit: w.NoPasswordLimit}
	for _, c := range cs {
		v.Coupons += c.Remaining
	}
	return v, nil
}

// NoPasswordLimit is the amount above which a scan-code payment from the
// wallet waits for the customer's confirmation in the app.
func (s *Service) NoPasswordLimit(ctx context.Context, id WalletID) (paydesk.Amount, error) {
	w, err := s.wallet(ctx, id)
	return w.NoPasswordLimit, err
}

// SetNoPasswordLimit changes the wallet's no-password limit; 0 makes every
// scan-code payment wait for confirmation.
func (s *Service) SetNoPasswordLimit(ctx context.Context, id WalletID, limit paydesk.Amount) error {
	if limit < 0 || limit > paydesk.MaxAmount {
		return paydesk.ErrInvalidAmount.WithMessage("the no-password limit must be between 0 and %d", int64(paydesk.MaxAmount))
	}
	if err := s.store.SetNoPasswordLimit(ctx, id, limit); err != nil {
		return fmt.Errorf("wallet %d: set no-password limit: %w", id, err)
	}
	return nil
}

// expiresAfter reports whether t is after now: what "live" means for
// vouchers and coupons everywhere in the package.
func expiresAfter(t, now time.Time) bool { return t.After(now) }
