package cashier

import (
	"context"
	"fmt"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/rbac"
	"github.com/paydesk/paydesk/storage"
)

// NewStaff is a staff member to add.
type NewStaff struct {
	Name     string
	Phone    string
	Password string
	Role     rbac.Role
	StoreID  int64 // required for managers and cashiers; ignored for owners
}

// mayManage reports whether actor may create or change a staff member with
// role in store. Owners manage everyone of their merchant; managers only the
// cashiers of their own store; cashiers nobody.
func mayManage(actor Actor, role rbac.Role, storeID int64) bool {
	switch actor.Role {
	case rbac.Owner:
		return true
	case rbac.Manager:
		return role == rbac.Cashier && storeID == actor.StoreID
	}
	return false
}

// Add adds a staff member to the actor's merchant.
func (s *Service) Add(ctx context.Context, actor Actor, ns NewStaff) (Staff, error) {
	if !ns.Role.IsStaff() {
		return Staff{}, paydesk.ErrInvalid.WithMessage("role must be owner, manager or cashier")
	}
	if ns.Role == rbac.Owner {
		ns.StoreID = 0
	}
	if !mayManage(actor, ns.Role, ns.StoreID) {
		return Staff{}, paydesk.ErrForbidden.WithMessage("a %s may not add a %s to this store", actor.Role, ns.Role)
	}
	var st Staff
	err := s.store.InTx(ctx, func(ctx context.Context) (err error) {
		if st, err = s.createStaff(ctx, actor, ns); err != nil {
			return err
		}
		return s.audit(ctx, actor, AuditStaffCreated, st.ID, string(st.Role)+" "+st.Phone)
	})
	return st, err
}

// FirstOwner creates the first owner of a merchant being opened, inside
// the caller's transaction (merchant.Service.CreateMerchant), which audits
// the opening as a whole.
func (s *Service) FirstOwner(ctx context.Context, merchantID int64, ns NewStaff) (Staff, error) {
	ns.Role, ns.StoreID = rbac.Owner, 0
	return s.createStaff(ctx, Actor{MerchantID: merchantID}, ns)
}

func (s *Service) createStaff(ctx context.Context, actor Actor, ns NewStaff) (Staff, error) {
	name, err := validName(ns.Name, "name")
	if err != nil {
		return Staff{}, err
	}
	phone, err := paydesk.NormalizePhone(ns.Phone)
	if err != nil {
		return Staff{}, err
	}
	if ns.Role != rbac.Owner {
		if err := s.stores.CheckStore(ctx, actor.MerchantID, ns.StoreID); err != nil {
			return Staff{}, err
		}
	}
	hash, err := s.passwords.Hash(ns.Password)
	if err != nil {
		return Staff{}, err
	}
	now := s.clock()
	st := Staff{MerchantID: actor.MerchantID, StoreID: ns.StoreID, Role: ns.Role, Name: name, Phone: phone, Status: Active, CreatedAt: now, UpdatedAt: now}
	if err := s.store.CreateStaff(ctx, &st, hash); err != nil {
		return Staff{}, err
	}
	return st, nil
}

// List lists the staff the actor may see: the whole merchant for an
// owner, the own store for a manager.
func (s *Service) List(ctx context.Context, actor Actor) ([]Staff, error) {
	switch actor.Role {
	case rbac.Owner:
		return s.store.ListStaff(ctx, actor.MerchantID, 0)
	case rbac.Manager:
		return s.store.ListStaff(ctx, actor.MerchantID, actor.StoreID)
	}
	return nil, paydesk.ErrForbidden
}

// target loads a staff member the actor may manage, under a row lock. One
// outside the actor's scope is reported as not found, never as forbidden, so
// that ids of other merchants and stores reveal nothing.
func (s *Service) target(ctx context.Context, actor Actor, id int64) (Staff, error) {
	st, err := s.store.StaffForUpdate(ctx, actor.MerchantID, id)
	if err != nil {
		return Staff{}, asNotFound(err, ErrStaffNotFound)
	}
	if !mayManage(actor, st.Role, st.StoreID) {
		if actor.Role == rbac.Manager && st.StoreID == actor.StoreID {
			return Staff{}, paydesk.ErrForbidden.WithMessage("a manager manages cashiers only")
		}
		return Staff{}, ErrStaffNotFound
	}
	return st, nil
}

// Disable disables a staff member, in one transaction: the status, the
// audit record, the staff.disabled event (the Observers) and the end of
// every sign-in session they have (Sessions), so that no refresh token
// outlives the change and a failure anywhere undoes all of it. Their
// access tokens stop working at once because every request reads the
// staff row through ByID, whose cache forgets it when the transaction
// ends; the event closes their sockets, and drops the cached row, on
// every instance. Disabling a disabled staff member again only ends their
// sessions again.
func (s *Service) Disable(ctx context.Context, actor Actor, id int64) (Staff, error) {
	return s.setStatus(ctx, actor, id, Disabled)
}

// Enable enables a disabled staff member again.
func (s *Service) Enable(ctx context.Context, actor Actor, id int64) (Staff, error) {
	return s.setStatus(ctx, actor, id, Active)
}

func (s *Service) setStatus(ctx context.Context, actor Actor, id int64, status string) (Staff, error) {
	var st Staff
	err := s.store.InTx(ctx, func(ctx context.Context) (err error) {
		if st, err = s.target(ctx, actor, id); err != nil {
			return err
		}
		// Even a retry that changes nothing: this instance may still hold
		// the row as it was before another instance changed it.
		s.changed(ctx, id)
		if st.Status == status {
			// Already so: a retry changes nothing and audits nothing, but
			// ends any session left as the first try did.
			return s.endSessions(ctx, st)
		}
		if st.Role == rbac.Owner && status == Disabled {
			n, err := s.store.LockActiveOwners(ctx, actor.MerchantID)
			if err != nil {
				return err
			}
			if n <= 1 {
				return ErrLastOwner
			}
		}
		if err := s.store.UpdateStaffStatus(ctx, id, status); err != nil {
			return err
		}
		st.Status = status
		action := AuditStaffEnabled
		if status == Disabled {
			action = AuditStaffDisabled
			for _, o := range s.observers {
				if err := o.StaffDisabled(ctx, st); err != nil {
					return fmt.Errorf("observe staff %d disabled: %w", id, err)
				}
			}
		}
		if err := s.audit(ctx, actor, action, id, ""); err != nil {
			return err
		}
		return s.endSessions(ctx, st)
	})
	return st, err
}

// endSessions revokes every sign-in session of a disabled staff member,
// inside the transaction in ctx; an active one keeps theirs.
func (s *Service) endSessions(ctx context.Context, st Staff) error {
	if st.Status != Disabled {
		return nil
	}
	return s.revoke(ctx, st.ID)
}

func (s *Service) revoke(ctx context.Context, staffID int64) error {
	if s.sessions == nil {
		return nil
	}
	if _, err := s.sessions.RevokeSubject(ctx, rbac.KindStaff, staffID); err != nil {
		return fmt.Errorf("end the sessions of staff %d: %w", staffID, err)
	}
	return nil
}

// ResetPassword sets a new password for a staff member the actor manages,
// ends every sign-in session they have (they log in again, with the new
// password, everywhere) and lifts every log-in lock on their phone: the
// unlock path for a cashier whose phone was guessed at (loginGuard). The
// password, the audit record, the sessions and the lock change in one
// transaction.
func (s *Service) ResetPassword(ctx context.Context, actor Actor, id int64, password string) error {
	hash, err := s.passwords.Hash(password)
	if err != nil {
		return err
	}
	return s.store.InTx(ctx, func(ctx context.Context) error {
		st, err := s.target(ctx, actor, id)
		if err != nil {
			return err
		}
		if err := s.store.UpdateStaffPassword(ctx, id, hash); err != nil {
			return err
		}
		s.changed(ctx, id)
		if err := s.audit(ctx, actor, AuditPasswordReset, id, ""); err != nil {
			return err
		}
		if err := s.revoke(ctx, id); err != nil {
			return err
		}
		return loginGuard(s.attempts).Unlock(ctx, truncate(st.Phone, 40))
	})
}

// ByID returns a staff member, for the per-request authentication check:
// from the cache (WithCache) outside a transaction, from the database
// inside one, which may rely on its own writes.
func (s *Service) ByID(ctx context.Context, id int64) (Staff, error) {
	if storage.InTxContext(ctx) {
		return s.byID(ctx, id)
	}
	return s.cache.Get(id, func() (Staff, error) { return s.byID(ctx, id) })
}

func (s *Service) byID(ctx context.Context, id int64) (Staff, error) {
	st, err := s.store.Staff(ctx, id)
	return st, asNotFound(err, ErrStaffNotFound)
}

// Forget drops staff member id from the cache, so the next ByID reads the
// row: another instance changed it (its staff.disabled event arrived).
func (s *Service) Forget(id int64) { s.cache.Forget(id) }

// changed forgets staff member id once the transaction in ctx, which
// changes their row, has ended: not before, or a reader could cache the
// row as it was until the commit. Every use case that writes a staff row
// calls it; other instances hear of a disable by its staff.disabled event,
// of anything else (an enable) within the cache's TTL.
func (s *Service) changed(ctx context.Context, id int64) {
	storage.AfterTx(ctx, func() { s.cache.Forget(id) })
}
