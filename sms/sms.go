// Package sms proves that a caller holds a phone: it sends a one-time code
// to the number through a Channel and checks the code the caller types
// back. The built-in channel, Dev, only logs the codes and keeps the last
// one per phone, the way the bank simulator stands in for a bank: fine for
// development and tests, and refused in production, where an operator
// must plug in a real SMS gateway.
package sms

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"time"

	"github.com/paydesk/paydesk"
)

// Channel delivers a text message to a phone number.
type Channel interface {
	Send(ctx context.Context, phone, text string) error
}

// Purpose says what a code confirms; a code for one purpose never
// confirms another.
type Purpose string

// PurposeRegister confirms the phone of a new wallet.
const PurposeRegister Purpose = "register"

// Errors.
var (
	ErrCodeWrong     = &paydesk.Error{Kind: paydesk.KindUnprocessable, Code: "PHONE_CODE_WRONG", Message: "the confirmation code is wrong or has expired; ask for a new one"}
	ErrCodeTooSoon   = &paydesk.Error{Kind: paydesk.KindRateLimited, Code: "PHONE_CODE_TOO_SOON", Message: "a code was sent to this phone a moment ago; wait before asking again"}
	ErrNoChannel     = &paydesk.Error{Kind: paydesk.KindUnavailable, Code: "SMS_UNAVAILABLE", Message: "phone numbers cannot be confirmed: this server has no SMS channel configured (PAYDESK_SMS)"}
	ErrCodeMalformed = paydesk.Errorf(paydesk.KindInvalid, "INVALID_PHONE_CODE", "code must be the 6 digits sent to the phone")
)

// Rules of the codes.
const (
	CodeLifetime = 5 * time.Minute
	// Resend is the shortest time between two codes to one phone.
	Resend = time.Minute
	// MaxFailures wrong codes spend the code; the caller asks for another.
	MaxFailures = 5
	codeDigits  = 6
)

// Code is a code as stored: only its hash.
type Code struct {
	Phone     string
	Purpose   Purpose
	Hash      string
	Failures  int
	SentAt    time.Time
	ExpiresAt time.Time
}

// Store keeps the live codes.
type Store interface {
	// Code returns the code of (phone, purpose); found is false without one.
	Code(ctx context.Context, phone string, p Purpose) (c Code, found bool, err error)
	// Put stores c in place of any code of its (phone, purpose).
	Put(ctx context.Context, c Code) error
	// Fail counts a wrong try of the code with hash h, if it is still the
	// live one.
	Fail(ctx context.Context, phone string, p Purpose, h string) error
	// Spend deletes the code with hash h and reports whether it was there:
	// of two concurrent uses, one spends it.
	Spend(ctx context.Context, phone string, p Purpose, h string) (bool, error)
}

// Confirmer sends codes and checks them.
type Confirmer struct {
	store   Store
	channel Channel
	clock   paydesk.Clock
}

// NewConfirmer returns a Confirmer sending through channel; a nil channel
// refuses every request with ErrNoChannel (production without a gateway).
func NewConfirmer(store Store, channel Channel, clock paydesk.Clock) *Confirmer {
	if clock == nil {
		clock = paydesk.SystemClock
	}
	return &Confirmer{store: store, channel: channel, clock: clock}
}

// Send sends a fresh code for p to phone, replacing any earlier one, at
// most once per Resend (ErrCodeTooSoon with RetryAfter). It returns the
// normalised phone.
func (c *Confirmer) Send(ctx context.Context, phone string, p Purpose) (string, error) {
	if c.channel == nil {
		return "", ErrNoChannel
	}
	norm, err := paydesk.NormalizePhone(phone)
	if err != nil {
		return "", err
	}
	now := c.clock()
	old, found, err := c.store.Code(ctx, norm, p)
	if err != nil {
		return "", fmt.Errorf("send code: %w", err)
	}
	if found {
		if wait := old.SentAt.Add(Resend).Sub(now); wait > 0 {
			e := *ErrCodeTooSoon
			e.RetryAfter = int((wait + time.Second - 1) / time.Second)
			return "", &e
		}
	}
	code, err := newCode()
	if err != nil {
		return "", err
	}
	if err := c.store.Put(ctx, Code{Phone: norm, Purpose: p, Hash: hash(norm, p, code), SentAt: now, ExpiresAt: now.Add(CodeLifetime)}); err != nil {
		return "", fmt.Errorf("send code: %w", err)
	}
	text := fmt.Sprintf("paydesk: your code is %s. It expires in %d minutes. Nobody from paydesk will ask you for it.", code, int(CodeLifetime/time.Minute))
	if err := c.channel.Send(ctx, norm, text); err != nil {
		return "", fmt.Errorf("send code to %s: %w", norm, err)
	}
	return norm, nil
}

// Confirm checks code for (phone, p) and spends it. A wrong code counts
// against it; after MaxFailures, or past its lifetime, it is gone and
// every try is ErrCodeWrong.
func (c *Confirmer) Confirm(ctx context.Context, phone string, p Purpose, code string) error {
	if c.channel == nil {
		return ErrNoChannel
	}
	norm, err := paydesk.NormalizePhone(phone)
	if err != nil {
		return err
	}
	if len(code) != codeDigits || !digits(code) {
		return ErrCodeMalformed
	}
	live, found, err := c.store.Code(ctx, norm, p)
	if err != nil {
		return fmt.Errorf("confirm code: %w", err)
	}
	if !found || !c.clock().Before(live.ExpiresAt) || live.Failures >= MaxFailures {
		return ErrCodeWrong
	}
	if subtle.ConstantTimeCompare([]byte(hash(norm, p, code)), []byte(live.Hash)) != 1 {
		if err := c.store.Fail(ctx, norm, p, live.Hash); err != nil {
			return fmt.Errorf("confirm code: %w", err)
		}
		return ErrCodeWrong
	}
	spent, err := c.store.Spend(ctx, norm, p, live.Hash)
	if err != nil {
		return fmt.Errorf("confirm code: %w", err)
	}
	if !spent {
		return ErrCodeWrong // used a moment ago by a concurrent request
	}
	return nil
}

func hash(phone string, p Purpose, code string) string {
	h := sha256.Sum256([]byte(string(p) + "\x00" + phone + "\x00" + code))
	return hex.EncodeToString(h[:])
}

func newCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Dev is the development channel: it sends nothing, logs each message
// (codes included: never use it in production) and keeps the last code per
// phone for LastCode, which tests and the dev-mode API's dev_code read.
type Dev struct {
	log  *slog.Logger
	mu   sync.Mutex
	last map[string]string
}

// NewDev returns a Dev channel logging to log (nil discards).
func NewDev(log *slog.Logger) *Dev {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Dev{log: log, last: map[string]string{}}
}

// Send implements Channel.
func (d *Dev) Send(_ context.Context, phone, text string) error {
	code := ""
	for i := 0; i+codeDigits <= len(text); i++ {
		if digits(text[i:i+codeDigits]) && (i+codeDigits == len(text) || !digits(text[i+codeDigits:i+codeDigits+1])) {
			code = text[i : i+codeDigits]
			break
		}
	}
	if code == "" {
		return errors.New("sms dev channel: no code in the message")
	}
	d.mu.Lock()
	d.last[phone] = code
	d.mu.Unlock()
	d.log.Warn("dev SMS channel: not sent, shown here instead", "phone", phone, "code", code)
	return nil
}

// LastCode returns the last code sent to phone (normalised), or "".
func (d *Dev) LastCode(phone string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.last[phone]
}
