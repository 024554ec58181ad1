package mobileapi

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/storage"
)

// kindStatus is the one table from error kind to HTTP status.
var kindStatus = map[paydesk.Kind]int{
	paydesk.KindInternal:      http.StatusInternalServerError,
	paydesk.KindInvalid:       http.StatusBadRequest,
	paydesk.KindNotFound:      http.StatusNotFound,
	paydesk.KindConflict:      http.StatusConflict,
	paydesk.KindUnprocessable: http.StatusUnprocessableEntity,
	paydesk.KindUnauthorized:  http.StatusUnauthorized,
	paydesk.KindForbidden:     http.StatusForbidden,
	paydesk.KindRateLimited:   http.StatusTooManyRequests,
	paydesk.KindUnavailable:   http.StatusServiceUnavailable,
}

// Errors that only exist at the HTTP layer.
var (
	ErrMethodNotAllowed     = paydesk.Errorf(paydesk.KindInvalid, "METHOD_NOT_ALLOWED", "method not allowed on this path")
	ErrBodyTooLarge         = paydesk.Errorf(paydesk.KindInvalid, "BODY_TOO_LARGE", "request body is larger than %d bytes", maxBodyBytes)
	ErrUnsupportedMediaType = paydesk.Errorf(paydesk.KindInvalid, "UNSUPPORTED_MEDIA_TYPE", "request body must be application/json")
	ErrMalformedJSON        = paydesk.Errorf(paydesk.KindInvalid, "MALFORMED_JSON", "request body is not valid JSON")
	ErrUnknownField         = paydesk.Errorf(paydesk.KindInvalid, "UNKNOWN_FIELD", "request body has an unknown field")
	ErrInvalidFieldType     = paydesk.Errorf(paydesk.KindInvalid, "INVALID_FIELD_TYPE", "a field of the request body has the wrong type")
)

// ErrRetrySafe answers a money-moving request (one that takes an
// Idempotency-Key) that failed through a fault of the server's: the
// database failed or could not be reached, or a bug. It is never a 500:
// a cashier told "error" may take the money another way, and the
// customer pays twice. The request, sent again with the same numbers
// (out_trade_no, request_no, Idempotency-Key), is safe: it is carried out
// at most once, and one that did go through is answered as it went.
var ErrRetrySafe = paydesk.ErrUnavailable.WithMessage("the server could not finish this request; send it again with the same out_trade_no, request_no or Idempotency-Key: it is never carried out twice")

// ctxRetrySafe marks a request whose retry with the same numbers is safe
// (see ErrRetrySafe); s.idempotent sets it.
const ctxRetrySafe = "paydesk.retry_safe"

// retrySafe reports whether c is a money-moving request.
func retrySafe(c *gin.Context) bool { return c.GetBool(ctxRetrySafe) }

// defaultRetryAfter is the Retry-After, in seconds, of a 503 whose error
// names none: a database connection that died is replaced at once.
const defaultRetryAfter = 1

// statusError gives a coded error an HTTP status that no domain kind has
// (405, 413, 415). Only this package creates them; domain errors go through
// kindStatus.
type statusError struct {
	status int
	err    *paydesk.Error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

// withStatus wraps e so that writeError answers status instead of its kind's.
func withStatus(status int, e *paydesk.Error) error { return &statusError{status: status, err: e} }

// errorBody is the envelope of every error response (SPEC §7).
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id"`
}

// ctxErrorCode is where writeError leaves the code for the access log.
const ctxErrorCode = "paydesk.error_code"

// writeError answers err as the JSON error envelope and aborts the chain.
// Coded errors keep their code and message; anything else is a 500 INTERNAL
// whose real cause is logged and never sent. Two kinds of faults are a 503
// UNAVAILABLE with Retry-After instead: a database that failed or could
// not be reached (storage.IsUnavailable), on any route; and every fault at
// all on a money-moving route (ErrRetrySafe), so that no payment path
// answers 500.
func writeError(c *gin.Context, err error) {
	e := paydesk.AsError(err)
	status, ok := kindStatus[e.Kind]
	if !ok {
		status = http.StatusInternalServerError
	}
	var se *statusError
	if errors.As(err, &se) {
		status = se.status
	}
	switch {
	case status == http.StatusInternalServerError && (retrySafe(c) || storage.IsUnavailable(err)):
		// Logged as a failure all the same: something needs looking at.
		requestLogger(c).LogAttrs(c.Request.Context(), levelOf(err), "request failed",
			slog.String("route", routeLabel(c)), slog.Int("status", http.StatusServiceUnavailable), slog.Any("error", err))
		if retrySafe(c) {
			e = ErrRetrySafe
		} else {
			e = paydesk.ErrUnavailable
		}
		status = http.StatusServiceUnavailable
	case status == http.StatusInternalServerError:
		requestLogger(c).LogAttrs(c.Request.Context(), slog.LevelError, "request failed",
			slog.String("route", routeLabel(c)), slog.Any("error", err))
		// The code of a coded internal error is stable and safe to show; its
		// message, like any uncoded error, may carry internals and is not.
		code := paydesk.ErrInternal.Code
		if ok && e.Kind == paydesk.KindInternal {
			code = e.Code
		}
		e = &paydesk.Error{Kind: paydesk.KindInternal, Code: code, Message: paydesk.ErrInternal.Message}
	case e.Kind == paydesk.KindUnavailable:
		// The answer names no cause; the log does.
		requestLogger(c).LogAttrs(c.Request.Context(), slog.LevelWarn, "request unavailable",
			slog.String("route", routeLabel(c)), slog.String("code", e.Code), slog.Any("error", err))
	}
	writeEnvelope(c, status, e)
}

// levelOf is the log level of a fault answered 503: a warning when the
// database failed (it happens, and the answer says what to do), an error
// for anything else (a bug).
func levelOf(err error) slog.Level {
	if storage.IsUnavailable(err) {
		return slog.LevelWarn
	}
	return slog.LevelError
}

// writeEnvelope answers e with status and aborts the chain.
func writeEnvelope(c *gin.Context, status int, e *paydesk.Error) {
	switch {
	case e.RetryAfter > 0:
		c.Header("Retry-After", strconv.Itoa(e.RetryAfter))
	case status == http.StatusServiceUnavailable:
		c.Header("Retry-After", strconv.Itoa(defaultRetryAfter))
	}
	c.Set(ctxErrorCode, e.Code)
	c.AbortWithStatusJSON(status, errorBody{Error: errorDetail{
		Code:      e.Code,
		Message:   e.Message,
		RequestID: RequestID(c),
	}})
}

func noRoute(c *gin.Context) {
	writeError(c, paydesk.ErrNotFound.WithMessage("no endpoint %s %s", c.Request.Method, truncate(c.Request.URL.Path, 128)))
}

func noMethod(c *gin.Context) {
	// gin has already set the Allow header listing the methods that exist.
	writeError(c, withStatus(http.StatusMethodNotAllowed,
		ErrMethodNotAllowed.WithMessage("method %s is not allowed here; allowed: %s", c.Request.Method, c.Writer.Header().Get("Allow"))))
}

// truncate cuts s to at most n bytes, so a hostile path cannot bloat a response.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
