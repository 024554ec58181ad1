package wallet

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// DataKeyLen is the length of the data key the wallet's secrets are sealed
// under: an AES-256 key.
const DataKeyLen = 32

// sealedPrefix starts a sealed secret as stored; a value without it was
// written before secrets were sealed and is read as plaintext.
const sealedPrefix = "v1:"

// errSecretUnreadable means a stored secret does not open under the data
// key: the key is wrong, or the value was copied from another wallet's row
// or column. It is never a reason to fall back to anything weaker.
var errSecretUnreadable = errors.New("wallet: stored secret does not open under the data key")

// Sealer encrypts the wallet's secrets at rest (AES-256-GCM) under a data
// key that is kept out of the database, so a dump of the database cannot
// mint payment codes or dynamic passwords. The wallet id and the column are
// the additional data: a secret copied onto another row or column does not
// open. It is safe for concurrent use.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer returns a Sealer under key, which must be DataKeyLen bytes.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != DataKeyLen {
		return nil, fmt.Errorf("wallet: the data key is %d bytes; want %d", len(key), DataKeyLen)
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

// Secret columns, named in the additional data.
const (
	colCodeSecret = "code_secret"
	colTOTPSecret = "totp_secret"
)

func additionalData(id WalletID, column string) []byte {
	b := make([]byte, 0, 40)
	b = append(b, "wallet:"...)
	b = strconv.AppendInt(b, int64(id), 10)
	b = append(b, ':')
	return append(b, column...)
}

// seal returns plain as stored in column of wallet id: "v1:" and the
// base64 of nonce || ciphertext.
func (s *Sealer) seal(id WalletID, column string, plain []byte) (string, error) {
	ns := s.aead.NonceSize()
	buf := make([]byte, ns, ns+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	out := s.aead.Seal(buf, buf[:ns], plain, additionalData(id, column))
	return sealedPrefix + base64.StdEncoding.EncodeToString(out), nil
}

// open returns the secret stored in column of wallet id. legacy reports a
// value without the prefix, returned as it is for the caller to decode.
func (s *Sealer) open(id WalletID, column, stored string) (plain []byte, legacy bool, err error) {
	body, ok := strings.CutPrefix(stored, sealedPrefix)
	if !ok {
		return []byte(stored), true, nil
	}
	raw, err := base64.StdEncoding.DecodeString(body)
	ns := s.aead.NonceSize()
	if err != nil || len(raw) < ns+s.aead.Overhead() {
		return nil, false, fmt.Errorf("wallet %d: %s: %w", id, column, errSecretUnreadable)
	}
	plain, err = s.aead.Open(raw[ns:ns], raw[:ns], raw[ns:], additionalData(id, column))
	if err != nil {
		return nil, false, fmt.Errorf("wallet %d: %s: %w", id, column, errSecretUnreadable)
	}
	return plain, false, nil
}

// MustSealer is NewSealer for a key known to be the right length, as in
// tests; it panics otherwise.
func MustSealer(key []byte) *Sealer {
	s, err := NewSealer(key)
	if err != nil {
		panic(err)
	}
	return s
}
