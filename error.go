package paydesk

import (
	"errors"
	"fmt"
)

// Kind says which class of failure an error is. The HTTP layer maps kinds
// to statuses in one table; codes inside a kind are free to grow.
type Kind int

const (
	KindInternal      Kind = iota // a bug or an outage: never the caller's fault
	KindInvalid                   // the request itself is malformed or out of range
	KindNotFound                  // no such object in the caller's scope
	KindConflict                  // the object is in a state that forbids this
	KindUnprocessable             // well-formed, but the business rules refuse it
	KindUnauthorized              // no valid credentials
	KindForbidden                 // valid credentials, not allowed
	KindRateLimited               // too many attempts; try later
	KindUnavailable               // a dependency is down; retry is safe
)

// Error is a failure with a stable, machine-readable code that clients may
// switch on, and a human message that may change between releases.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	// RetryAfter, in seconds, for KindRateLimited and KindUnavailable
	// (where the HTTP layer says 1 when it is 0).
	RetryAfter int
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Is makes errors.Is match on the code, so sentinel errors stay comparable
// after a message has been specialised with WithMessage.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// WithMessage returns a copy of e with a more specific message.
func (e *Error) WithMessage(format string, args ...any) *Error {
	c := *e
	c.Message = fmt.Sprintf(format, args...)
	return &c
}

// Errorf builds a new coded error.
func Errorf(kind Kind, code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Generic codes used where nothing more specific fits.
var (
	ErrInvalid             = &Error{Kind: KindInvalid, Code: "INVALID_ARGUMENT", Message: "invalid argument"}
	ErrNotFound            = &Error{Kind: KindNotFound, Code: "NOT_FOUND", Message: "not found"}
	ErrConflict            = &Error{Kind: KindConflict, Code: "CONFLICT", Message: "conflict"}
	ErrUnauthorized        = &Error{Kind: KindUnauthorized, Code: "UNAUTHORIZED", Message: "authentication required"}
	ErrForbidden           = &Error{Kind: KindForbidden, Code: "FORBIDDEN", Message: "not allowed"}
	ErrInternal            = &Error{Kind: KindInternal, Code: "INTERNAL", Message: "internal error"}
	ErrUnavailable         = &Error{Kind: KindUnavailable, Code: "UNAVAILABLE", Message: "service unavailable, retry later"}
	ErrIdempotencyConflict = &Error{Kind: KindUnprocessable, Code: "IDEMPOTENCY_CONFLICT", Message: "the same key was used with a different request"}
	ErrAmountOverflow      = &Error{Kind: KindInvalid, Code: "AMOUNT_OVERFLOW", Message: "amount out of range"}
	ErrInvalidAmount       = &Error{Kind: KindInvalid, Code: "INVALID_AMOUNT", Message: "amount must be a positive whole number of minor units"}
	ErrCurrencyMismatch    = &Error{Kind: KindInvalid, Code: "CURRENCY_MISMATCH", Message: "currencies differ"}
)

// AsError returns the coded error inside err, or ErrInternal when err
// carries none. The caller decides whether to log the original.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return ErrInternal
}

// ErrorCode returns the stable code of err, "" for nil and INTERNAL for uncoded errors.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	return AsError(err).Code
}
