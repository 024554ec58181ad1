package settlement

import (
	"context"

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
	return s.store.SavePayoutMode(ctx, merchantID, mode, s.clock())
}

// PayoutMode returns the merchant's payout mode: auto unless set.
func (s *Service) PayoutMode(ctx context.Context, merchantID int64) (PayoutMode, error) {
	mode, ok, err := s.store.PayoutMode(ctx, merchantID)
	if err != nil || !ok {
		return PayoutAuto, err
	}
	return mode, nil
}
