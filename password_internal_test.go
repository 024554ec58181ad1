package paydesk

import "testing"

func FuzzParsePasswordHash(f *testing.F) {
	h, _ := NewPasswords(PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}).Hash("correct horse")
	f.Add(h)
	f.Add("$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5")
	f.Add("$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5")
	f.Add("$argon2id$v=19$m=64,t=1,p=257$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5")
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
