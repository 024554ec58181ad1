package wallet

import (
	"context"
	"fmt"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/storage"
)

type voucherRow struct {
	ID         int64
	WalletID   int64
	Reference  string
	Amount     int64
	Currency   string
	MerchantID int64
	ExpiresAt  time.Time
	Status     string
	UsedBy     *string
	UsedAt     *time.Time
	CreatedAt  time.Time
}

func (voucherRow) TableName() string { return "wallet_vouchers" }

// voucherColumns are the columns scanVoucher reads, in its order.
const voucherColumns = "id, wallet_id, reference, amount, currency, merchant_id, expires_at, status, used_by, used_at, created_at"

func scanVoucher(sc storage.Scanner, r *voucherRow) error {
	return sc.Scan(&r.ID, &r.WalletID, &r.Reference, &r.Amount, &r.Currency, &r.MerchantID, &r.ExpiresAt, &r.Status,
		&r.UsedBy, &r.UsedAt, &r.CreatedAt)
}

func (r voucherRow) voucher() Voucher {
	return Voucher{ID: VoucherID(r.ID), WalletID: WalletID(r.WalletID), Reference: r.Reference, Amount: paydesk.Amount(r.Amount),
		Currency: paydesk.Currency(r.Currency), MerchantID: r.MerchantID, ExpiresAt: r.ExpiresAt, Status: VoucherStatus(r.Status),
		UsedBy: deref(r.UsedBy), UsedAt: r.UsedAt, CreatedAt: r.CreatedAt}
}

// CreateVoucher inserts v and sets its ID, and raises its wallet's
// vouchers_until to v's expiry in the same transaction.
func (s *GormStore) CreateVoucher(ctx context.Context, v *Voucher) error {
	row := voucherRow{WalletID: int64(v.WalletID), Reference: v.Reference, Amount: int64(v.Amount), Currency: string(v.Currency),
		MerchantID: v.MerchantID, ExpiresAt: v.ExpiresAt.UTC(), Status: string(v.Status), CreatedAt: v.CreatedAt.UTC()}
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		if err := s.db.Writer(ctx).Create(&row).Error; err != nil {
			return err
		}
		return s.db.Writer(ctx).Exec("UPDATE wallets SET vouchers_until = ? WHERE id = ? AND (vouchers_until IS NULL OR vouchers_until < ?)",
			row.ExpiresAt, row.WalletID, row.ExpiresAt).Error
	})
	if storage.IsDuplicate(err) {
		return errDuplicate
	}
	if err != nil {
		return fmt.Errorf("create voucher: %w", err)
	}
	v.ID = VoucherID(row.ID)
	return nil
}

// VoucherByReference reads the voucher a wallet was issued under ref.
func (s *GormStore) VoucherByReference(ctx context.Context, id WalletID, ref string) (Voucher, error) {
	r, found, err := storage.QueryOne(ctx, s.db, scanVoucher,
		"SELECT "+voucherColumns+" FROM wallet_vouchers WHERE wallet_id = ? AND reference = ? LIMIT 1", int64(id), ref)
	if err != nil {
		return Voucher{}, err
	}
	if !found {
		return Voucher{}, ErrVoucherNotFound
	}
	return r.voucher(), nil
}

// ActiveVouchers lists unused, unexpired vouchers, soonest expiry first.
// Every code payment plans with them, so this goes around gorm (see
// storage.QueryAll).
func (s *GormStore) ActiveVouchers(ctx context.Context, id WalletID, now time.Time) ([]Voucher, error) {
	rows, err := storage.QueryAll(ctx, s.db, scanVoucher,
		"SELECT "+voucherColumns+" FROM wallet_vouchers WHERE wallet_id = ? AND status = ? AND expires_at > ? ORDER BY expires_at, id",
		int64(id), string(VoucherActive), now.UTC())
	if err != nil {
		return nil, err
	}
	out := make([]Voucher, len(rows))
	for i, r := range rows {
		out[i] = r.voucher()
	}
	return out, nil
}

// SpendVoucher marks a voucher used if, at this moment, it is still active
// and unexpired: the WHERE clause is the guard, and the row count the answer.
func (s *GormStore) SpendVoucher(ctx context.Context, id WalletID, v VoucherID, ref string, now time.Time) (bool, error) {
	res := s.db.Writer(ctx).Exec("UPDATE wallet_vouchers SET status = ?, used_by = ?, used_at = ? WHERE id = ? AND wallet_id = ? AND status = ? AND expires_at > ?",
		string(VoucherUsed), ref, now.UTC(), int64(v), int64(id), string(VoucherActive), now.UTC())
	return res.RowsAffected == 1, res.Error
}

type couponRow struct {
	ID        int64
	WalletID  int64
	Reference string
	Amount    int64
	Remaining int64
	Currency  string
	ExpiresAt time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (couponRow) TableName() string { return "wallet_coupons" }

func (r couponRow) coupon() Coupon {
	return Coupon{ID: CouponID(r.ID), WalletID: WalletID(r.WalletID), Reference: r.Reference, Amount: paydesk.Amount(r.Amount),
		Remaining: paydesk.Amount(r.Remaining), Currency: paydesk.Currency(r.Currency), ExpiresAt: r.ExpiresAt, CreatedAt: r.CreatedAt}
}

func coupons(rows []couponRow) []Coupon {
	out := make([]Coupon, len(rows))
	for i, r := range rows {
		out[i] = r.coupon()
	}
	return out
}

// CreateCoupon inserts c and sets its ID.
func (s *GormStore) CreateCoupon(ctx context.Context, c *Coupon) error {
	at := c.CreatedAt.UTC()
	row := couponRow{WalletID: int64(c.WalletID), Reference: c.Reference, Amount: int64(c.Amount), Remaining: int64(c.Remaining),
		Currency: string(c.Currency), ExpiresAt: c.ExpiresAt.UTC(), CreatedAt: at, UpdatedAt: at}
	err := s.db.Writer(ctx).Create(&row).Error
	if storage.IsDuplicate(err) {
		return errDuplicate
	}
	if err != nil {
		return fmt.Errorf("create coupon: %w", err)
	}
	c.ID = CouponID(row.ID)
	return nil
}

// CouponByReference reads the coupon a wallet was issued under ref.
func (s *GormStore) CouponByReference(ctx context.Context, id WalletID, ref string) (Coupon, error) {
	var rows []couponRow
	if err := s.db.Reader(ctx).Where("wallet_id = ? AND reference = ?", int64(id), ref).Limit(1).Find(&rows).Error; err != nil {
		return Coupon{}, err
	}
	if len(rows) == 0 {
		return Coupon{}, ErrCouponNotFound
	}
	return rows[0].coupon(), nil
}

// LiveCoupons lists unexpired coupons with money left, soonest expiry first.
func (s *GormStore) LiveCoupons(ctx context.Context, id WalletID, now time.Time) ([]Coupon, error) {
	var rows []couponRow
	if err := s.db.Reader(ctx).Where("wallet_id = ? AND remaining > 0 AND expires_at > ?", int64(id), now.UTC()).
		Order("expires_at, id").Find(&rows).Error; err != nil {
		return nil, err
	}
	return coupons(rows), nil
}

// SpendCoupon draws amount from a coupon if, at this moment, it is unexpired
// and has that much left; the guard keeps remaining from going negative
// whatever runs concurrently.
func (s *GormStore) SpendCoupon(ctx context.Context, id WalletID, c CouponID, amount paydesk.Amount, now time.Time) (bool, error) {
	res := s.db.Writer(ctx).Exec("UPDATE wallet_coupons SET remaining = remaining - ?, updated_at = ? WHERE id = ? AND wallet_id = ? AND remaining >= ? AND expires_at > ?",
		int64(amount), now.UTC(), int64(c), int64(id), int64(amount), now.UTC())
	return res.RowsAffected == 1, res.Error
}

// ExpiredCoupons lists coupons expired by now that still hold money.
func (s *GormStore) ExpiredCoupons(ctx context.Context, now time.Time, limit int) ([]Coupon, error) {
	var rows []couponRow
	if err := s.db.Reader(ctx).Where("expires_at <= ? AND remaining > 0", now.UTC()).Order("id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, err
	}
	return coupons(rows), nil
}

// EmptyCoupon zeroes an expired coupon that still has exactly want left.
func (s *GormStore) EmptyCoupon(ctx context.Context, c CouponID, want paydesk.Amount) (bool, error) {
	res := s.db.Writer(ctx).Exec("UPDATE wallet_coupons SET remaining = 0, updated_at = ? WHERE id = ? AND remaining = ?",
		paydesk.SystemClock(), int64(c), int64(want))
	return res.RowsAffected == 1, res.Error
}
