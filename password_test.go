package paydesk_test

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/paydesk/paydesk"
)

// cheap costs keep tests fast; production uses DefaultPasswordParams.
var cheap = paydesk.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}

func TestPasswordHashing(t *testing.T) {
	pws := paydesk.NewPasswords(paydesk.DefaultPasswordParams)
	h, err := pws.Hash("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$") || strings.Contains(h, "correct horse") {
		t.Fatalf("hash %q is not an argon2id PHC string", h)
	}
	if !pws.Check(h, "correct horse") {
		t.Error("the right password does not match")
	}
	if pws.Check(h, "correct horsE") {
		t.Error("a wrong password matches")
	}
	if h2, _ := pws.Hash("correct horse"); h2 == h {
		t.Error("two hashes of one password are equal: no salt")
	}
	for _, bad := range []string{"", "$argon2id$", "plain", strings.Replace(h, "m=19456", "m=99999999", 1)} {
		if pws.Check(bad, "correct horse") {
			t.Errorf("malformed hash %q matches", bad)
		}
	}
	if _, err := pws.Hash("short"); !errors.Is(err, paydesk.ErrWeakPassword) {
		t.Errorf("short password: %v", err)
	}
	if pws.CheckNone("x") {
		t.Error("CheckNone matched")
	}
}

func TestPasswordHashRoundTrip(t *testing.T) {
	pws := paydesk.NewPasswords(cheap)
	h, err := pws.Hash("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q is not a PHC argon2id string", h)
	}
	if !pws.Check(h, "correct horse") {
		t.Fatal("the right password does not verify")
	}
	for _, wrong := range []string{"correct hors", "correct horse ", "", strings.Repeat("x", 1000)} {
		if pws.Check(h, wrong) {
			t.Fatalf("%q verifies", wrong)
		}
	}
	if h2, _ := pws.Hash("correct horse"); h2 == h {
		t.Fatal("two hashes of one password share a salt")
	}
	// A hash carries its costs, so Passwords with other costs checks it too.
	if !paydesk.NewPasswords(paydesk.PasswordParams{}).Check(h, "correct horse") {
		t.Fatal("a cheap hash does not verify under the default costs")
	}
}

func TestPasswordLengthInCharacters(t *testing.T) {
	pws := paydesk.NewPasswords(cheap)
	for _, tt := range []struct {
		pw   string
		weak bool
	}{
		{"1234567", true},
		{"12345678", false},
		{"密码密码密码密码", false}, // 8 characters, 24 bytes
		{"密码密码密码密", true},
		{strings.Repeat("x", 128), false},
		{strings.Repeat("x", 129), true},
		{strings.Repeat("密", 128), false},
	} {
		h, err := pws.Hash(tt.pw)
		if weak := errors.Is(err, paydesk.ErrWeakPassword); weak != tt.weak || (!weak && err != nil) {
			t.Errorf("Hash of %d characters: %v", len([]rune(tt.pw)), err)
			continue
		}
		if !tt.weak && !pws.Check(h, tt.pw) {
			t.Errorf("password of %d characters does not verify", len([]rune(tt.pw)))
		}
	}
}

func TestPasswordCostsOutOfBounds(t *testing.T) {
	// Hashing with costs that Check would refuse would lock the account
	// out for good, so Hash refuses them first.
	for _, p := range []paydesk.PasswordParams{
		{MemoryKiB: 4, Time: 1, Threads: 1},
		{MemoryKiB: 1<<20 + 1, Time: 1, Threads: 1},
		{MemoryKiB: 64, Time: 17, Threads: 1},
		{MemoryKiB: 64, Time: 1, Threads: 17},
		{MemoryKiB: 64, Time: 1, Threads: 9}, // less than 8 KiB per lane
	} {
		if h, err := paydesk.NewPasswords(p).Hash("correct horse"); err == nil || errors.Is(err, paydesk.ErrWeakPassword) {
			t.Errorf("costs %+v: hash %q, %v", p, h, err)
		}
	}
}

func TestCheckNoneUsesTheGivenCosts(t *testing.T) {
	pws := paydesk.NewPasswords(cheap)
	for range 2 {
		if pws.CheckNone("correct horse") {
			t.Fatal("CheckNone matched")
		}
	}
}

// A burst of logins queues for the hashing slots instead of allocating a
// hash's memory each at once; every one still gets its right answer.
func TestPasswordBurst(t *testing.T) {
	pws := paydesk.NewPasswords(paydesk.PasswordParams{MemoryKiB: 1024, Time: 1, Threads: 1})
	h, err := pws.Hash("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			pw := "correct horse"
			if i%2 == 1 {
				pw = "wrong horse!"
			}
			if got := pws.Check(h, pw); got != (i%2 == 0) {
				t.Errorf("check %d: %v", i, got)
			}
		})
	}
	wg.Wait()
}
