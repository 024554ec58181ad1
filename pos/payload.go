package pos

import (
	"net/url"
	"strings"

	"github.com/paydesk/paydesk"
)

// The paths of the two kinds of pay URL: an order's (collection QR, payment
// link) and a store's static QR. The token after them is unguessable.
const (
	orderPayPath = "/p/o/"
	storePayPath = "/p/s/"
)

// PayloadKind says what a scanned QR pays.
type PayloadKind string

const (
	PayloadOrder PayloadKind = "order" // a collection QR or payment link: the amount is fixed
	PayloadStore PayloadKind = "store" // a store's static QR: the customer types the amount
)

// ErrInvalidQRPayload is a scanned text that is not a paydesk QR.
var ErrInvalidQRPayload = &paydesk.Error{Kind: paydesk.KindInvalid, Code: "QR_PAYLOAD_INVALID", Message: "this QR code is not a paydesk payment code"}

// ParseQRPayload reads what the wallet app scanned: an http(s) URL whose
// path is /p/o/TOKEN or /p/s/TOKEN. Any host is accepted, because the same
// QR is printed by every instance behind whatever public name they have;
// the token alone identifies the order or store.
func ParseQRPayload(s string) (PayloadKind, string, error) {
	if len(s) > 512 {
		return "", "", ErrInvalidQRPayload
	}
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", "", ErrInvalidQRPayload
	}
	var kind PayloadKind
	var token string
	switch {
	case strings.HasPrefix(u.Path, orderPayPath):
		kind, token = PayloadOrder, u.Path[len(orderPayPath):]
	case strings.HasPrefix(u.Path, storePayPath):
		kind, token = PayloadStore, u.Path[len(storePayPath):]
	default:
		return "", "", ErrInvalidQRPayload
	}
	if !validToken(token) {
		return "", "", ErrInvalidQRPayload
	}
	return kind, token, nil
}

// validToken accepts the base64url tokens paydesk makes (16 to 64 characters).
func validToken(t string) bool {
	if len(t) < 16 || len(t) > 64 {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
