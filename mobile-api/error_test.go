package mobileapi

import (
	"errors"
	"fmt"
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
		{"unavailable", paydesk.ErrUnavailable, 503, "UNAVAILABLE", "", ""},
		{"wrapped", fmt.Errorf("refund order 7: %w", paydesk.ErrConflict.WithMessage("order 7 is closed")), 409, "CONFLICT", "order 7 is closed", ""},
		{"uncoded", errors.New("dial tcp 10.0.0.7:3306: connection refused"), 500, "INTERNAL", "internal error", ""},
		{"coded internal", &paydesk.Error{Kind: paydesk.KindInternal, Code: "LEDGER_IMBALANCE", Message: "entries of transfer 9 sum to 3"}, 500, "LEDGER_IMBALANCE", "internal error", ""},
		{"unknown kind", &paydesk.Error{Kind: paydesk.Kind(99), Code: "ODD", Message: "odd internals"}, 500, "INTERNAL", "internal error", ""},
		{"http status", withStatus(http.StatusRequestEntityTooLarge, ErrBodyTooLarge), 413, "BODY_TOO_LARGE", "", ""},
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
			if tt.status == 500 {
				if len(failed) != 1 || !strings.Contains(fmt.Sprint(failed[0]["error"]), tt.err.Error()) {
					t.Fatalf("the real error of a 500 is not logged:\n%s", logs.String())
				}
			} else if len(failed) != 0 {
				t.Fatalf("a %d was logged as a failure:\n%s", tt.status, logs.String())
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
