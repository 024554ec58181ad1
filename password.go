package paydesk

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Password hashing is argon2id with OWASP's recommended minimum cost
// (19 MiB, 2 passes, 1 lane), written in the PHC string format so the cost
// can be raised later without invalidating stored hashes.
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonKeyLen    = 32
)

// ErrWeakPassword is returned for a password that is too short or too long.
var ErrWeakPassword = &Error{Kind: KindInvalid, Code: "WEAK_PASSWORD", Message: "a password needs 8 to 128 characters"}

// HashPassword returns an argon2id hash of pw for storage.
func HashPassword(pw string) (string, error) {
	if n := utf8.RuneCountInString(pw); n < 8 || n > 128 {
		return "", ErrWeakPassword
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemoryKiB, argonTime, argonThreads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// CheckPassword reports whether pw matches hash, in constant time. A
// malformed hash never matches.
func CheckPassword(hash, pw string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || m > 1<<20 || t == 0 || t > 10 || p == 0 {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[4])
	want, err2 := enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 || len(want) > 64 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is checked against when there is no account, so that a wrong
// phone number costs the same time as a wrong password.
var dummyHash, _ = HashPassword("paydesk-no-such-account")

// CheckNoPassword spends the time of one CheckPassword and returns false.
func CheckNoPassword(pw string) bool {
	CheckPassword(dummyHash, pw)
	return false
}
