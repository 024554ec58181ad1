package wallet

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/paydesk/paydesk"
)

const (
	// PaymentCodePrefix starts every paydesk payment code.
	PaymentCodePrefix = "76"
	// PaymentCodeLen is the number of digits in a payment code.
	PaymentCodeLen = 18
	// PaymentCodeStep is the time step of the one-time part.
	PaymentCodeStep = 10 * time.Second
	// PaymentCodeLifetime is how long a code is accepted.
	PaymentCodeLifetime = 60 * time.Second

	codeStepsAfter   = int64(PaymentCodeLifetime/PaymentCodeStep) - 1 // steps accepted after the code's own
	codeStepsAhead   = 1                                              // a phone clock this many steps ahead is tolerated
	codeStepsExpired = int64(5 * time.Minute / PaymentCodeStep)       // how far back EXPIRED is told from INVALID
	codeSecretLen    = 32
	kindPaymentCode  = 'P'
)

// PaymentCode is a parsed payment code (付款码).
//
// A payment code is 18 decimal digits, shown by the wallet app as a Code 128
// barcode and a QR code:
//
//	76 CCCCCCCC OOOOOOOO
//	|  |        `- one-time part: 8 digits, HMAC of the time step
//	|  `---------- code id: 8 digits, public, fixed per wallet
//	`------------- prefix 76: paydesk
//
// Prefix. "76" is used by no other wallet a cashier meets (WeChat Pay's
// codes start 10-15, Alipay's 25-30, UnionPay's 62), so the cashier app can
// route a scanned code before sending it.
//
// Code id. A random 8-digit number drawn for the wallet at registration and
// unique among wallets. It tells the server which wallet (and which secret)
// to check with one indexed lookup, never a scan of all wallets. It is not
// secret: anyone who sees a code sees it.
//
// One-time part. The app receives the wallet's secret (32 random bytes) once,
// from ProvisionPaymentCodes, and derives codes offline, TOTP-style:
//
//	counter  = floor(unix seconds / 10)
//	mac      = HMAC-SHA256(secret, "paydesk-paycode-v1" | "76" | code id | counter as 8 bytes big-endian)
//	one-time = RFC 4226 dynamic truncation of mac, mod 10^8, zero-padded to 8 digits
//
// GeneratePaymentCode is exactly that, a pure function the phone (or a load
// tool) can run.
//
// Validity. A code of counter k is accepted while the server's counter is
// k-1 to k+5: from the start of its 10-second step for 60 seconds, plus one
// step of tolerance for a phone clock running ahead. Older codes (up to five
// minutes) are told apart as PAYMENT_CODE_EXPIRED, anything else is
// PAYMENT_CODE_INVALID.
//
// Single use. A code that pays is recorded as (wallet, counter) under a
// primary key, so a replay, or the same code presented by two cashiers at
// the same moment, pays once; the others get PAYMENT_CODE_USED. After a
// payment the app shows the next step's code (at most 10 seconds later).
//
// Brute force. A guess must hit one of the 7 accepted one-time parts out of
// 10^8 for a code id: 7 in 100 million. Wrong codes for a code id are
// counted, and 5 in 15 minutes lock the code id for 15 minutes (so at most
// 480 guesses a day, each at 7e-8); comparisons use hmac.Equal. A lock can
// be provoked by a stranger who knows the code id; it only blocks payment
// codes for 15 minutes, and the customer can still pay by QR or dynamic
// password. Per-merchant limits at the POS bound guessing across code ids.
type PaymentCode struct {
	CodeID  string // 8 digits, names the wallet
	OneTime string // 8 digits, proves the secret and the time
}

// String returns the 18 digits.
func (c PaymentCode) String() string { return PaymentCodePrefix + c.CodeID + c.OneTime }

// ParsePaymentCode reads a scanned payment code: exactly 18 ASCII digits
// starting with PaymentCodePrefix. Anything else is PAYMENT_CODE_INVALID.
func ParsePaymentCode(s string) (PaymentCode, error) {
	if len(s) != PaymentCodeLen || !digits(s) {
		return PaymentCode{}, ErrPaymentCodeInvalid.WithMessage("a payment code is %d digits", PaymentCodeLen)
	}
	if s[:2] != PaymentCodePrefix {
		return PaymentCode{}, ErrPaymentCodeInvalid.WithMessage("not a paydesk payment code (it does not start with %s)", PaymentCodePrefix)
	}
	return PaymentCode{CodeID: s[2:10], OneTime: s[10:]}, nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// GeneratePaymentCode returns the payment code of the wallet with secret and
// codeID at time t. It needs no server: the phone runs it offline.
func GeneratePaymentCode(secret []byte, codeID string, t time.Time) (string, error) {
	if len(secret) == 0 || len(codeID) != 8 || !digits(codeID) {
		return "", fmt.Errorf("wallet: a payment code needs a secret and an 8-digit code id")
	}
	return PaymentCodePrefix + codeID + oneTime(secret, codeID, codeCounter(t)), nil
}

// codeCounter is the time step t falls in.
func codeCounter(t time.Time) int64 { return t.Unix() / int64(PaymentCodeStep/time.Second) }

// oneTime computes the 8-digit one-time part for counter.
func oneTime(secret []byte, codeID string, counter int64) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("paydesk-paycode-v1" + PaymentCodePrefix + codeID))
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(counter))
	m.Write(b[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%08d", v%100_000_000)
}

// PaymentCodeKey is what the wallet app needs to derive payment codes offline.
type PaymentCodeKey struct {
	CodeID string
	Secret []byte
	Step   time.Duration
}

// ProvisionPaymentCodes gives the wallet app a fresh payment-code secret.
// Each call replaces the secret, so only the device provisioned last can
// make codes: logging in on a new phone retires the old one's codes.
func (s *Service) ProvisionPaymentCodes(ctx context.Context, id WalletID) (PaymentCodeKey, error) {
	w, err := s.wallet(ctx, id)
	if err != nil {
		return PaymentCodeKey{}, err
	}
	secret, err := newCodeSecret()
	if err != nil {
		return PaymentCodeKey{}, err
	}
	if err := s.store.SetCodeSecret(ctx, id, secret); err != nil {
		return PaymentCodeKey{}, fmt.Errorf("wallet %d: provision payment codes: %w", id, err)
	}
	return PaymentCodeKey{CodeID: w.CodeID, Secret: secret, Step: PaymentCodeStep}, nil
}

func newCodeSecret() ([]byte, error) {
	b := make([]byte, codeSecretLen)
	_, err := rand.Read(b)
	return b, err
}

// PaymentCode returns the wallet's current payment code and when it stops
// being accepted, for an app that asks the server instead of deriving it.
func (s *Service) PaymentCode(ctx context.Context, id WalletID) (code string, expiresAt time.Time, err error) {
	w, err := s.wallet(ctx, id)
	if err != nil {
		return "", time.Time{}, err
	}
	now := s.clock()
	code, err = GeneratePaymentCode(w.CodeSecret, w.CodeID, now)
	if err != nil {
		return "", time.Time{}, err
	}
	step := int64(PaymentCodeStep / time.Second)
	return code, time.Unix((codeCounter(now)+codeStepsAfter+1)*step, 0).UTC(), nil
}

// ShownPaymentCode is the payment code a wallet app shows now.
type ShownPaymentCode struct {
	Code string
	// ExpiresAt is when the code stops being accepted.
	ExpiresAt time.Time
	// Used is true when this code paid already: none of the steps the
	// server accepts now is unspent (two payments in one step). NextAt
	// then says when a fresh one exists.
	Used bool
	// NextAt is when the server will hand out a different code: the app
	// asks again then (or at once after a payment).
	NextAt time.Time
}

// ShowPaymentCode returns the code to show: the current step's, or, once
// that one paid, the next step's, which is accepted already (a phone clock
// a step ahead is tolerated), so the code changes as soon as it is used.
func (s *Service) ShowPaymentCode(ctx context.Context, id WalletID) (ShownPaymentCode, error) {
	w, err := s.wallet(ctx, id)
	if err != nil {
		return ShownPaymentCode{}, err
	}
	now := s.clock()
	c := codeCounter(now)
	step := int64(PaymentCodeStep / time.Second)
	at := func(k int64) time.Time { return time.Unix(k*step, 0).UTC() }
	shown := ShownPaymentCode{Used: true}
	k := c
	for ; k <= c+codeStepsAhead; k++ {
		used, err := s.store.CodeUsed(ctx, id, kindPaymentCode, k)
		if err != nil {
			return ShownPaymentCode{}, fmt.Errorf("payment code: %w", err)
		}
		if !used {
			shown.Used = false
			break
		}
	}
	k = min(k, c+codeStepsAhead)
	if shown.Code, err = GeneratePaymentCode(w.CodeSecret, w.CodeID, at(k)); err != nil {
		return ShownPaymentCode{}, err
	}
	shown.ExpiresAt = at(k + codeStepsAfter + 1)
	shown.NextAt = at(c + 1)
	if shown.Used {
		shown.NextAt = at(c + 2) // the first step no payment spent yet is then accepted
	}
	return shown, nil
}

// ConsumePaymentCode checks a scanned payment code and spends it, returning
// the wallet it belongs to. The use commits here, on its own, so it must not
// run inside a transaction; a payment that wants the use to commit with it
// calls VerifyPaymentCode, then SpendCode inside its transaction.
func (s *Service) ConsumePaymentCode(ctx context.Context, code string) (WalletID, error) {
	if err := s.outsideTx(ctx, "ConsumePaymentCode"); err != nil {
		return 0, err
	}
	use, err := s.VerifyPaymentCode(ctx, code)
	if err != nil {
		return 0, err
	}
	if err := s.SpendCode(ctx, use); err != nil {
		return 0, err
	}
	return use.Wallet, nil
}

// CodeUse is a payment code that was checked and not yet spent.
type CodeUse struct {
	Wallet WalletID
	// NoPasswordLimit is the payer's limit above which the payment waits
	// for confirmation in the wallet app.
	NoPasswordLimit paydesk.Amount
	counter         int64
	at              time.Time
	// payer is the wallet as read to check the code: PreparePayment uses
	// it instead of reading the row again (two reads fewer per payment).
	payer Wallet
	// claimed is set once PreparePayment spent the code on its own, before
	// charging the card for the payment.
	claimed bool
}

// VerifyPaymentCode checks a scanned payment code without spending it.
// Refusals are PAYMENT_CODE_INVALID or _EXPIRED, or TOO_MANY_ATTEMPTS while
// the code id is locked after repeated wrong codes. A wrong code counts
// against its code id at once, outside any transaction. Whether the code
// was used already (PAYMENT_CODE_USED) is SpendCode's to say, by a unique
// key in the payment's transaction; when the payment would charge the bound
// card, PreparePayment spends it before the card is charged instead, so a
// used code never charges it.
func (s *Service) VerifyPaymentCode(ctx context.Context, code string) (CodeUse, error) {
	pc, err := ParsePaymentCode(code)
	if err != nil {
		return CodeUse{}, err
	}
	key := "paycode:" + pc.CodeID
	ahead := s.attempts.ReadAhead(key)
	w, err := s.store.WalletByCodeID(ctx, pc.CodeID, ahead)
	if errors.Is(err, ErrWalletNotFound) {
		return CodeUse{}, ErrPaymentCodeInvalid
	}
	if errors.Is(err, errSecretUnreadable) {
		// A wrong data key or a secret copied from another row: no code
		// can be checked, so none is valid.
		return CodeUse{}, fmt.Errorf("%w (%w)", ErrPaymentCodeInvalid, err)
	}
	if err != nil {
		return CodeUse{}, fmt.Errorf("verify payment code: %w", err)
	}
	// The attempt is claimed before the code is checked, so a burst of
	// guesses for one code id checks at most the rule's max of them per
	// instance (see storage.Attempts.ClaimCheck). A right code is no
	// guess, and only the secret's holder can produce an expired one:
	// neither counts, and either costs no more than the read of the code
	// id's attempts row that came with the wallet's, with no write and no
	// transaction.
	now := s.clock()
	c := codeCounter(now)
	got := []byte(pc.OneTime)
	match := func(k int64) bool { return hmac.Equal(got, []byte(oneTime(w.CodeSecret, pc.CodeID, k))) }
	var right, expired bool
	var counter int64
	_, err = s.attempts.ClaimCheckAhead(ctx, ahead, s.codeRule, func() bool {
		right, expired = false, false
		for k := c + codeStepsAhead; k >= c-codeStepsAfter; k-- {
			if match(k) {
				right, counter = true, k
				return true
			}
		}
		for k := c - codeStepsAfter - 1; k >= c-codeStepsExpired; k-- {
			if match(k) {
				expired = true
				return true
			}
		}
		return false
	})
	if err != nil {
		return CodeUse{}, err
	}
	if right {
		return CodeUse{Wallet: w.ID, NoPasswordLimit: w.NoPasswordLimit, counter: counter, at: now, payer: w}, nil
	}
	if expired {
		return CodeUse{}, ErrPaymentCodeExpired
	}
	if err := s.outsideTx(ctx, "VerifyPaymentCode"); err != nil {
		return CodeUse{}, err
	}
	locked, err := s.attempts.Failed(ctx, key, s.codeRule)
	if err != nil {
		return CodeUse{}, fmt.Errorf("verify payment code: %w", err)
	}
	if locked {
		return CodeUse{}, s.attempts.Check(ctx, key)
	}
	return CodeUse{}, ErrPaymentCodeInvalid
}

// SpendCode records that a verified code paid, inside the transaction in ctx
// if there is one, so that the code and the payment commit or roll back
// together. A second spend of the same code is ErrPaymentCodeUsed: of two
// payments racing with one code, exactly one gets through.
func (s *Service) SpendCode(ctx context.Context, u CodeUse) error {
	if u.claimed {
		return nil // spent by PreparePayment before it charged the card
	}
	err := s.store.UseCode(ctx, u.Wallet, kindPaymentCode, u.counter, u.at)
	if errors.Is(err, errCodeUsed) {
		return ErrPaymentCodeUsed
	}
	if err != nil {
		return fmt.Errorf("spend payment code: %w", err)
	}
	return nil
}
