package mobileapi

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/paydesk/paydesk"
)

func TestWriteError(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		status     int
		code       string
		message    string // "" means the error's own
		retryAfter string
	}{
		{"invalid", paydesk.ErrInvalidAmount, 400, "INVALID_AMOUNT", "", ""},
		{"not found", paydesk.ErrNotFound, 404, "NOT_FOUND", "", ""},
		{"conflict", paydesk.ErrConflict, 409, "CONFLICT", "", ""},
		{"unprocessable", paydesk.ErrIdempotencyConflict, 422, "IDEMPOTENCY_CONFLICT", "", ""},
		{"unauthorized", paydesk.ErrUnauthorized, 401, "UNAUTHORIZED", "", ""},
		{"forbidden", paydesk.ErrForbidden, 403, "FORBIDDEN", "", ""},
		{"rate limited", &paydesk.Error{Kind: paydesk.KindRateLimited, Code: "TOO_MANY_ATTEMPTS", Message: "slow down", RetryAfter: 900}, 429, "TOO_MANY_ATTEMPTS", "", "900"},
		{"unavailable", paydesk.ErrUnavailable, 503, "UNAVAILABLE", "", "1"},
		{"wrapped", fmt.Errorf("refund order 7: %w", paydesk.ErrConflict.WithMessage("order 7 is closed")), 409, "CONFLICT", "order 7 is closed", ""},
		{"uncoded", errors.New("dial tcp 10.0.0.7:3306: connection refused"), 500, "INTERNAL", "internal error", ""},
		{"coded internal", &paydesk.Error{Kind: paydesk.KindInternal, Code: "LEDGER_IMBALANCE", Message: "entries of transfer 9 sum to 3"}, 500, "LEDGER_IMBALANCE", "internal error", ""},
		{"unknown kind", &paydesk.Error{Kind: paydesk.Kind(99), Code: "ODD", Message: "odd internals"}, 500, "INTERNAL", "internal error", ""},
		{"http status", withStatus(http.StatusRequestEntityTooLarge, ErrBodyTooLarge), 413, "BODY_TOO_LARGE", "", ""},
		// A database that failed or cannot be reached is no one's fault, and over soon.
		{"database down", fmt.Errorf("read order: %w", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}), 503, "UNAVAILABLE", paydesk.ErrUnavailable.Message, "1"},
		{"connection lost", fmt.Errorf("read order: %w", driver.ErrBadConn), 503, "UNAVAILABLE", paydesk.ErrUnavailable.Message, "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, logs := newTestServer(t, Config{})
			s.V1().GET("/fail", func(c *gin.Context) { writeError(c, tt.err) })
			rec := serve(s.Handler(), "GET", "/v1/fail", nil, nil)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d", rec.Code, tt.status)
			}
			e := envelope(t, rec)
			want := tt.message
			if want == "" {
				want = paydesk.AsError(tt.err).Message
			}
			if e.Code != tt.code || e.Message != want {
				t.Fatalf("envelope %+v, want code %q message %q", e, tt.code, want)
			}
			if got := rec.Header().Get("Retry-After"); got != tt.retryAfter {
				t.Fatalf("Retry-After %q, want %q", got, tt.retryAfter)
			}
			failed := logs.lines(t, "request failed")
			if tt.status == 500 || tt.name == "database down" || tt.name == "connection lost" {
				if len(failed) != 1 || !strings.Contains(fmt.Sprint(failed[0]["error"]), tt.err.Error()) {
					t.Fatalf("the real error of a 500 is not logged:\n%s", logs.String())
				}
			} else if len(failed) != 0 {
				t.Fatalf("a %d was logged as a failure:\n%s", tt.status, logs.String())
			}
		})
	}
}

// TestMoneyRoutesNeverAnswer500: on a route that takes an Idempotency-Key
// every fault of the server's, a bug or a panic included, is 503
// UNAVAILABLE with Retry-After and the retry advice, logged as a failure;
// refusals keep their own status and code.
func TestMoneyRoutesNeverAnswer500(t *testing.T) {
	for _, tt := range []struct {
		name   string
		fail   func(c *gin.Context)
		status int
		code   string
	}{
		{"uncoded", func(c *gin.Context) { writeError(c, errors.New("ledger: post pay:1:x: invalid connection")) }, 503, "UNAVAILABLE"},
		{"coded internal", func(c *gin.Context) {
			writeError(c, &paydesk.Error{Kind: paydesk.KindInternal, Code: "LEDGER_NESTED_POST", Message: "internals"})
		}, 503, "UNAVAILABLE"},
		{"panic", func(c *gin.Context) { panic("internals") }, 503, "UNAVAILABLE"},
		{"refusal", func(c *gin.Context) { writeError(c, paydesk.ErrIdempotencyConflict) }, 422, "IDEMPOTENCY_CONFLICT"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, logs := newTestServer(t, Config{})
			s.V1().POST("/pay", s.idempotent, tt.fail)
			rec := serve(s.Handler(), "POST", "/v1/pay", nil, nil)
			e := envelope(t, rec)
			if rec.Code != tt.status || e.Code != tt.code {
				t.Fatalf("%d %+v, want %d %s", rec.Code, e, tt.status, tt.code)
			}
			if tt.status != 503 {
				return
			}
			if e.Message != ErrRetrySafe.Message || rec.Header().Get("Retry-After") != "1" {
				t.Fatalf("%+v with Retry-After %q, want the retry advice and 1", e, rec.Header().Get("Retry-After"))
			}
			if strings.Contains(rec.Body.String(), "internals") || strings.Contains(rec.Body.String(), "invalid connection") {
				t.Fatalf("the answer leaks the cause: %s", rec.Body)
			}
			if len(logs.lines(t, "request failed"))+len(logs.lines(t, "panic serving request")) != 1 {
				t.Fatalf("the fault is not logged once:\n%s", logs)
			}
		})
	}
}

// Every kind has a status, so no coded error silently becomes a 500.
func TestKindStatusComplete(t *testing.T) {
	for k := paydesk.KindInternal; k <= paydesk.KindUnavailable; k++ {
		if _, ok := kindStatus[k]; !ok {
			t.Errorf("kind %d has no HTTP status", k)
		}
	}
}
