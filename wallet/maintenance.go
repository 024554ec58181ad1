package wallet

import (
	"context"
	"fmt"
	"time"
)

// usedCodeMemory is how long the record of a used code is kept: far longer
// than any payment code or dynamic password is accepted, so forgetting it
// can never let one pay twice.
const usedCodeMemory = 10 * time.Minute

// Sweep does the wallet's housekeeping, for a background job on any number
// of instances: it returns expired coupons' money to the platform and
// forgets used codes that can no longer be presented, and retries the card
// returns the bank did not answer (RetryCardReturns).
func (s *Service) Sweep(ctx context.Context) error {
	if _, err := s.ExpireCoupons(ctx); err != nil {
		return err
	}
	if _, err := s.store.ForgetUsedCodes(ctx, s.clock().Add(-usedCodeMemory)); err != nil {
		return fmt.Errorf("forget used codes: %w", err)
	}
	if _, err := s.RetryCardReturns(ctx); err != nil {
		return err
	}
	return nil
}
