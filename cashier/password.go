package cashier

import (
	"context"
	"fmt"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/storage"
)

// ErrPasswordIncorrect refuses a sensitive change confirmed with a wrong
// password. It is 422, not 401: the session is fine, so the app must not
// log its user out.
var ErrPasswordIncorrect = &paydesk.Error{Kind: paydesk.KindUnprocessable, Code: "PASSWORD_INCORRECT", Message: "the password does not match"}

// confirmRule throttles confirmations per staff member, so a stolen
// session cannot guess its owner's password through them.
var confirmRule = storage.AttemptRule{Max: 5, Window: 15 * time.Minute, Lockout: 15 * time.Minute}

// ConfirmPassword checks the acting staff member's own password before a
// change that could divert money (where payouts go): a stolen phone with a
// live session is not enough. Wrong passwords are audited and throttled.
func (s *Service) ConfirmPassword(ctx context.Context, actor Actor, password string) error {
	key := fmt.Sprintf("confirm:staff:%d", actor.StaffID)
	// Claimed before the password is checked, so a burst of guesses checks
	// at most the rule's max of them.
	if err := s.attempts.Claim(ctx, key, confirmRule); err != nil {
		return err
	}
	st, err := s.store.Staff(ctx, actor.StaffID)
	if err != nil {
		return err
	}
	_, hash, err := s.store.StaffByPhone(ctx, st.Phone)
	if err != nil {
		return err
	}
	if !s.passwords.Check(hash, password) {
		s.store.Audit(ctx, AuditEvent{MerchantID: actor.MerchantID, ActorID: actor.StaffID, Action: AuditLoginFailed,
			TargetID: actor.StaffID, Detail: "password confirmation", IP: actor.IP, CreatedAt: s.clock()})
		if _, err := s.attempts.Failed(ctx, key, confirmRule); err != nil {
			return err
		}
		return ErrPasswordIncorrect
	}
	return s.attempts.Reset(ctx, key)
}

// ChangePassword sets the acting staff member's own password, after
// checking their current one the way ConfirmPassword does (wrong ones are
// audited and throttled: 5 per 15 minutes). The password, its audit record
// and the end of every session of theirs commit together; the caller
// signs the current device in again.
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
		s.changed(ctx, actor.StaffID)
		if err := s.audit(ctx, actor, AuditPasswordChanged, actor.StaffID, ""); err != nil {
			return err
		}
		return s.revoke(ctx, actor.StaffID)
	})
}
