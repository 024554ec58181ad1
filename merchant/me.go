package merchant

import (
	"context"

	"github.com/paydesk/paydesk/cashier"
)

// Me is who a staff member is: themselves, their merchant and, for managers
// and cashiers, their store. It lives here, not in cashier, because it
// reads the tenancy the staff member belongs to.
type Me struct {
	Staff    cashier.Staff
	Merchant Merchant
	// Store is nil for owners, who belong to the whole merchant.
	Store *Store
}

// Me returns the acting staff member, their merchant and their store.
func (s *Service) Me(ctx context.Context, actor cashier.Actor) (Me, error) {
	st, err := s.staff.ByID(ctx, actor.StaffID)
	if err != nil {
		return Me{}, err
	}
	m, err := s.store.Merchant(ctx, st.MerchantID)
	if err != nil {
		return Me{}, err
	}
	out := Me{Staff: st, Merchant: m}
	if st.StoreID != 0 {
		store, err := s.store.Store(ctx, st.MerchantID, st.StoreID)
		if err != nil {
			return Me{}, asNotFound(err, ErrStoreNotFound)
		}
		out.Store = &store
	}
	return out, nil
}
