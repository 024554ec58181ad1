package cashier

import (
	"context"
	"errors"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/storage"
)

// loginGuard throttles staff log-in (storage.Guard): 5 failures of a phone
// from one IP in 15 minutes lock that IP out of that phone for 15 minutes;
// after 20 failures of a phone from anywhere in 15 minutes, every IP is
// locked out of it after its first failure, for the next 15 minutes. No
// one is locked out of their own phone by somebody else's guesses. The
// per-IP token bucket in front of the route (mobile-api) slows one client.
func loginGuard(c storage.AttemptCounter) storage.Guard {
	return storage.Guard{Counter: c, Prefix: "login",
		Pair:    storage.AttemptRule{Max: 5, Window: 15 * time.Minute, Lockout: 15 * time.Minute},
		Guarded: storage.AttemptRule{Max: 1, Window: 15 * time.Minute, Lockout: 15 * time.Minute},
		Account: storage.AttemptRule{Max: 20, Window: 15 * time.Minute, Lockout: 15 * time.Minute}}
}

// Login checks a phone and password. Failures are throttled per (phone, IP)
// (TOO_MANY_ATTEMPTS, see loginGuard) and audited; a wrong phone and a wrong
// password answer the same INVALID_CREDENTIALS in the same time.
func (s *Service) Login(ctx context.Context, phone, password, ip string) (Staff, error) {
	// The counter is keyed on the normalised number, so that "139 0000 0001"
	// and "13900000001" share one budget of guesses.
	norm, perr := paydesk.NormalizePhone(phone)
	key := norm
	if perr != nil {
		key = phone
	}
	key = truncate(key, 40)
	guard := loginGuard(s.attempts)
	if err := guard.Check(ctx, key, ip); err != nil {
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
		if _, err := guard.Fail(ctx, key, ip); err != nil {
			return Staff{}, err
		}
		return Staff{}, ErrInvalidCredentials
	}
	if st.Status != Active {
		return Staff{}, ErrStaffDisabled
	}
	if err := guard.Succeed(ctx, key, ip); err != nil {
		return Staff{}, err
	}
	s.store.Audit(ctx, AuditEvent{MerchantID: st.MerchantID, ActorID: st.ID, Action: AuditLoginSucceeded, TargetID: st.ID, IP: ip, CreatedAt: s.clock()})
	return st, nil
}
