package wallet

import (
	"context"

	"github.com/paydesk/paydesk"
)

// FindByPhone returns the wallet of a phone number, for a merchant issuing
// something (a ticket) to a customer who tells their number.
func (s *Service) FindByPhone(ctx context.Context, phone string) (WalletID, error) {
	phone, err := paydesk.NormalizePhone(phone)
	if err != nil {
		return 0, err
	}
	w, err := s.store.WalletByPhone(ctx, phone)
	if err != nil {
		return 0, err
	}
	return w.ID, nil
}

// MaskedPhone returns the wallet's phone number with its middle digits
// hidden ("138****0001"): enough for a merchant to recognise a member, not
// enough to call them.
func (s *Service) MaskedPhone(ctx context.Context, id WalletID) (string, error) {
	w, err := s.wallet(ctx, id)
	if err != nil {
		return "", err
	}
	return MaskPhone(w.Phone), nil
}

// MaskPhone hides all but the first three and the last four characters.
func MaskPhone(p string) string {
	if len(p) <= 7 {
		return p
	}
	b := []byte(p)
	for i := 3; i < len(b)-4; i++ {
		b[i] = '*'
	}
	return string(b)
}
