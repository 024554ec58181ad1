package wallet

import (
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

// Dynamic passwords are plain RFC 6238, so any authenticator agrees with them.
func TestDynamicPasswordIsRFC6238(t *testing.T) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "paydesk", AccountName: "13800138000"})
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Time{time.Unix(59, 0), time.Unix(1_111_111_109, 0), time.Date(2026, 11, 25, 10, 0, 29, 0, time.UTC)} {
		ours, err := totpCode(key.Secret(), totpCounter(at))
		if err != nil {
			t.Fatal(err)
		}
		if want, _ := totp.GenerateCode(key.Secret(), at); ours != want {
			t.Errorf("at %v: %s, the RFC 6238 code is %s", at, ours, want)
		}
	}
}
