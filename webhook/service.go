package webhook

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/url"
	"slices"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/push"
	"github.com/paydesk/paydesk/rbac"
)

// Storage is what the service and the dispatcher need from the database.
type Storage interface {
	CreateEndpoint(ctx context.Context, e *Endpoint) error
	Endpoint(ctx context.Context, merchantID, id int64) (Endpoint, error)
	Endpoints(ctx context.Context, merchantID int64) ([]Endpoint, error)
	// OrderEndpoint is the endpoint of one order, ErrEndpointNotFound if none.
	OrderEndpoint(ctx context.Context, merchantID, orderID int64) (Endpoint, error)
	ActiveEndpoints(ctx context.Context) ([]Endpoint, error)
	DisableEndpoint(ctx context.Context, merchantID, id int64, at time.Time) error
	Enqueue(ctx context.Context, endpointID, from, to int64, ds []Delivery) (bool, error)
	Due(ctx context.Context, now time.Time, limit int) ([]Delivery, error)
	Claim(ctx context.Context, id int64, now, until time.Time) (bool, error)
	Finish(ctx context.Context, d Delivery, until time.Time) error
	Deliveries(ctx context.Context, merchantID, endpointID, before int64, limit int) ([]Delivery, error)
	Delivery(ctx context.Context, merchantID, id int64) (Delivery, error)
	Requeue(ctx context.Context, merchantID, id int64, now time.Time) error
}

// Events is the outbox the deliveries are copied from (push.Outbox).
type Events interface {
	MerchantEvents(ctx context.Context, merchantID, after int64, limit int) ([]push.Event, error)
	LastSeq(ctx context.Context, a push.Audience) (int64, error)
}

// Service is what the owner does with endpoints and deliveries.
type Service struct {
	store  Storage
	events Events
	clock  paydesk.Clock
	// wake, when set (by a Dispatcher), is told of a redelivery.
	wake func()
}

// NewService returns a Service; a nil clock is the system clock.
func NewService(store Storage, events Events, clock paydesk.Clock) *Service {
	if clock == nil {
		clock = paydesk.SystemClock
	}
	return &Service{store: store, events: events, clock: clock}
}

// NewEndpoint is what the owner asks for.
type NewEndpoint struct {
	URL    string
	Events []push.Type // none: every type of Types
}

func owner(a cashier.Actor) error {
	if a.Role != rbac.Owner || a.MerchantID <= 0 {
		return paydesk.ErrForbidden.WithMessage("only an owner manages webhooks")
	}
	return nil
}

// CheckURL refuses what is not an absolute http(s) URL of a host, without
// user info (credentials in a URL end up in logs) or a fragment.
func CheckURL(raw string) error {
	if len(raw) > 2048 {
		return ErrInvalidURL.WithMessage("the URL is longer than 2048 bytes")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Hostname() == "" || u.User != nil || u.Fragment != "" || u.Opaque != "" {
		return ErrInvalidURL
	}
	return nil
}

// CreateEndpoint adds an endpoint that receives the merchant's events
// from now on, with a fresh signing secret.
func (s *Service) CreateEndpoint(ctx context.Context, a cashier.Actor, req NewEndpoint) (Endpoint, error) {
	if err := owner(a); err != nil {
		return Endpoint{}, err
	}
	if err := CheckURL(req.URL); err != nil {
		return Endpoint{}, err
	}
	events := req.Events
	if len(events) == 0 {
		events = Types()
	}
	var types []push.Type
	for _, t := range events {
		if !slices.Contains(Types(), t) {
			return Endpoint{}, paydesk.ErrInvalid.WithMessage("unknown event type %q (want payment.paid, payment.closed, refund.succeeded, settlement.updated or withdrawal.updated)", truncate(string(t), 48))
		}
		if !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	last, err := s.events.LastSeq(ctx, push.Audience{MerchantID: a.MerchantID})
	if err != nil {
		return Endpoint{}, err
	}
	b := make([]byte, 24)
	rand.Read(b)
	e := Endpoint{MerchantID: a.MerchantID, URL: req.URL, Secret: "whsec_" + base64.RawURLEncoding.EncodeToString(b), Events: types,
		AfterSeq: last, CreatedAt: s.clock().UTC().Truncate(time.Microsecond)}
	if err := s.store.CreateEndpoint(ctx, &e); err != nil {
		return Endpoint{}, err
	}
	return e, nil
}

// OrderEvents are what an order's endpoint (a notify_url) receives.
func OrderEvents() []push.Type { return []push.Type{push.PaymentPaid, push.PaymentClosed} }

// NotifyOrder makes url the endpoint of one order of the merchant (a
// checkout session's notify_url): it receives the order's payment.paid or
// payment.closed, signed with secret, through the same deliveries, back-off
// and log as every endpoint, and is then disabled. Asked again for the
// same order it answers the endpoint there is; another URL is
// IDEMPOTENCY_CONFLICT.
func (s *Service) NotifyOrder(ctx context.Context, merchantID, orderID int64, url, secret string) (endpointID int64, err error) {
	if err := CheckURL(url); err != nil {
		return 0, err
	}
	e, err := s.store.OrderEndpoint(ctx, merchantID, orderID)
	if errors.Is(err, ErrEndpointNotFound) {
		var last int64
		if last, err = s.events.LastSeq(ctx, push.Audience{MerchantID: merchantID}); err != nil {
			return 0, err
		}
		e = Endpoint{MerchantID: merchantID, OrderID: orderID, URL: url, Secret: secret, Events: OrderEvents(), AfterSeq: last,
			CreatedAt: s.clock().UTC().Truncate(time.Microsecond)}
		err = s.store.CreateEndpoint(ctx, &e)
		if errors.Is(err, ErrOrderEndpointExists) {
			e, err = s.store.OrderEndpoint(ctx, merchantID, orderID)
		}
	}
	if err != nil {
		return 0, err
	}
	if e.URL != url {
		return 0, paydesk.ErrIdempotencyConflict.WithMessage("order %d is notified at another notify_url", orderID)
	}
	return e.ID, nil
}

// Endpoints returns the merchant's endpoints, newest first.
func (s *Service) Endpoints(ctx context.Context, a cashier.Actor) ([]Endpoint, error) {
	if err := owner(a); err != nil {
		return nil, err
	}
	return s.store.Endpoints(ctx, a.MerchantID)
}

// DisableEndpoint stops an endpoint receiving events; its log stays.
func (s *Service) DisableEndpoint(ctx context.Context, a cashier.Actor, id int64) (Endpoint, error) {
	if err := owner(a); err != nil {
		return Endpoint{}, err
	}
	if _, err := s.store.Endpoint(ctx, a.MerchantID, id); err != nil {
		return Endpoint{}, err
	}
	if err := s.store.DisableEndpoint(ctx, a.MerchantID, id, s.clock().UTC().Truncate(time.Microsecond)); err != nil {
		return Endpoint{}, err
	}
	return s.store.Endpoint(ctx, a.MerchantID, id)
}

// Deliveries returns a page of the endpoint's delivery log, newest first,
// before the delivery id before (0: from the newest); next is the cursor
// of the next page, 0 on the last.
func (s *Service) Deliveries(ctx context.Context, a cashier.Actor, endpointID, before int64, limit int) (ds []Delivery, next int64, err error) {
	if err := owner(a); err != nil {
		return nil, 0, err
	}
	if _, err := s.store.Endpoint(ctx, a.MerchantID, endpointID); err != nil {
		return nil, 0, err
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	ds, err = s.store.Deliveries(ctx, a.MerchantID, endpointID, before, limit+1)
	if err != nil {
		return nil, 0, err
	}
	if len(ds) > limit {
		ds = ds[:limit]
		next = ds[limit-1].ID
	}
	return ds, next, nil
}

// Redeliver sends a delivery again as soon as a dispatcher gets to it,
// whatever its state: pending again with a fresh count of attempts.
func (s *Service) Redeliver(ctx context.Context, a cashier.Actor, id int64) (Delivery, error) {
	if err := owner(a); err != nil {
		return Delivery{}, err
	}
	if _, err := s.store.Delivery(ctx, a.MerchantID, id); err != nil {
		return Delivery{}, err
	}
	if err := s.store.Requeue(ctx, a.MerchantID, id, s.clock().UTC().Truncate(time.Microsecond)); err != nil {
		return Delivery{}, err
	}
	if s.wake != nil {
		s.wake()
	}
	return s.store.Delivery(ctx, a.MerchantID, id)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
