package settlement

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"

	"github.com/paydesk/paydesk"
)

// PayoutMode is how a merchant's settled money reaches its bank account.
type PayoutMode string

const (
	// PayoutAuto pays each batch to the bound bank account at its due
	// date (NOT_DUE → AWAITING_PAYMENT → SUBMITTED → PAID). The default.
	PayoutAuto PayoutMode = "auto"
	// PayoutManual settles each batch at its due date: its money moves
	// from pending to available (SETTLED) and the owner withdraws it, any
	// amount up to available, whenever they like.
	PayoutManual PayoutMode = "manual"
)

// ErrInvalidPayoutMode refuses a mode other than auto or manual.
var ErrInvalidPayoutMode = &paydesk.Error{Kind: paydesk.KindInvalid, Code: "INVALID_PAYOUT_MODE", Message: "payout mode must be auto or manual"}

type payoutModeRow struct {
	MerchantID int64 `gorm:"primaryKey;autoIncrement:false"`
	Mode       string
	UpdatedAt  time.Time
}

func (payoutModeRow) TableName() string { return "merchant_payout_modes" }

// SetPayoutMode sets the merchant's payout mode (the operator's `paydesk
// merchant set --payout-mode`). It applies to batches that come due from
// now on; batches already submitted, settled or failed keep their course.
func (s *Service) SetPayoutMode(ctx context.Context, merchantID int64, mode PayoutMode) error {
	if mode != PayoutAuto && mode != PayoutManual {
		return ErrInvalidPayoutMode
	}
	if _, err := s.merchants.Merchant(ctx, merchantID); err != nil {
		return err
	}
	row := payoutModeRow{MerchantID: merchantID, Mode: string(mode), UpdatedAt: s.clock()}
	err := s.db.Writer(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "merchant_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"mode", "updated_at"})}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("save payout mode: %w", err)
	}
	return nil
}

// PayoutMode returns the merchant's payout mode: auto unless set.
func (s *Service) PayoutMode(ctx context.Context, merchantID int64) (PayoutMode, error) {
	var rows []payoutModeRow
	if err := s.db.Reader(ctx).Where("merchant_id = ?", merchantID).Limit(1).Find(&rows).Error; err != nil {
		return "", fmt.Errorf("read payout mode: %w", err)
	}
	if len(rows) == 0 {
		return PayoutAuto, nil
	}
	return PayoutMode(rows[0].Mode), nil
}
