package bank_test

import (
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/bank"
)

func FuzzNormalizeCardNumber(f *testing.F) {
	for _, s := range []string{bank.SimCardOK, "4242 4242 4242 4242", "4242-4242", "", "x", "62000000000000051234", strings.Repeat("0", 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := bank.NormalizeCardNumber(s)
		if err != nil {
			if paydesk.ErrorCode(err) != "CARD_INVALID" {
				t.Fatalf("NormalizeCardNumber(%q): uncoded error %v", s, err)
			}
			return
		}
		if len(n) < 12 || len(n) > 19 || strings.Trim(n, "0123456789") != "" {
			t.Fatalf("NormalizeCardNumber(%q) = %q, not 12-19 digits", s, n)
		}
		if again, err := bank.NormalizeCardNumber(n); err != nil || again != n {
			t.Fatalf("normalizing %q again = %q, %v", n, again, err)
		}
	})
}

func FuzzVerifyCallback(f *testing.F) {
	secret := []byte("fuzz-secret")
	body, sig, _ := bank.SignCallback(secret, bank.Callback{ID: "cb1", Reference: "p-1", BankReference: "P1", Status: bank.PayoutPaid,
		Amount: 100, Currency: "CNY", At: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	f.Add(body, sig)
	f.Add([]byte(`{"id":"x"}`), sig)
	f.Add([]byte{}, "")
	f.Fuzz(func(t *testing.T, body []byte, sig string) {
		cb, err := bank.VerifyCallback(secret, body, sig)
		if err != nil {
			if paydesk.ErrorCode(err) != "BANK_CALLBACK_INVALID" {
				t.Fatalf("uncoded error %v", err)
			}
			return
		}
		if !cb.Status.Valid() || cb.ID == "" || cb.Amount <= 0 {
			t.Fatalf("accepted an incomplete callback %+v", cb)
		}
		// Whatever verifies must be re-signable to the same verified content.
		b2, s2, err := bank.SignCallback(secret, cb)
		if err != nil {
			t.Fatal(err)
		}
		if cb2, err := bank.VerifyCallback(secret, b2, s2); err != nil || cb2.Reference != cb.Reference || cb2.Status != cb.Status {
			t.Fatalf("re-signed callback = %+v, %v", cb2, err)
		}
	})
}
