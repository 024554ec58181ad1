// Package checkout is the hosted checkout: a merchant's site creates a
// session for an order (out_trade_no, amount, subject), sends its customer
// to the session's page on paydesk, and gets the customer back at its
// return_url with the result, signed so the site can trust it without a
// call (Verify). The order is a payment link (pos), so everything after the
// page (paying, refunds, webhooks, statements) is what it is for any order.
//
// No HTTP here: mobile-api renders the page and handles its form.
package checkout

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/pos"
)

// Session is one hosted checkout.
type Session struct {
	ID         int64
	Token      string // in the page's URL
	MerchantID int64
	OrderID    int64
	OutTradeNo string
	ReturnURL  string
	// ReturnSecret signs the result sent to ReturnURL; the merchant is
	// given it with the session and keeps it with its order.
	ReturnSecret string
	ExpiresAt    time.Time
	CreatedAt    time.Time
	// NotifyEndpointID is the webhook endpoint of NotifyURL, 0 without;
	// its deliveries are the notify log. Not stored: Create sets it.
	NotifyEndpointID int64
}

// Storage keeps sessions.
type Storage interface {
	// CreateSession inserts s; a session of the merchant's out_trade_no
	// already there is returned instead (created false).
	CreateSession(ctx context.Context, s *Session) (created bool, err error)
	SessionByToken(ctx context.Context, token string) (Session, error)
}

// Errors with stable codes.
var (
	ErrSessionNotFound  = &paydesk.Error{Kind: paydesk.KindNotFound, Code: "CHECKOUT_SESSION_NOT_FOUND", Message: "no such checkout session"}
	ErrInvalidReturnURL = &paydesk.Error{Kind: paydesk.KindInvalid, Code: "INVALID_RETURN_URL", Message: "return_url must be an absolute http(s) URL without user info or fragment"}
)

// Expiry bounds of a session (expires_in, seconds).
const (
	MinExpiry     = time.Minute
	MaxExpiry     = 24 * time.Hour
	DefaultExpiry = 30 * time.Minute
)

// Notifier delivers a session's result to its notify_url
// (webhook.Service.NotifyOrder): the order's payment.paid or
// payment.closed, signed with the session's return secret, from the outbox,
// with the webhooks' back-off and delivery log, once.
type Notifier interface {
	NotifyOrder(ctx context.Context, merchantID, orderID int64, url, secret string) (endpointID int64, err error)
}

// ErrInvalidNotifyURL refuses a notify_url that is not an absolute https
// URL (http too where the server allows it, for tests and one machine).
var ErrInvalidNotifyURL = &paydesk.Error{Kind: paydesk.KindInvalid, Code: "INVALID_NOTIFY_URL",
	Message: "notify_url must be an absolute https URL without user info or fragment"}

// ErrNotifyUnavailable: this server delivers no notify_url.
var ErrNotifyUnavailable = &paydesk.Error{Kind: paydesk.KindInvalid, Code: "NOTIFY_URL_UNSUPPORTED",
	Message: "notify_url is not served here; add a webhook endpoint (POST /v1/webhook-endpoints), which receives every order's events"}

// Service creates sessions and signs their results.
type Service struct {
	store     Storage
	pos       *pos.Service
	clock     paydesk.Clock
	publicURL string
	notifier  Notifier
	allowHTTP bool
}

// NotifyWith makes sessions accept notify_url, delivered by n. allowHTTP
// accepts http:// URLs besides https:// (tests, a single machine: the
// setting that lets webhooks reach private addresses).
func (s *Service) NotifyWith(n Notifier, allowHTTP bool) { s.notifier, s.allowHTTP = n, allowHTTP }

// NewService returns a Service whose pages live under publicURL.
func NewService(store Storage, p *pos.Service, clock paydesk.Clock, publicURL string) *Service {
	if clock == nil {
		clock = paydesk.SystemClock
	}
	return &Service{store: store, pos: p, clock: clock, publicURL: strings.TrimRight(publicURL, "/")}
}

// NewSession is what the merchant's system asks for.
type NewSession struct {
	OutTradeNo string
	Amount     paydesk.Amount
	Subject    string
	ReturnURL  string
	// NotifyURL, optional, is told the result server to server.
	NotifyURL string
	ExpiresIn time.Duration // 0: DefaultExpiry
}

// Create opens the order and its session. The same out_trade_no again
// answers the same session and order (another amount or subject is
// IDEMPOTENCY_CONFLICT, from the order).
func (s *Service) Create(ctx context.Context, a cashier.Actor, req NewSession) (Session, pos.Order, error) {
	if err := checkURL(req.ReturnURL); err != nil {
		return Session{}, pos.Order{}, err
	}
	if req.NotifyURL != "" {
		if s.notifier == nil {
			return Session{}, pos.Order{}, ErrNotifyUnavailable
		}
		u, err := url.Parse(req.NotifyURL)
		if checkURL(req.NotifyURL) != nil || err != nil || (u.Scheme != "https" && !s.allowHTTP) {
			return Session{}, pos.Order{}, ErrInvalidNotifyURL
		}
	}
	if req.ExpiresIn == 0 {
		req.ExpiresIn = DefaultExpiry
	}
	if req.ExpiresIn < MinExpiry || req.ExpiresIn > MaxExpiry {
		return Session{}, pos.Order{}, paydesk.ErrInvalid.WithMessage("expires_in must be %d to %d seconds", int(MinExpiry.Seconds()), int(MaxExpiry.Seconds()))
	}
	o, err := s.pos.CreatePaymentLink(ctx, a, pos.Collection{OutTradeNo: req.OutTradeNo, Amount: req.Amount, Subject: req.Subject, Lifetime: req.ExpiresIn})
	if err != nil {
		return Session{}, pos.Order{}, err
	}
	now := s.clock().UTC().Truncate(time.Microsecond)
	sess := Session{Token: random(32), MerchantID: a.MerchantID, OrderID: o.ID, OutTradeNo: o.OutTradeNo, ReturnURL: req.ReturnURL,
		ReturnSecret: "rsec_" + random(24), ExpiresAt: o.ExpiresAt.UTC().Truncate(time.Microsecond), CreatedAt: now}
	created, err := s.store.CreateSession(ctx, &sess)
	if err != nil {
		return Session{}, pos.Order{}, err
	}
	if !created && sess.ReturnURL != req.ReturnURL {
		return Session{}, pos.Order{}, paydesk.ErrIdempotencyConflict.WithMessage("out_trade_no %s was used for a session with another return_url", o.OutTradeNo)
	}
	if req.NotifyURL != "" {
		// After the session: a retry of a request that failed here makes
		// the endpoint then (NotifyOrder answers the one there is). The
		// order cannot be paid before its page's URL is given out.
		if sess.NotifyEndpointID, err = s.notifier.NotifyOrder(ctx, a.MerchantID, o.ID, req.NotifyURL, sess.ReturnSecret); err != nil {
			return Session{}, pos.Order{}, err
		}
	}
	return sess, o, nil
}

// URL is where the customer is sent to pay.
func (s *Service) URL(sess Session) string { return s.publicURL + "/checkout/" + sess.Token }

// Page returns the session behind a page's token and its order as it is now.
func (s *Service) Page(ctx context.Context, token string) (Session, pos.Order, error) {
	sess, err := s.store.SessionByToken(ctx, token)
	if err != nil {
		return Session{}, pos.Order{}, err
	}
	o, err := s.pos.Order(ctx, sess.MerchantID, sess.OrderID)
	return sess, o, err
}

// Result states sent to return_url.
const (
	ResultPaid   = "paid"
	ResultClosed = "closed" // closed or expired unpaid: the customer gave up
)

// ResultURL is return_url with the signed result of o's session:
// checkout_session, order_id, out_trade_no, state, amount, currency, t
// (Unix seconds) and sig, hex HMAC-SHA256 under the session's return
// secret of the other parameters sorted by name, as url.Values.Encode
// writes them.
func (s *Service) ResultURL(sess Session, o pos.Order, state string) string {
	v := url.Values{}
	v.Set("checkout_session", sess.Token)
	v.Set("order_id", strconv.FormatInt(o.ID, 10))
	v.Set("out_trade_no", o.OutTradeNo)
	v.Set("state", state)
	v.Set("amount", strconv.FormatInt(int64(o.Amount), 10))
	v.Set("currency", string(o.Currency))
	v.Set("t", strconv.FormatInt(s.clock().Unix(), 10))
	v.Set("sig", sign(sess.ReturnSecret, v))
	u, _ := url.Parse(sess.ReturnURL) // checked when the session was made
	q := u.Query()
	for k := range v {
		q.Set(k, v.Get(k))
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func sign(secret string, v url.Values) string {
	c := url.Values{}
	for _, k := range []string{"checkout_session", "order_id", "out_trade_no", "state", "amount", "currency", "t"} {
		c.Set(k, v.Get(k))
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(c.Encode()))
	return hex.EncodeToString(m.Sum(nil))
}

// ErrBadResult is a return whose signature does not verify.
var ErrBadResult = &paydesk.Error{Kind: paydesk.KindUnauthorized, Code: "BAD_RESULT_SIGNATURE", Message: "the checkout result's signature does not verify"}

// Verify checks the result query a merchant's return_url received, with
// the session's return secret: the signature, and t within tolerance of now.
func Verify(secret string, query url.Values, now time.Time, tolerance time.Duration) error {
	// sig is compared as the lowercase hex ResultURL writes: one spelling
	// per signature, so "AB" and "ab" are not two valid results.
	if !hmac.Equal([]byte(query.Get("sig")), []byte(sign(secret, query))) {
		return ErrBadResult
	}
	t, err := strconv.ParseInt(query.Get("t"), 10, 64)
	if err != nil {
		return ErrBadResult
	}
	if d := now.Sub(time.Unix(t, 0)); d > tolerance || d < -tolerance {
		return ErrBadResult.WithMessage("the result was signed %s from now", d.Round(time.Second))
	}
	return nil
}

func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if len(raw) > 2048 || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" || u.User != nil || u.Fragment != "" || u.Opaque != "" {
		return ErrInvalidReturnURL
	}
	return nil
}

func random(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// String names the session in logs, without its secret.
func (s Session) String() string {
	return fmt.Sprintf("checkout session %d (order %d)", s.ID, s.OrderID)
}
