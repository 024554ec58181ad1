package wallet

import (
	"context"
	"fmt"

	"github.com/paydesk/paydesk/bank"
)

// BindCard binds a bank card to the wallet, replacing any card bound before.
// The card number goes to the bank and is not kept; the wallet keeps the
// bank's token, the last four digits and the bank's name.
func (s *Service) BindCard(ctx context.Context, id WalletID, details bank.CardDetails) (bank.Card, error) {
	if _, err := s.wallet(ctx, id); err != nil {
		return bank.Card{}, err
	}
	card, err := s.bank.BindCard(ctx, details)
	if err != nil {
		return bank.Card{}, fmt.Errorf("wallet %d: bind card: %w", id, err)
	}
	if err := s.store.SetCard(ctx, id, card); err != nil {
		return bank.Card{}, fmt.Errorf("wallet %d: bind card: %w", id, err)
	}
	return card, nil
}
