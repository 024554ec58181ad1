package bank

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/paydesk/paydesk"
)

// Callback is the bank's asynchronous notice that a payout reached a final
// status. It arrives as a JSON body with an HMAC-SHA256 signature beside it
// (an HTTP header, in a real deployment). The bank may deliver one callback
// several times and in any order with others, so a receiver applies it
// idempotently: by Reference, moving a payout forward only.
type Callback struct {
	// ID identifies this notice; the same notice delivered twice has the same ID.
	ID            string           `json:"id"`
	Reference     string           `json:"reference"`
	BankReference string           `json:"bank_reference"`
	Status        PayoutStatus     `json:"status"`
	Reason        string           `json:"reason,omitempty"`
	Amount        paydesk.Amount   `json:"amount"`
	Currency      paydesk.Currency `json:"currency"`
	At            time.Time        `json:"at"`
}

// ErrBadSignature refuses a callback whose signature does not verify, or
// whose body is not a well-formed callback.
var ErrBadSignature = &paydesk.Error{Kind: paydesk.KindUnauthorized, Code: "BANK_CALLBACK_INVALID", Message: "the bank callback is not signed or not well formed"}

// SignCallback encodes cb and signs the body with secret. The signature is
// the lowercase hex of HMAC-SHA256(secret, body).
func SignCallback(secret []byte, cb Callback) (body []byte, signature string, err error) {
	body, err = json.Marshal(cb)
	if err != nil {
		return nil, "", err
	}
	return body, sign(secret, body), nil
}

func sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// VerifyCallback checks signature over body in constant time and only then
// decodes the body, strictly: a forged or garbled callback never reaches
// the code that moves money.
func VerifyCallback(secret, body []byte, signature string) (Callback, error) {
	if len(secret) == 0 {
		return Callback{}, ErrBadSignature.WithMessage("no callback secret is configured")
	}
	got, err := hex.DecodeString(signature)
	if err != nil || len(got) != sha256.Size {
		return Callback{}, ErrBadSignature
	}
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	if !hmac.Equal(got, m.Sum(nil)) {
		return Callback{}, ErrBadSignature
	}
	var cb Callback
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cb); err != nil || dec.More() {
		return Callback{}, ErrBadSignature.WithMessage("callback body is not a callback")
	}
	if cb.ID == "" || validReference(cb.Reference) != nil || !cb.Status.Final() || validMoney(cb.Amount, cb.Currency) != nil {
		return Callback{}, ErrBadSignature.WithMessage("callback lacks an id, a reference, a final status or a valid amount")
	}
	return cb, nil
}
