package paydesk

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// PasswordParams are the argon2id costs of a password hash. Hashes carry
// their own costs in the PHC string format, so the costs can be raised
// later without invalidating stored hashes.
type PasswordParams struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// DefaultPasswordParams is the production setting, OWASP's second
// recommended one (19 MiB, 2 passes, 1 lane): strong, yet a burst of logins
// cannot eat the machine's memory the way 64 MiB per hash would.
var DefaultPasswordParams = PasswordParams{MemoryKiB: 19 * 1024, Time: 2, Threads: 1}

// The bounds of a password, in characters. The upper one bounds the hashing
// work an attacker can ask for.
const (
	minPasswordLen = 8
	maxPasswordLen = 128
)

const (
	saltLen = 16
	keyLen  = 32
)

// ErrWeakPassword is returned for a password that is too short or too long.
var ErrWeakPassword = &Error{Kind: KindInvalid, Code: "WEAK_PASSWORD", Message: "a password needs 8 to 128 characters"}

// ErrInvalidCredentials answers a sign-in (a wallet's, a staff member's)
// whose phone number or password is wrong; it never says which, so that
// sign-in does not tell which phone numbers have accounts.
var ErrInvalidCredentials = &Error{Kind: KindUnauthorized, Code: "INVALID_CREDENTIALS", Message: "wrong phone number or password"}

// Passwords hashes and checks passwords with one set of costs. Services
// take one so that tests can give them cheap costs.
type Passwords struct {
	params PasswordParams
	// slots bounds the hashes computed at once. Each holds MemoryKiB for
	// its duration and keeps a core busy, so more at once adds no
	// throughput, only memory: 64 cashiers logging in together held half a
	// gigabyte before this bound.
	slots     chan struct{}
	dummyOnce sync.Once
	dummyHash string
}

// NewPasswords returns Passwords hashing with p; the zero value of p, or
// any zero cost, means DefaultPasswordParams.
func NewPasswords(p PasswordParams) *Passwords {
	if p.MemoryKiB == 0 || p.Time == 0 || p.Threads == 0 {
		p = DefaultPasswordParams
	}
	return &Passwords{params: p, slots: make(chan struct{}, runtime.GOMAXPROCS(0))}
}

// idKey is argon2.IDKey within a slot.
func (ps *Passwords) idKey(pw, salt []byte, p PasswordParams, n uint32) []byte {
	ps.slots <- struct{}{}
	defer func() { <-ps.slots }()
	return argon2.IDKey(pw, salt, p.Time, p.MemoryKiB, p.Threads, n)
}

// Hash returns an argon2id hash of pw with a fresh salt, in the PHC string
// format ($argon2id$v=19$m=...,t=...,p=...$salt$key), or ErrWeakPassword.
func (ps *Passwords) Hash(pw string) (string, error) {
	if n := utf8.RuneCountInString(pw); n < minPasswordLen || n > maxPasswordLen {
		return "", ErrWeakPassword
	}
	return ps.hash(pw)
}

func (ps *Passwords) hash(pw string) (string, error) {
	p := ps.params
	if !p.bounded() {
		// Check would refuse such a hash, locking its owner out for good.
		return "", fmt.Errorf("paydesk: password costs %+v out of bounds", p)
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := ps.idKey([]byte(pw), salt, p, keyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// Check reports whether pw matches hash, comparing in constant time. The
// costs are the hash's own; a malformed hash, or one with absurd costs,
// never matches.
func (ps *Passwords) Check(hash, pw string) bool {
	p, salt, key, ok := parsePasswordHash(hash)
	if !ok || len(pw) > utf8.UTFMax*maxPasswordLen || utf8.RuneCountInString(pw) > maxPasswordLen {
		return false
	}
	got := ps.idKey([]byte(pw), salt, p, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1
}

// CheckNone spends the time of one Check and returns false. Logins call it
// when there is no account, so that a wrong phone number costs the same
// time as a wrong password.
func (ps *Passwords) CheckNone(pw string) bool {
	ps.dummyOnce.Do(func() {
		// A hash of nothing anyone knows; if hashing fails, Check refuses "".
		ps.dummyHash, _ = ps.hash(rand.Text())
	})
	ps.Check(ps.dummyHash, pw)
	return false
}

// bounded reports whether costs are within what Check accepts, so that a
// corrupted row cannot make one login allocate gigabytes.
func (p PasswordParams) bounded() bool {
	m, t, th := p.MemoryKiB, p.Time, uint32(p.Threads)
	return m >= 8 && m <= 1<<20 && t >= 1 && t <= 16 && th >= 1 && th <= 16 && m >= 8*th
}

// parsePasswordHash reads a PHC argon2id string, refusing costs outside
// bounded ones and salts and keys of odd sizes.
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
	if th > 16 { // before the conversion to uint8 could wrap it into bounds
		return p, nil, nil, false
	}
	p = PasswordParams{MemoryKiB: m, Time: t, Threads: uint8(th)}
	if !p.bounded() {
		return PasswordParams{}, nil, nil, false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[4])
	key, err2 := enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) < 16 || len(key) > 64 {
		return PasswordParams{}, nil, nil, false
	}
	return p, salt, key, true
}
