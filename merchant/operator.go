package merchant

import (
	"context"
	"errors"
	"fmt"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/cashier"
)

// ErrMarkerTaken refuses a second merchant with the same marker.
var ErrMarkerTaken = &paydesk.Error{Kind: paydesk.KindConflict, Code: "MARKER_TAKEN", Message: "a merchant with this marker exists"}

// Terms are what the platform operator sets on a merchant after opening
// it; nil fields stay as they are. A new term is a new field here, checked
// in SetTerms, and a column in UpdateMerchantTerms.
type Terms struct {
	FeeRate        *paydesk.Rate
	SettlementDays *int
}

// MerchantByMarker finds the merchant opened with marker, or
// ErrMerchantNotFound.
func (s *Service) MerchantByMarker(ctx context.Context, marker string) (Merchant, error) {
	if marker == "" {
		return Merchant{}, ErrMerchantNotFound
	}
	return s.store.MerchantByMarker(ctx, marker)
}

// Merchants lists merchants in id order, after afterID, at most limit
// (1 to 500, default 100): the operator's view.
func (s *Service) Merchants(ctx context.Context, afterID int64, limit int) ([]Merchant, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	return s.store.Merchants(ctx, afterID, limit)
}

// SetTerms changes a merchant's fee rate or settlement cycle. The new
// rate applies to payments from now on; the new cycle to business days not
// cut yet. The change is audited with the old and new values.
func (s *Service) SetTerms(ctx context.Context, id int64, t Terms) (Merchant, error) {
	if t.FeeRate != nil && (*t.FeeRate < 0 || *t.FeeRate > 100_000) {
		return Merchant{}, paydesk.ErrInvalid.WithMessage("fee_rate must be between 0 and 100000 parts per million (10%%)")
	}
	if t.SettlementDays != nil && (*t.SettlementDays < 0 || *t.SettlementDays > 30) {
		return Merchant{}, paydesk.ErrInvalid.WithMessage("settlement_days must be 0 to 30 (T+0 to T+30)")
	}
	var out Merchant
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		before, err := s.store.Merchant(ctx, id)
		if err != nil {
			return err
		}
		if t.FeeRate == nil && t.SettlementDays == nil {
			out = before
			return nil
		}
		if err := s.store.UpdateMerchantTerms(ctx, id, t); err != nil {
			return err
		}
		s.changed(ctx, id)
		if out, err = s.store.Merchant(ctx, id); err != nil {
			return err
		}
		for _, o := range s.observers {
			if err := o.MerchantUpdated(ctx, out); err != nil {
				return fmt.Errorf("observe merchant %d updated: %w", id, err)
			}
		}
		detail := fmt.Sprintf("fee_rate %d→%d settlement_days %d→%d", before.FeeRate, out.FeeRate, before.SettlementDays, out.SettlementDays)
		return s.staff.Record(ctx, cashier.OperatorActor(id), cashier.AuditMerchantUpdated, id, detail)
	})
	if errors.Is(err, paydesk.ErrNotFound) {
		return Merchant{}, ErrMerchantNotFound
	}
	return out, err
}
