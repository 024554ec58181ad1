package bank

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/paydesk/paydesk"
)

// Callback is the bank's asynchronous notice of where a payout stands:
// usually its final status (PAID or FAILED); some banks also confirm
// acceptance (SUBMITTED). It arrives as a JSON body with an HMAC-SHA256
// signature in the SignatureHeader. The bank may deliver one callback
// several times, late, and in any order with others (a SUBMITTED after the
// PAID), so a receiver applies it idempotently: by Reference, moving a
// payout forward only.
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

// SignatureHeader is the HTTP header that carries a callback's signature.
const SignatureHeader = "X-Bank-Signature"

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
	if cb.ID == "" || validReference(cb.Reference) != nil || !cb.Status.Valid() || validMoney(cb.Amount, cb.Currency) != nil {
		return Callback{}, ErrBadSignature.WithMessage("callback lacks an id, a reference, a known status or a valid amount")
	}
	return cb, nil
}

// PostCallbacks returns a SimulatorConfig.Deliver that POSTs each signed
// callback to the URL url returns (asked at every delivery, so a server
// listening on port 0 can tell its real address once it has one). Any
// answer but 2xx is a failed delivery, which the Simulator retries.
func PostCallbacks(client *http.Client, url func() string) func(ctx context.Context, body []byte, signature string) error {
	return func(ctx context.Context, body []byte, signature string) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url(), bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(SignatureHeader, signature)
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
		res.Body.Close()
		if res.StatusCode/100 != 2 {
			return fmt.Errorf("bank callback: %s answered %s", req.URL.Redacted(), res.Status)
		}
		return nil
	}
}
