package wallet

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"

	"github.com/pquerna/otp/totp"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/ledger"
)

// errCodeIDTaken is a collision of two randomly drawn payment-code ids.
var errCodeIDTaken = errors.New("wallet: payment code id taken")

// Register opens a wallet for phone with password, with its cash and coupon
// accounts in the ledger, its payment-code and dynamic-password secrets, and
// the default no-password limit.
func (s *Service) Register(ctx context.Context, phone, password string) (WalletID, error) {
	phone, err := paydesk.NormalizePhone(phone)
	if err != nil {
		return 0, err
	}
	hash, err := s.passwords.Hash(password)
	if errors.Is(err, paydesk.ErrWeakPassword) {
		return 0, err
	}
	if err != nil {
		return 0, fmt.Errorf("register: %w", err)
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "paydesk", AccountName: phone})
	if err != nil {
		return 0, fmt.Errorf("register: %w", err)
	}
	codeSecret, err := newCodeSecret()
	if err != nil {
		return 0, fmt.Errorf("register: %w", err)
	}
	// Code ids are drawn at random from 10^8, so a collision is rare and a
	// second draw almost surely free.
	for range 8 {
		codeID, err := newCodeID()
		if err != nil {
			return 0, fmt.Errorf("register: %w", err)
		}
		now := s.clock()
		w := &Wallet{Phone: phone, PasswordHash: hash, Currency: s.currency, CodeID: codeID, CodeSecret: codeSecret,
			TOTPSecret: key.Secret(), NoPasswordLimit: DefaultNoPasswordLimit, CreatedAt: now}
		err = s.store.InTx(ctx, func(ctx context.Context) error {
			if err := s.store.CreateWallet(ctx, w); err != nil {
				return err
			}
			cash, err := s.ledger.CreateAccount(ctx, ledger.Account{Code: CashAccountCode(w.ID), Type: TypeCash, Currency: s.currency})
			if err != nil {
				return err
			}
			coupon, err := s.ledger.CreateAccount(ctx, ledger.Account{Code: CouponAccountCode(w.ID), Type: TypeCouponCash, Currency: s.currency})
			if err != nil {
				return err
			}
			return s.store.SetAccounts(ctx, w.ID, cash.ID, coupon.ID)
		})
		if errors.Is(err, errCodeIDTaken) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("register %s: %w", phone, err)
		}
		return w.ID, nil
	}
	return 0, fmt.Errorf("register %s: no free payment code id after 8 draws", phone)
}

// newCodeID draws a uniformly random 8-digit payment-code id.
func newCodeID() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(100_000_000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%08d", n.Int64()), nil
}

// Authenticate checks a customer's phone and password. Every failure looks
// the same (INVALID_CREDENTIALS) and takes the same time, whether or not
// the phone has a wallet; after too many failures the phone is locked out
// (TOO_MANY_ATTEMPTS), even for the right password.
func (s *Service) Authenticate(ctx context.Context, phone, password string) (WalletID, error) {
	norm, perr := paydesk.NormalizePhone(phone)
	key := "wallet-login:" + norm
	if perr == nil {
		// Claimed before the password is checked, so a burst of guesses
		// checks at most the rule's max of them.
		if err := s.attempts.Claim(ctx, key, s.loginRule); err != nil {
			return 0, err
		}
	}
	var w Wallet
	found := false
	if perr == nil {
		var err error
		w, err = s.store.WalletByPhone(ctx, norm)
		switch {
		case err == nil:
			found = true
		case !errors.Is(err, ErrWalletNotFound):
			return 0, fmt.Errorf("authenticate: %w", err)
		}
	}
	// Hash even for an unknown phone, so timing does not tell which phones have wallets.
	ok := found && s.passwords.Check(w.PasswordHash, password)
	if !found {
		s.passwords.CheckNone(password)
	}
	if !ok {
		if perr != nil {
			return 0, ErrInvalidCredentials
		}
		locked, err := s.attempts.Failed(ctx, key, s.loginRule)
		if err != nil {
			return 0, fmt.Errorf("authenticate: %w", err)
		}
		if locked {
			return 0, s.attempts.Check(ctx, key)
		}
		return 0, ErrInvalidCredentials
	}
	if err := s.attempts.Reset(ctx, key); err != nil {
		return 0, fmt.Errorf("authenticate: %w", err)
	}
	return w.ID, nil
}
