package rbac_test

import (
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/paydesk/paydesk/rbac"
)

// TestAccessTokenExpiry: Expiry answers a valid token's expiry, and refuses
// what Verify refuses, with the same codes.
func TestAccessTokenExpiry(t *testing.T) {
	clock := newTestClock()
	tok := newTokens(t, nil, clock)
	s := signedFor(t, jwt.SigningMethodHS256, testSecret, validClaims(clock.Now()))
	if exp, err := tok.Expiry(s); err != nil || !exp.Equal(clock.Now().Add(time.Minute)) {
		t.Fatalf("Expiry = %v, %v; want %v", exp, err, clock.Now().Add(time.Minute))
	}
	if _, err := tok.Expiry(flip(s)); !errors.Is(err, rbac.ErrTokenInvalid) {
		t.Fatalf("Expiry of a forged token = %v, want TOKEN_INVALID", err)
	}
	clock.Advance(2 * time.Minute)
	if _, err := tok.Expiry(s); !errors.Is(err, rbac.ErrTokenExpired) {
		t.Fatalf("Expiry after the expiry = %v, want TOKEN_EXPIRED", err)
	}
}
