package merchant

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/storage"
)

// NewStaff is a staff member to add.
type NewStaff struct {
	Name     string
	Phone    string
	Password string
	Role     Role
	StoreID  int64 // required for managers and cashiers; ignored for owners
}

// mayManage reports whether actor may create or change a staff member with
// role in store. Owners manage everyone of their merchant; managers only the
// cashiers of their own store; cashiers nobody.
func mayManage(actor Actor, role Role, storeID int64) bool {
	switch actor.Role {
	case Owner:
		return true
	case Manager:
		return role == Cashier && storeID == actor.StoreID
	}
	return false
}

// AddStaff adds a staff member to the actor's merchant.
func (s *Service) AddStaff(ctx context.Context, actor Actor, ns NewStaff) (Staff, error) {
	if !ns.Role.Valid() {
		return Staff{}, paydesk.ErrInvalid.WithMessage("role must be owner, manager or cashier")
	}
	if ns.Role == Owner {
		ns.StoreID = 0
	}
	if !mayManage(actor, ns.Role, ns.StoreID) {
		return Staff{}, paydesk.ErrForbidden.WithMessage("a %s may not add a %s to this store", actor.Role, ns.Role)
	}
	// A staff phone is unique across paydesk, because staff log in with
	// the phone alone. PHONE_TAKEN therefore tells an owner a number is in
	// use somewhere, but never where (the answer is the same for their own
	// staff), and each such answer counts against the merchant, so numbers
	// cannot be probed in bulk: the claim is taken before the insert.
	key := fmt.Sprintf("staff-phone:merchant:%d", actor.MerchantID)
	if err := s.attempts.Claim(ctx, key, phoneProbeRule); err != nil {
		return Staff{}, err
	}
	var st Staff
	err := s.store.InTx(ctx, func(ctx context.Context) (err error) {
		if st, err = s.createStaff(ctx, actor, ns); err != nil {
			return err
		}
		return s.audit(ctx, actor, AuditStaffCreated, st.ID, string(st.Role)+" "+st.Phone)
	})
	if errors.Is(err, ErrPhoneTaken) {
		if _, ferr := s.attempts.Failed(ctx, key, phoneProbeRule); ferr != nil {
			return Staff{}, errors.Join(err, ferr)
		}
		return st, err
	}
	if rerr := s.attempts.Release(ctx, key); rerr != nil && err == nil {
		return st, rerr
	}
	return st, err
}

// phoneProbeRule bounds the PHONE_TAKEN answers one merchant can get.
var phoneProbeRule = storage.AttemptRule{Max: 10, Window: time.Hour, Lockout: time.Hour}

func (s *Service) createStaff(ctx context.Context, actor Actor, ns NewStaff) (Staff, error) {
	name, err := validName(ns.Name, "name")
	if err != nil {
		return Staff{}, err
	}
	phone, err := paydesk.NormalizePhone(ns.Phone)
	if err != nil {
		return Staff{}, err
	}
	if ns.Role != Owner {
		if _, err := s.store.Store(ctx, actor.MerchantID, ns.StoreID); err != nil {
			return Staff{}, asNotFound(err, ErrStoreNotFound)
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

// ListStaff lists the staff the actor may see: the whole merchant for an
// owner, the own store for a manager.
func (s *Service) ListStaff(ctx context.Context, actor Actor) ([]Staff, error) {
	switch actor.Role {
	case Owner:
		return s.store.ListStaff(ctx, actor.MerchantID, 0)
	case Manager:
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
		if actor.Role == Manager && st.StoreID == actor.StoreID {
			return Staff{}, paydesk.ErrForbidden.WithMessage("a manager manages cashiers only")
		}
		return Staff{}, ErrStaffNotFound
	}
	return st, nil
}

// DisableStaff disables a staff member. Their tokens stop working at once
// because every request re-reads the staff row; the caller also revokes
// their refresh tokens and closes their sockets.
func (s *Service) DisableStaff(ctx context.Context, actor Actor, id int64) (Staff, error) {
	return s.setStatus(ctx, actor, id, Disabled)
}

// EnableStaff enables a disabled staff member again.
func (s *Service) EnableStaff(ctx context.Context, actor Actor, id int64) (Staff, error) {
	return s.setStatus(ctx, actor, id, Active)
}

func (s *Service) setStatus(ctx context.Context, actor Actor, id int64, status string) (Staff, error) {
	var st Staff
	err := s.store.InTx(ctx, func(ctx context.Context) (err error) {
		if st, err = s.target(ctx, actor, id); err != nil {
			return err
		}
		if st.Status == status {
			return nil // already so: a retry changes nothing and audits nothing
		}
		if st.Role == Owner && status == Disabled {
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
		return s.audit(ctx, actor, action, id, "")
	})
	return st, err
}

// ResetPassword sets a new password for a staff member the actor manages.
func (s *Service) ResetPassword(ctx context.Context, actor Actor, id int64, password string) error {
	hash, err := s.passwords.Hash(password)
	if err != nil {
		return err
	}
	return s.store.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.target(ctx, actor, id); err != nil {
			return err
		}
		if err := s.store.UpdateStaffPassword(ctx, id, hash); err != nil {
			return err
		}
		return s.audit(ctx, actor, AuditPasswordReset, id, "")
	})
}

// StaffByID returns a staff member, for the per-request authentication check.
func (s *Service) StaffByID(ctx context.Context, id int64) (Staff, error) {
	st, err := s.store.Staff(ctx, id)
	return st, asNotFound(err, ErrStaffNotFound)
}

// Login throttling: a phone is locked after 5 failures in 15 minutes, an IP
// after 30, each for 15 minutes.
var (
	phoneRule = storage.AttemptRule{Max: 5, Window: 15 * time.Minute, Lockout: 15 * time.Minute}
	ipRule    = storage.AttemptRule{Max: 30, Window: 15 * time.Minute, Lockout: 15 * time.Minute}
)

// Login checks a phone and password. Failures are throttled per phone and
// per IP (TOO_MANY_ATTEMPTS) and audited; a wrong phone and a wrong password
// answer the same INVALID_CREDENTIALS in the same time.
func (s *Service) Login(ctx context.Context, phone, password, ip string) (Staff, error) {
	// The counter is keyed on the normalised number, so that "139 0000 0001"
	// and "13900000001" share one budget of guesses.
	norm, perr := paydesk.NormalizePhone(phone)
	key := norm
	if perr != nil {
		key = phone
	}
	phoneKey, ipKey := "login:phone:"+truncate(key, 40), "login:ip:"+ip
	// Both budgets are claimed before the password is checked, so a burst
	// of guesses checks at most the rule's max of them. A phone refused
	// after its IP's claim gives the IP's claim back.
	if err := s.attempts.Claim(ctx, ipKey, ipRule); err != nil {
		return Staff{}, err
	}
	if err := s.attempts.Claim(ctx, phoneKey, phoneRule); err != nil {
		if rerr := s.attempts.Release(ctx, ipKey); rerr != nil {
			return Staff{}, errors.Join(err, rerr)
		}
		return Staff{}, err
	}
	var (
		st   Staff
		hash string
		err  = perr
	)
	if perr == nil {
		st, hash, err = s.store.StaffByPhone(ctx, norm)
	}
	if err != nil && !errors.Is(err, paydesk.ErrNotFound) && !errors.Is(err, paydesk.ErrInvalidPhone) {
		return Staff{}, err
	}
	ok := false
	if err == nil {
		ok = s.passwords.Check(hash, password)
	} else {
		s.passwords.CheckNone(password)
	}
	if !ok {
		s.store.Audit(ctx, AuditEvent{MerchantID: st.MerchantID, ActorID: st.ID, Action: AuditLoginFailed, Detail: phone, IP: ip, CreatedAt: s.clock()})
		if _, err := s.attempts.Failed(ctx, phoneKey, phoneRule); err != nil {
			return Staff{}, err
		}
		if _, err := s.attempts.Failed(ctx, ipKey, ipRule); err != nil {
			return Staff{}, err
		}
		return Staff{}, ErrInvalidCredentials
	}
	// A right password proves the phone's owner: the phone's budget starts
	// again, and the IP's claim is given back.
	if err := s.attempts.Reset(ctx, phoneKey); err != nil {
		return Staff{}, err
	}
	if err := s.attempts.Release(ctx, ipKey); err != nil {
		return Staff{}, err
	}
	if st.Status != Active {
		return Staff{}, ErrStaffDisabled
	}
	s.store.Audit(ctx, AuditEvent{MerchantID: st.MerchantID, ActorID: st.ID, Action: AuditLoginSucceeded, TargetID: st.ID, IP: ip, CreatedAt: s.clock()})
	return st, nil
}
