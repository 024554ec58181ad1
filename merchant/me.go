package merchant

import (
	"context"
)

// AuditPasswordChanged records a staff member changing their own password.
const AuditPasswordChanged = "staff.password_changed"

// Me is who a staff member is: themselves, their merchant and, for managers
// and cashiers, their store.
type Me struct {
	Staff    Staff
	Merchant Merchant
	// Store is nil for owners, who belong to the whole merchant.
	Store *Store
}

// Me returns the acting staff member, their merchant and their store.
func (s *Service) Me(ctx context.Context, actor Actor) (Me, error) {
	st, err := s.StaffByID(ctx, actor.StaffID)
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

// ChangePassword sets the acting staff member's own password, after
// checking their current one the way ConfirmPassword does (wrong ones are
// audited and throttled: 5 per 15 minutes). The change is audited; the
// caller revokes the staff member's other sessions.
func (s *Service) ChangePassword(ctx context.Context, actor Actor, current, next string) error {
	if err := s.ConfirmPassword(ctx, actor, current); err != nil {
		return err
	}
	hash, err := s.passwords.Hash(next)
	if err != nil {
		return err
	}
	return s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.UpdateStaffPassword(ctx, actor.StaffID, hash); err != nil {
			return err
		}
		return s.audit(ctx, actor, AuditPasswordChanged, actor.StaffID, "")
	})
}
