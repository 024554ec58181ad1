// Package seal encrypts secrets that paydesk must read back (a wallet's
// payment-code and TOTP secrets, a webhook endpoint's signing secret) at
// rest, under a data key kept out of the database, so that a dump of the
// database alone cannot mint payment codes or forge webhook signatures.
// Passwords and API keys are hashed instead: nothing needs them back.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// KeyLen is the length of a data key: an AES-256 key.
const KeyLen = 32

// Prefix starts a sealed value as stored; a value without it was written
// before its column was sealed and is read as plaintext (Open's legacy).
const Prefix = "v1:"

// ErrUnreadable means a stored value does not open under the data key: the
// key is wrong, or the value was copied from another row or column. It is
// never a reason to fall back to anything weaker.
var ErrUnreadable = errors.New("seal: stored secret does not open under the data key")

// Sealer seals with AES-256-GCM. The caller names where a value is stored
// (its row and column) as the additional data, so a sealed value copied
// elsewhere does not open. It is safe for concurrent use.
type Sealer struct {
	aead cipher.AEAD
}

// New returns a Sealer under key, which must be KeyLen bytes.
func New(key []byte) (*Sealer, error) {
	if len(key) != KeyLen {
		return nil, fmt.Errorf("the data key is %d bytes; want %d", len(key), KeyLen)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// Must is New for a key known to be the right length, as in tests; it
// panics otherwise.
func Must(key []byte) *Sealer {
	s, err := New(key)
	if err != nil {
		panic(err)
	}
	return s
}

// Seal returns plain as stored at where: Prefix and the base64 of nonce ||
// ciphertext.
func (s *Sealer) Seal(where []byte, plain []byte) (string, error) {
	ns := s.aead.NonceSize()
	buf := make([]byte, ns, ns+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	out := s.aead.Seal(buf, buf[:ns], plain, where)
	return Prefix + base64.StdEncoding.EncodeToString(out), nil
}

// Open returns the secret stored at where. legacy reports a value without
// the prefix, returned as it is for the caller to decode; a sealed value
// that does not open is ErrUnreadable.
func (s *Sealer) Open(where []byte, stored string) (plain []byte, legacy bool, err error) {
	body, ok := strings.CutPrefix(stored, Prefix)
	if !ok {
		return []byte(stored), true, nil
	}
	raw, err := base64.StdEncoding.DecodeString(body)
	ns := s.aead.NonceSize()
	if err != nil || len(raw) < ns+s.aead.Overhead() {
		return nil, false, ErrUnreadable
	}
	plain, err = s.aead.Open(raw[ns:ns], raw[:ns], raw[ns:], where)
	if err != nil {
		return nil, false, ErrUnreadable
	}
	return plain, false, nil
}
