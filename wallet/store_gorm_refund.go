package wallet

import (
	"context"
	"fmt"
	"time"

	"github.com/paydesk/paydesk"
)

// RestoreCoupon adds amount back to a coupon's remaining. An expired coupon
// takes it too: the expiry sweep then returns it to the platform, so the
// wallet's coupon balance stays equal to what its coupons hold.
func (s *GormStore) RestoreCoupon(ctx context.Context, id WalletID, c CouponID, amount paydesk.Amount, now time.Time) error {
	res := s.db.Writer(ctx).Exec("UPDATE wallet_coupons SET remaining = remaining + ?, updated_at = ? WHERE id = ? AND wallet_id = ? AND remaining + ? <= amount",
		int64(amount), now.UTC(), int64(c), int64(id), int64(amount))
	if res.Error != nil {
		return fmt.Errorf("restore coupon %d: %w", c, res.Error)
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("restore coupon %d of wallet %d: %s would exceed what it was issued with", c, id, amount)
	}
	return nil
}

// RestoreVoucher reactivates a voucher used by payment ref.
func (s *GormStore) RestoreVoucher(ctx context.Context, id WalletID, v VoucherID, ref string) (bool, error) {
	res := s.db.Writer(ctx).Exec("UPDATE wallet_vouchers SET status = ?, used_by = NULL, used_at = NULL WHERE id = ? AND wallet_id = ? AND status = ? AND used_by = ?",
		string(VoucherActive), int64(v), int64(id), string(VoucherUsed), ref)
	return res.RowsAffected == 1, res.Error
}
