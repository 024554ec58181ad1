package wallet

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm/clause"

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

type cardReturnRow struct {
	DebitReference string `gorm:"primaryKey"`
	WalletID       int64
	Amount         int64
	State          string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

func (cardReturnRow) TableName() string { return "wallet_card_returns" }

// RecordCardReturn inserts r as PENDING unless its debit has a row.
func (s *GormStore) RecordCardReturn(ctx context.Context, r CardReturn) error {
	row := cardReturnRow{DebitReference: r.DebitReference, WalletID: int64(r.Wallet), Amount: int64(r.Amount),
		State: string(CardReturnPending), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.CreatedAt.UTC()}
	if err := s.db.Writer(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
		return fmt.Errorf("record card return %s: %w", r.DebitReference, err)
	}
	return nil
}

// FinishCardReturn moves a PENDING return to state.
func (s *GormStore) FinishCardReturn(ctx context.Context, debit string, state CardReturnState, at time.Time) error {
	res := s.db.Writer(ctx).Exec("UPDATE wallet_card_returns SET state = ?, updated_at = ? WHERE debit_reference = ? AND state = ?",
		string(state), at.UTC(), debit, string(CardReturnPending))
	if res.Error != nil {
		return fmt.Errorf("finish card return %s: %w", debit, res.Error)
	}
	return nil
}

// PendingCardReturns walks the (state, created_at) index.
func (s *GormStore) PendingCardReturns(ctx context.Context, limit int) ([]CardReturn, error) {
	rows, err := s.db.Reader(ctx).Raw("SELECT debit_reference, wallet_id, amount, state, created_at FROM wallet_card_returns WHERE state = ? ORDER BY created_at, debit_reference LIMIT "+strconv.Itoa(limit),
		string(CardReturnPending)).Rows()
	if err != nil {
		return nil, fmt.Errorf("list pending card returns: %w", err)
	}
	defer rows.Close()
	var out []CardReturn
	for rows.Next() {
		var r CardReturn
		var w, amount int64
		var state string
		if err := rows.Scan(&r.DebitReference, &w, &amount, &state, &r.CreatedAt); err != nil {
			return nil, fmt.Errorf("list pending card returns: %w", err)
		}
		r.Wallet, r.Amount, r.State = WalletID(w), paydesk.Amount(amount), CardReturnState(state)
		out = append(out, r)
	}
	return out, rows.Err()
}
