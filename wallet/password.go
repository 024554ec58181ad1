package wallet

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// PasswordParams are the argon2id costs. The defaults are OWASP's second
// recommended setting (19 MiB, 2 passes, 1 lane): strong, yet a burst of
// logins cannot eat the machine's memory the way 64 MiB per hash would.
type PasswordParams struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// DefaultPasswordParams is the production setting.
var DefaultPasswordParams = PasswordParams{MemoryKiB: 19 * 1024, Time: 2, Threads: 1}

func (p PasswordParams) orDefault() PasswordParams {
	if p.MemoryKiB == 0 || p.Time == 0 || p.Threads == 0 {
		return DefaultPasswordParams
	}
	return p
}

const (
	minPasswordLen = 8
	maxPasswordLen = 128 // bounds the hashing work an attacker can ask for
	saltLen        = 16
	keyLen         = 32
)

func checkPassword(pw string) error {
	if len(pw) < minPasswordLen || len(pw) > maxPasswordLen {
		return ErrWeakPassword
	}
	return nil
}

// hashPassword returns pw hashed with a fresh salt in the PHC string format
// ($argon2id$v=19$m=...,t=...,p=...$salt$key), which carries its own costs
// so they can be raised later without breaking stored hashes.
func hashPassword(pw string, p PasswordParams) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.MemoryKiB, p.Threads, keyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// verifyPassword reports whether pw matches the encoded hash, comparing in
// constant time. A malformed hash never matches.
func verifyPassword(pw, encoded string) bool {
	p, salt, key, ok := parsePasswordHash(encoded)
	if !ok || len(pw) > maxPasswordLen {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1
}

// parsePasswordHash reads a PHC argon2id string, refusing costs outside sane
// bounds so a corrupted row cannot make one login allocate gigabytes.
func parsePasswordHash(s string) (p PasswordParams, salt, key []byte, ok bool) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, false
	}
	var m, t, th uint32
	// Printing the costs back must give the same text, so nothing trails them.
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &th); err != nil || fmt.Sprintf("m=%d,t=%d,p=%d", m, t, th) != parts[3] {
		return p, nil, nil, false
	}
	if m < 8 || m > 1<<20 || t < 1 || t > 16 || th < 1 || th > 16 || m < 8*th {
		return p, nil, nil, false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[4])
	key, err2 := enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, false
	}
	return PasswordParams{MemoryKiB: m, Time: t, Threads: uint8(th)}, salt, key, true
}
