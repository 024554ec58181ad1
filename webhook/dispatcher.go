package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/push"
)

// Config tunes a Dispatcher. Zero values take the defaults.
type Config struct {
	// Timeout bounds one delivery attempt, connection to answer (10 s).
	Timeout time.Duration
	// AllowPrivate lets deliveries reach loopback, private, link-local and
	// other non-public addresses. Off in production: an endpoint URL is
	// the merchant's to choose, and must not become a way into paydesk's
	// own network. Tests and a single-machine setup turn it on.
	AllowPrivate bool
	// Lease is how long a claimed delivery stays the claimer's (1 minute);
	// an instance that dies mid-attempt loses it after that. Must exceed
	// Timeout.
	Lease time.Duration
	// Batch is how many due deliveries one pass takes (200), sent by
	// Workers goroutines at once (16).
	Batch   int
	Workers int
	// Interval is how often Run looks for new events and due retries (1 s).
	Interval time.Duration
	// Logger receives failures; nil discards.
	Logger *slog.Logger
}

// Dispatcher copies new outbox events into deliveries and sends the due
// ones. Run it on every instance; each event reaches each endpoint once.
type Dispatcher struct {
	store  Storage
	events Events
	clock  paydesk.Clock
	cfg    Config
	client *http.Client
	log    *slog.Logger
	wake   chan struct{}
}

// NewDispatcher returns a Dispatcher; a nil clock is the system clock. If
// svc is not nil, a redelivery there wakes this dispatcher.
func NewDispatcher(store Storage, events Events, clock paydesk.Clock, cfg Config, svc *Service) *Dispatcher {
	if clock == nil {
		clock = paydesk.SystemClock
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Lease <= cfg.Timeout {
		cfg.Lease = max(time.Minute, 2*cfg.Timeout)
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 200
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 16
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	d := &Dispatcher{store: store, events: events, clock: clock, cfg: cfg, log: cfg.Logger, wake: make(chan struct{}, 1)}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	d.client = newClient(cfg)
	if svc != nil {
		svc.wake = d.Wake
	}
	return d
}

// ErrPrivateAddress is an endpoint that resolves to an address deliveries
// may not reach (Config.AllowPrivate).
var ErrPrivateAddress = errors.New("the endpoint's address is not public")

// newClient is the HTTP client of deliveries: its own transport (no
// environment proxy, which would hide the real destination), a timeout,
// no redirects followed (a 3xx is a failed attempt), and a dialer that
// checks the address it actually connects to, after DNS resolution, so a
// name that resolves to 127.0.0.1 is refused like the address itself.
func newClient(cfg Config) *http.Client {
	dialer := &net.Dialer{Timeout: cfg.Timeout}
	if !cfg.AllowPrivate {
		dialer.Control = func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			if ip := net.ParseIP(host); ip == nil || !public(ip) {
				return fmt.Errorf("%w: %s", ErrPrivateAddress, host)
			}
			return nil
		}
	}
	return &http.Client{
		Timeout: cfg.Timeout,
		Transport: &http.Transport{DialContext: dialer.DialContext, TLSHandshakeTimeout: cfg.Timeout, ResponseHeaderTimeout: cfg.Timeout,
			MaxIdleConnsPerHost: cfg.Workers, IdleConnTimeout: 90 * time.Second, ForceAttemptHTTP2: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// cgnat is 100.64.0.0/10, shared address space that is not the internet.
var cgnat = &net.IPNet{IP: net.IPv4(100, 64, 0, 0), Mask: net.CIDRMask(10, 32)}

// public reports whether ip is an address on the internet.
func public(ip net.IP) bool {
	return !(ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() ||
		ip.IsMulticast() || ip.IsUnspecified() || cgnat.Contains(ip))
}

// Wake makes Run look for work now rather than at its next tick.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run passes (RunOnce) every Interval, or when woken, until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) {
	t := time.NewTicker(d.cfg.Interval)
	defer t.Stop()
	for {
		if _, err := d.RunOnce(ctx); err != nil && ctx.Err() == nil {
			d.log.Error("webhook pass", slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.wake:
		}
	}
}

// Result is what one pass did.
type Result struct {
	Queued    int // deliveries copied from the outbox
	Delivered int // attempts answered 2xx
	Failed    int // attempts that failed (to be retried, or given up)
}

// RunOnce copies the events that came since the last pass into deliveries,
// then sends every delivery that is due, once each.
func (d *Dispatcher) RunOnce(ctx context.Context) (Result, error) {
	var res Result
	n, err := d.enqueue(ctx)
	res.Queued = n
	if err != nil {
		return res, err
	}
	for {
		delivered, failed, taken, err := d.sendDue(ctx)
		res.Delivered += delivered
		res.Failed += failed
		if err != nil || taken == 0 {
			return res, err
		}
	}
}

// eventPage is how many outbox events one cursor move copies.
const eventPage = 500

// enqueue copies every active endpoint's new events.
func (d *Dispatcher) enqueue(ctx context.Context) (int, error) {
	eps, err := d.store.ActiveEndpoints(ctx)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, ep := range eps {
		for {
			evs, err := d.events.MerchantEvents(ctx, ep.MerchantID, ep.AfterSeq, eventPage)
			if err != nil {
				return total, err
			}
			if len(evs) == 0 {
				break
			}
			now := d.clock().UTC().Truncate(time.Microsecond)
			var ds []Delivery
			done := false
			for _, e := range evs {
				if !ep.Wants(e) || done {
					continue
				}
				done = ep.OrderID != 0 && outcome(e)
				ds = append(ds, Delivery{EndpointID: ep.ID, MerchantID: ep.MerchantID, EventID: e.ID, EventSeq: e.Seq, EventType: e.Type,
					OrderKey: orderKey(e, dataID(e.Data)), Payload: push.Encode(e, false), NextAttemptAt: now, CreatedAt: now})
			}
			to := evs[len(evs)-1].Seq
			moved, err := d.store.Enqueue(ctx, ep.ID, ep.AfterSeq, to, ds)
			if err != nil {
				return total, err
			}
			if !moved {
				break // another instance copied them; it moves on from here
			}
			total += len(ds)
			ep.AfterSeq = to
			if done {
				// The order's outcome is queued: nothing more to copy, and
				// the endpoint leaves the list every pass reads.
				if err := d.store.DisableEndpoint(ctx, ep.MerchantID, ep.ID, now); err != nil {
					return total, err
				}
				break
			}
			if len(evs) < eventPage {
				break
			}
		}
	}
	return total, nil
}

// dataID is the "id" of an event's data (a settlement batch's, a
// withdrawal's), 0 when it has none.
func dataID(data json.RawMessage) int64 {
	var v struct {
		ID int64 `json:"id"`
	}
	_ = json.Unmarshal(data, &v)
	return v.ID
}

// sendDue sends one batch of due deliveries, Workers at a time.
func (d *Dispatcher) sendDue(ctx context.Context) (delivered, failed, taken int, err error) {
	due, err := d.store.Due(ctx, d.clock(), d.cfg.Batch)
	if err != nil || len(due) == 0 {
		return 0, 0, 0, err
	}
	eps := map[int64]Endpoint{} // read once per pass, not per delivery
	for _, dl := range due {
		if _, ok := eps[dl.EndpointID]; !ok {
			ep, err := d.store.Endpoint(ctx, dl.MerchantID, dl.EndpointID)
			if err != nil {
				return 0, 0, 0, err
			}
			eps[dl.EndpointID] = ep
		}
	}
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		firstErr error
		next     = make(chan Delivery)
	)
	for range min(d.cfg.Workers, len(due)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for dl := range next {
				ok, sent, err := d.attempt(ctx, eps[dl.EndpointID], dl)
				mu.Lock()
				switch {
				case err != nil && firstErr == nil:
					firstErr = err
				case sent:
					taken++
					if ok {
						delivered++
					} else {
						failed++
					}
				}
				mu.Unlock()
			}
		}()
	}
	for _, dl := range due {
		next <- dl
	}
	close(next)
	wg.Wait()
	return delivered, failed, taken, firstErr
}

// attempt claims dl and, if it got it, sends it and records the outcome.
// sent is false when another instance had claimed it.
func (d *Dispatcher) attempt(ctx context.Context, ep Endpoint, dl Delivery) (ok, sent bool, err error) {
	now := d.clock().UTC().Truncate(time.Microsecond)
	until := now.Add(d.cfg.Lease)
	got, err := d.store.Claim(ctx, dl.ID, now, until)
	if err != nil || !got {
		return false, false, err
	}
	dl.Attempts++
	status, sendErr := d.post(ctx, ep, dl, now)
	done := d.clock().UTC().Truncate(time.Microsecond)
	dl.LastStatus, dl.LastError, dl.UpdatedAt = status, "", done
	switch {
	case sendErr == nil && status >= 200 && status < 300:
		dl.State, dl.DeliveredAt = Delivered, &done
		ok = true
	case dl.Attempts >= MaxAttempts:
		dl.State, dl.LastError = Failed, describe(status, sendErr)
	default:
		dl.State, dl.LastError, dl.NextAttemptAt = Pending, describe(status, sendErr), done.Add(Backoff(dl.Attempts))
	}
	if !ok {
		d.log.Warn("webhook delivery failed", slog.Int64("delivery", dl.ID), slog.Int64("endpoint", ep.ID),
			slog.Int("attempt", dl.Attempts), slog.Int("status", status), slog.String("error", dl.LastError))
	}
	// The outcome is written even if ctx ended mid-attempt: the endpoint
	// may have been told, and a retry is due either way.
	if err := d.store.Finish(context.WithoutCancel(ctx), dl, until); err != nil {
		return false, true, err
	}
	return ok, true, nil
}

// errSecretUnreadable fails the attempts of an endpoint whose stored secret
// does not open under the data key (GormStorage.endpoint).
var errSecretUnreadable = errors.New("the endpoint's signing secret does not open under PAYDESK_DATA_KEY: nothing is sent unsigned")

// post sends one attempt; status 0 when no answer came.
func (d *Dispatcher) post(ctx context.Context, ep Endpoint, dl Delivery, now time.Time) (int, error) {
	if ep.Secret == "" {
		// An empty key would make a signature anyone can forge.
		return 0, errSecretUnreadable
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(dl.Payload))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "paydesk-webhooks/1")
	req.Header.Set(SignatureHeader, Sign(ep.Secret, now, dl.Payload))
	req.Header.Set("Paydesk-Event-Id", strconv.FormatInt(dl.EventID, 10))
	req.Header.Set("Paydesk-Event-Type", string(dl.EventType))
	req.Header.Set("Paydesk-Delivery-Id", strconv.FormatInt(dl.ID, 10))
	res, err := d.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	return res.StatusCode, nil
}
