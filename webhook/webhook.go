// Package webhook delivers a merchant's events to the merchant's own
// servers: endpoints (URL, secret, event types), one delivery per event and
// endpoint copied from the push outbox, signed, retried with exponential
// back-off for more than a day until the endpoint answers 2xx, in order per
// order, with a log the owner reads and a way to send one again.
//
// It stands alone beside push: push fans events out to sockets that are
// open now; webhook keeps a durable, per-endpoint queue of them and speaks
// HTTP out to the internet. Both read the same outbox (push.Outbox), so an
// event exists for webhooks exactly when the change it reports committed.
//
// Several instances run the Dispatcher at once and each event is sent once:
// copying events into deliveries moves the endpoint's cursor with an UPDATE
// conditional on its old value, and sending a delivery first claims it with
// an UPDATE conditional on its claim having expired, as the settlement
// scheduler claims batches.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/push"
)

// Types are the event types an endpoint can receive: everything the
// merchant's staff are shown about payments, refunds and payouts.
func Types() []push.Type {
	return []push.Type{push.PaymentPaid, push.PaymentClosed, push.RefundSucceeded, push.SettlementUpdated, push.WithdrawalUpdated}
}

// Endpoint is a URL of the merchant's that receives its events.
type Endpoint struct {
	ID         int64
	MerchantID int64
	URL        string
	// Secret signs every delivery (Sign); shown to the owner when the
	// endpoint is created.
	Secret string
	Events []push.Type
	// OrderID, when set, makes this the endpoint of one order (a checkout
	// session's notify_url): it receives that order's events only, and is
	// disabled once the order's outcome (payment.paid, payment.closed) is
	// queued. 0: every order of the merchant.
	OrderID int64
	// AfterSeq is the merchant's last event the endpoint has been given.
	AfterSeq   int64
	DisabledAt *time.Time
	CreatedAt  time.Time
}

// Wants reports whether the endpoint receives event ev.
func (e Endpoint) Wants(ev push.Event) bool {
	return slices.Contains(e.Events, ev.Type) && (e.OrderID == 0 || ev.OrderID == e.OrderID)
}

// outcome reports whether ev ends what an order endpoint waits for.
func outcome(ev push.Event) bool { return ev.Type == push.PaymentPaid || ev.Type == push.PaymentClosed }

// State is where a delivery stands.
type State string

// The states of a delivery.
const (
	Pending   State = "pending"   // to be sent, now or after its back-off
	Delivered State = "delivered" // the endpoint answered 2xx
	Failed    State = "failed"    // every attempt failed; redeliver sends it again
)

// Delivery is one event on its way to one endpoint.
type Delivery struct {
	ID         int64
	EndpointID int64
	MerchantID int64
	EventID    int64
	EventSeq   int64
	EventType  push.Type
	// OrderKey groups the deliveries that must arrive in order: those of
	// one order, one settlement batch or one withdrawal.
	OrderKey      string
	Payload       []byte
	State         State
	Attempts      int
	NextAttemptAt time.Time
	// LastStatus is the HTTP status of the last attempt, 0 when it got
	// none (refused, timed out); LastError says why.
	LastStatus  int
	LastError   string
	DeliveredAt *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// orderKey is what keeps e in order with the events about the same thing.
func orderKey(e push.Event, id int64) string {
	switch {
	case e.OrderID != 0:
		return "order:" + strconv.FormatInt(e.OrderID, 10)
	case id != 0:
		return strings.SplitN(string(e.Type), ".", 2)[0] + ":" + strconv.FormatInt(id, 10)
	}
	return string(e.Type)
}

// Back-off: the n-th failed attempt (from 1) waits FirstRetry << (n-1),
// at most MaxRetryGap, and after MaxAttempts attempts the delivery fails.
// With these values the last attempt is about 26.5 hours after the first:
// a merchant's server may be down for a day and lose nothing.
const (
	FirstRetry  = 30 * time.Second
	MaxRetryGap = 6 * time.Hour
	MaxAttempts = 14
)

// Backoff returns how long to wait after the n-th failed attempt.
func Backoff(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	d := FirstRetry
	for i := 1; i < n && d < MaxRetryGap; i++ {
		d *= 2
	}
	return min(d, MaxRetryGap)
}

// SignatureHeader carries the signature of a delivery:
//
//	Paydesk-Signature: t=1764640000,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd
//
// t is the Unix time of signing, v1 the hex HMAC-SHA256 under the
// endpoint's secret of t, a '.', and the raw body. A receiver recomputes
// it, compares in constant time, and refuses a t too far from its clock
// (Verify; 5 minutes is usual), which stops a captured delivery being
// replayed later. A future scheme would add v2= beside v1=.
const SignatureHeader = "Paydesk-Signature"

// Sign returns the Paydesk-Signature value of body signed at t.
func Sign(secret string, t time.Time, body []byte) string {
	return "t=" + strconv.FormatInt(t.Unix(), 10) + ",v1=" + hex.EncodeToString(mac(secret, t.Unix(), body))
}

func mac(secret string, t int64, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(t, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// ErrBadSignature is a delivery whose signature does not verify.
var ErrBadSignature = &paydesk.Error{Kind: paydesk.KindUnauthorized, Code: "BAD_SIGNATURE", Message: "the signature does not verify"}

// Verify checks a Paydesk-Signature header value for body at now: one of
// its v1 signatures matches and t is within tolerance of now.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var t int64 = -1
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return ErrBadSignature.WithMessage("t is not a Unix time")
			}
			t = n
		case "v1":
			if b, err := hex.DecodeString(v); err == nil && len(b) == sha256.Size {
				sigs = append(sigs, b)
			}
		}
	}
	if t < 0 || len(sigs) == 0 {
		return ErrBadSignature.WithMessage("want t=<unix time>,v1=<hex HMAC-SHA256>")
	}
	if d := now.Sub(time.Unix(t, 0)); d > tolerance || d < -tolerance {
		return ErrBadSignature.WithMessage("signed %s from now, more than %s", d.Round(time.Second), tolerance)
	}
	want := mac(secret, t, body)
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			return nil
		}
	}
	return ErrBadSignature
}

// Errors with stable codes.
var (
	ErrEndpointNotFound = &paydesk.Error{Kind: paydesk.KindNotFound, Code: "WEBHOOK_ENDPOINT_NOT_FOUND", Message: "no such webhook endpoint"}
	ErrDeliveryNotFound = &paydesk.Error{Kind: paydesk.KindNotFound, Code: "WEBHOOK_DELIVERY_NOT_FOUND", Message: "no such webhook delivery"}
	// ErrOrderEndpointExists: the order has its endpoint already (storage).
	ErrOrderEndpointExists = &paydesk.Error{Kind: paydesk.KindConflict, Code: "ORDER_ENDPOINT_EXISTS", Message: "the order has a notify endpoint"}
	ErrInvalidURL          = &paydesk.Error{Kind: paydesk.KindInvalid, Code: "INVALID_WEBHOOK_URL", Message: "the URL must be an absolute http(s) URL without user info or fragment"}
)

func describe(status int, err error) string {
	if err != nil {
		s := err.Error()
		if len(s) > 250 {
			s = s[:250]
		}
		return s
	}
	return fmt.Sprintf("HTTP %d", status)
}
