package wallet

import (
	"strings"
	"testing"
)

var cheap = PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}

func TestPasswordHashRoundTrip(t *testing.T) {
	h, err := hashPassword("correct horse", cheap)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q is not a PHC argon2id string", h)
	}
	if !verifyPassword("correct horse", h) {
		t.Fatal("the right password does not verify")
	}
	for _, wrong := range []string{"correct hors", "correct horse ", "", strings.Repeat("x", 1000)} {
		if verifyPassword(wrong, h) {
			t.Fatalf("%q verifies", wrong)
		}
	}
	if h2, _ := hashPassword("correct horse", cheap); h2 == h {
		t.Fatal("two hashes of one password share a salt")
	}
}

func FuzzParsePasswordHash(f *testing.F) {
	h, _ := hashPassword("correct horse", cheap)
	f.Add(h)
	f.Add("$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5")
	f.Add("$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5")
	f.Add("$bcrypt$")
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, ok := parsePasswordHash(s)
		if !ok {
			return
		}
		// Whatever parses must have bounded costs, so verifying it is cheap enough.
		if p.MemoryKiB > 1<<20 || p.Time > 16 || p.Threads > 16 || len(salt) < 8 || len(key) < 16 || len(key) > 64 {
			t.Fatalf("accepted %q with costs %+v", s, p)
		}
	})
}
