package wallet

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"

	"github.com/paydesk/paydesk"
)

// Dynamic passwords (动态密码) are RFC 6238 TOTP codes: 6 digits, 30-second
// steps, HMAC-SHA1, from a per-wallet secret that never leaves the server.
// The app shows the current one; the customer reads it out and the cashier
// types it with the customer's phone number. A password is accepted in its
// own step and the next (at most 60 s), pays once, and 5 wrong tries for
// one phone in 15 minutes lock that phone out of dynamic-password payments
// for 15 minutes, in the database, so across restarts and instances.
const (
	DynamicPasswordStep   = 30 * time.Second
	dynamicPasswordDigits = otp.DigitsSix
	kindDynamicPassword   = 'D'
)

// DynamicPassword is a password to read out, and when it stops being accepted.
type DynamicPassword struct {
	Password  string
	ExpiresAt time.Time
}

func totpCounter(t time.Time) int64 { return t.Unix() / int64(DynamicPasswordStep/time.Second) }

func totpCode(secret string, counter int64) (string, error) {
	return hotp.GenerateCodeCustom(secret, uint64(counter), hotp.ValidateOpts{Digits: dynamicPasswordDigits, Algorithm: otp.AlgorithmSHA1})
}

// DynamicPassword returns the wallet's current dynamic password.
func (s *Service) DynamicPassword(ctx context.Context, id WalletID) (DynamicPassword, error) {
	w, err := s.wallet(ctx, id)
	if err != nil {
		return DynamicPassword{}, err
	}
	c := totpCounter(s.clock())
	code, err := totpCode(w.TOTPSecret, c)
	if err != nil {
		return DynamicPassword{}, fmt.Errorf("wallet %d: dynamic password: %w", id, err)
	}
	step := int64(DynamicPasswordStep / time.Second)
	return DynamicPassword{Password: code, ExpiresAt: time.Unix((c+2)*step, 0).UTC()}, nil
}

// VerifyDynamicPassword checks the password a customer read out for phone
// and spends it, returning the wallet. Refusals: DYNAMIC_PASSWORD_WRONG (the
// same for an unknown phone, so phones cannot be probed), DYNAMIC_PASSWORD_USED,
// TOO_MANY_ATTEMPTS with RetryAfter while the phone is locked. The use
// commits here, on its own, so it must not run inside a transaction.
func (s *Service) VerifyDynamicPassword(ctx context.Context, phone, password string) (WalletID, error) {
	if err := s.outsideTx(ctx, "VerifyDynamicPassword"); err != nil {
		return 0, err
	}
	norm, err := paydesk.NormalizePhone(phone)
	if err != nil {
		return 0, ErrDynamicPasswordWrong
	}
	key := "dynpw:" + norm
	// Claimed before the password is checked: a burst for one phone checks
	// at most the rule's max of them.
	if err := s.attempts.Claim(ctx, key, s.dynamicRule); err != nil {
		return 0, err
	}
	w, err := s.store.WalletByPhone(ctx, norm)
	if errors.Is(err, errSecretUnreadable) {
		// A wrong data key or a secret copied from another row: no
		// password can be checked, so none is right.
		return 0, fmt.Errorf("%w (%w)", ErrDynamicPasswordWrong, err)
	}
	if err != nil && !errors.Is(err, ErrWalletNotFound) {
		return 0, fmt.Errorf("verify dynamic password: %w", err)
	}
	if err == nil && len(password) == dynamicPasswordDigits.Length() && digits(password) {
		now := s.clock()
		c := totpCounter(now)
		for k := c; k >= c-1; k-- {
			want, err := totpCode(w.TOTPSecret, k)
			if err != nil {
				return 0, fmt.Errorf("verify dynamic password: %w", err)
			}
			if subtle.ConstantTimeCompare([]byte(want), []byte(password)) != 1 {
				continue
			}
			err = s.store.UseCode(ctx, w.ID, kindDynamicPassword, k, now)
			if errors.Is(err, errCodeUsed) {
				return 0, ErrDynamicPasswordUsed
			}
			if err != nil {
				return 0, fmt.Errorf("verify dynamic password: %w", err)
			}
			if err := s.attempts.Reset(ctx, key); err != nil {
				return 0, fmt.Errorf("verify dynamic password: %w", err)
			}
			return w.ID, nil
		}
	}
	locked, err := s.attempts.Failed(ctx, key, s.dynamicRule)
	if err != nil {
		return 0, fmt.Errorf("verify dynamic password: %w", err)
	}
	if locked {
		return 0, s.attempts.Check(ctx, key)
	}
	return 0, ErrDynamicPasswordWrong
}
