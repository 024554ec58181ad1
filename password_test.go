package paydesk_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/paydesk/paydesk"
)

func TestPasswordHashing(t *testing.T) {
	h, err := paydesk.HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$") || strings.Contains(h, "correct horse") {
		t.Fatalf("hash %q is not an argon2id PHC string", h)
	}
	if !paydesk.CheckPassword(h, "correct horse") {
		t.Error("the right password does not match")
	}
	if paydesk.CheckPassword(h, "correct horsE") {
		t.Error("a wrong password matches")
	}
	if h2, _ := paydesk.HashPassword("correct horse"); h2 == h {
		t.Error("two hashes of one password are equal: no salt")
	}
	for _, bad := range []string{"", "$argon2id$", "plain", strings.Replace(h, "m=19456", "m=99999999", 1)} {
		if paydesk.CheckPassword(bad, "correct horse") {
			t.Errorf("malformed hash %q matches", bad)
		}
	}
	if _, err := paydesk.HashPassword("short"); !errors.Is(err, paydesk.ErrWeakPassword) {
		t.Errorf("short password: %v", err)
	}
	if paydesk.CheckNoPassword("x") {
		t.Error("CheckNoPassword matched")
	}
}
