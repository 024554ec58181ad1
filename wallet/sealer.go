package wallet

import (
	"fmt"
	"strconv"

	"github.com/paydesk/paydesk/internal/seal"
)

// DataKeyLen is the length of the data key the wallet's secrets are sealed
// under (package seal).
const DataKeyLen = seal.KeyLen

// sealedPrefix starts a sealed secret as stored; a value without it was
// written before secrets were sealed and is read as plaintext.
const sealedPrefix = seal.Prefix

// errSecretUnreadable means a stored secret does not open under the data
// key: the key is wrong, or the value was copied from another wallet's row
// or column. It is never a reason to fall back to anything weaker.
var errSecretUnreadable = seal.ErrUnreadable

// Sealer encrypts the wallet's secrets at rest, so a dump of the database
// cannot mint payment codes or dynamic passwords. The wallet id and the
// column are the additional data: a secret copied onto another row or
// column does not open.
type Sealer = seal.Sealer

// NewSealer returns a Sealer under key, which must be DataKeyLen bytes.
func NewSealer(key []byte) (*Sealer, error) { return seal.New(key) }

// MustSealer is NewSealer for a key known to be the right length, as in
// tests; it panics otherwise.
func MustSealer(key []byte) *Sealer { return seal.Must(key) }

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

// sealSecret returns plain as stored in column of wallet id.
func sealSecret(s *Sealer, id WalletID, column string, plain []byte) (string, error) {
	return s.Seal(additionalData(id, column), plain)
}

// openSecret returns the secret stored in column of wallet id. legacy
// reports a value without the prefix, returned as it is for the caller to
// decode.
func openSecret(s *Sealer, id WalletID, column, stored string) (plain []byte, legacy bool, err error) {
	plain, legacy, err = s.Open(additionalData(id, column), stored)
	if err != nil {
		return nil, false, fmt.Errorf("wallet %d: %s: %w", id, column, err)
	}
	return plain, legacy, nil
}
