package settlement

import "context"

// emitSubject tells the apps where a batch or withdrawal now stands,
// re-reading it inside the transaction so the event shows the change.
func (s *Service) emitSubject(ctx context.Context, kind string, id int64) error {
	if kind == KindWithdrawal {
		w, err := s.store.Withdrawal(ctx, 0, id)
		if err != nil {
			return err
		}
		return s.emitWithdrawal(ctx, w)
	}
	b, err := s.store.Batch(ctx, 0, id)
	if err != nil {
		return err
	}
	return s.emitBatch(ctx, b)
}

// emitBatch tells of b itself; the outbox writes it in the one JSON shape
// of a batch (internal/view), the API's.
func (s *Service) emitBatch(ctx context.Context, b Batch) error {
	return s.events.Emit(ctx, Event{MerchantID: b.MerchantID, Type: EventSettlementUpdated, Data: b})
}

// emitWithdrawal tells of w itself, written in the one JSON shape of a
// withdrawal (internal/view), the API's.
func (s *Service) emitWithdrawal(ctx context.Context, w Withdrawal) error {
	return s.events.Emit(ctx, Event{MerchantID: w.MerchantID, Type: EventWithdrawalUpdated, Data: w})
}
