package rbac_test

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/internal/testkit"
	"github.com/paydesk/paydesk/rbac"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

// newTestClock is the clock of the token tests, moved by hand.
func newTestClock() *testkit.Clock {
	return testkit.NewClock(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
}

var cashier = rbac.Principal{Kind: rbac.KindStaff, ID: 7, MerchantID: 3, StoreID: 5, Role: rbac.Cashier}

// signedFor signs claims with key under method, the way a forger would.
func signedFor(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validClaims(now time.Time) jwt.MapClaims {
	return jwt.MapClaims{"iss": "paydesk", "sub": "7", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
		"knd": "staff", "mid": 3, "sid": 5, "rol": "cashier"}
}

func TestAccessTokenVerifies(t *testing.T) {
	clock := newTestClock()
	tok := newTokens(t, nil, clock)
	s := signedFor(t, jwt.SigningMethodHS256, testSecret, validClaims(clock.Now()))
	p, err := tok.Verify(s)
	if err != nil || p != cashier {
		t.Fatalf("Verify = %+v, %v; want %+v", p, err, cashier)
	}
}

func TestAccessTokenRefusals(t *testing.T) {
	clock := newTestClock()
	tok := newTokens(t, nil, clock)
	now := clock.Now()
	with := func(k string, v any) jwt.MapClaims {
		c := validClaims(now)
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	good := signedFor(t, jwt.SigningMethodHS256, testSecret, validClaims(now))
	parts := strings.Split(good, ".")
	ownerPayload := base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"paydesk","sub":"7","iat":` + strconv.FormatInt(now.Unix(), 10) +
		`,"exp":` + strconv.FormatInt(now.Add(time.Minute).Unix(), 10) + `,"knd":"staff","mid":3,"rol":"owner"}`))
	noneToken, _ := jwt.NewWithClaims(jwt.SigningMethodNone, validClaims(now)).SignedString(jwt.UnsafeAllowNoneSignatureType)

	tests := map[string]struct {
		token string
		want  error
	}{
		"empty":                    {"", rbac.ErrTokenInvalid},
		"garbage":                  {"not.a.jwt", rbac.ErrTokenInvalid},
		"alg none":                 {noneToken, rbac.ErrTokenInvalid},
		"alg none, no signature":   {base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + ".", rbac.ErrTokenInvalid},
		"HS512 with our secret":    {signedFor(t, jwt.SigningMethodHS512, testSecret, validClaims(now)), rbac.ErrTokenInvalid},
		"another secret":           {signedFor(t, jwt.SigningMethodHS256, []byte("another secret, also 32 bytes!!!"), validClaims(now)), rbac.ErrTokenInvalid},
		"payload raised to owner":  {parts[0] + "." + ownerPayload + "." + parts[2], rbac.ErrTokenInvalid},
		"signature flipped":        {parts[0] + "." + parts[1] + "." + flip(parts[2]), rbac.ErrTokenInvalid},
		"signature dropped":        {parts[0] + "." + parts[1] + ".", rbac.ErrTokenInvalid},
		"no exp":                   {signedFor(t, jwt.SigningMethodHS256, testSecret, with("exp", nil)), rbac.ErrTokenInvalid},
		"no iat":                   {signedFor(t, jwt.SigningMethodHS256, testSecret, with("iat", nil)), rbac.ErrTokenInvalid},
		"issued in the future":     {signedFor(t, jwt.SigningMethodHS256, testSecret, with("iat", now.Add(time.Hour).Unix())), rbac.ErrTokenInvalid},
		"other issuer":             {signedFor(t, jwt.SigningMethodHS256, testSecret, with("iss", "elsewhere")), rbac.ErrTokenInvalid},
		"no issuer":                {signedFor(t, jwt.SigningMethodHS256, testSecret, with("iss", nil)), rbac.ErrTokenInvalid},
		"subject not a number":     {signedFor(t, jwt.SigningMethodHS256, testSecret, with("sub", "seven")), rbac.ErrTokenInvalid},
		"cashier without store":    {signedFor(t, jwt.SigningMethodHS256, testSecret, with("sid", nil)), rbac.ErrTokenInvalid},
		"unknown role":             {signedFor(t, jwt.SigningMethodHS256, testSecret, with("rol", "root")), rbac.ErrTokenInvalid},
		"expired":                  {signedFor(t, jwt.SigningMethodHS256, testSecret, with("exp", now.Add(-time.Minute).Unix())), rbac.ErrTokenExpired},
		"expired and forged":       {signedFor(t, jwt.SigningMethodHS256, []byte("another secret, also 32 bytes!!!"), with("exp", now.Add(-time.Minute).Unix())), rbac.ErrTokenInvalid},
		"expired beyond the skew":  {signedFor(t, jwt.SigningMethodHS256, testSecret, with("exp", now.Add(-6*time.Second).Unix())), rbac.ErrTokenExpired},
		"expired, within the skew": {signedFor(t, jwt.SigningMethodHS256, testSecret, with("exp", now.Add(-2*time.Second).Unix())), nil},
	}
	for name, tt := range tests {
		_, err := tok.Verify(tt.token)
		if tt.want == nil {
			if err != nil {
				t.Errorf("%s: %v, want success", name, err)
			}
			continue
		}
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tt.want)
		}
		if e := paydesk.AsError(err); e.Kind != paydesk.KindUnauthorized {
			t.Errorf("%s: kind %v, want KindUnauthorized", name, e.Kind)
		}
	}
}

func TestNewTokensRefusesAShortSecret(t *testing.T) {
	if _, err := rbac.NewTokens(nil, []byte("short"), nil, rbac.TokenOptions{}); err == nil {
		t.Fatal("a 5-byte secret was accepted")
	}
}

// FuzzVerify: whatever arrives in an Authorization header, Verify neither
// panics nor answers anything but a principal or one of its two codes.
func FuzzVerify(f *testing.F) {
	clock := newTestClock()
	tok, err := rbac.NewTokens(nil, testSecret, clock.Now, rbac.TokenOptions{})
	if err != nil {
		f.Fatal(err)
	}
	good, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, validClaims(clock.Now())).SignedString(testSecret)
	for _, s := range []string{good, "", ".", "..", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", good + "x", strings.Repeat("A", 1000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := tok.Verify(s)
		if err == nil {
			if p.Validate() != nil {
				t.Fatalf("Verify(%q) accepted an invalid principal %+v", s, p)
			}
			return
		}
		if !errors.Is(err, rbac.ErrTokenInvalid) && !errors.Is(err, rbac.ErrTokenExpired) {
			t.Fatalf("Verify(%q): uncoded error %v", s, err)
		}
	})
}

func flip(s string) string {
	b := []byte(s)
	if b[0] == 'A' {
		b[0] = 'B'
	} else {
		b[0] = 'A'
	}
	return string(b)
}
