package push

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paydesk/paydesk/rbac"
)

// Config tunes a Hub. Zero values take the defaults.
type Config struct {
	// Bus wakes the other instances when this one has written events, and
	// this one when they have. Nil for a single instance.
	Bus Bus
	// PollInterval is how often the outbox is polled even without a
	// wake-up, which bounds the delay a lost wake-up causes (default 250 ms).
	PollInterval time.Duration
	// Lookback is how far back, before the previous poll, a poll looks for
	// merchants whose sequence moved: longer than a transaction that
	// writes events can take plus the clock skew between instances
	// (default 15 s).
	Lookback time.Duration
	// QueueSize bounds the events waiting for one subscriber; a live
	// subscriber that falls further behind is cut off (default 256).
	QueueSize int
	// MaxReplay is how many events of its sequence a reconnecting client
	// may have missed and still be replayed them; further behind it is
	// told to resync (default 10,000).
	MaxReplay int64
	// Logger receives the dispatcher's troubles. Nil discards.
	Logger *slog.Logger
	// Seen, if set, is told of every event the dispatcher finds, from any
	// instance, after it committed and before it is delivered: the read
	// caches drop what staff.disabled and merchant.updated say changed.
	Seen func(e Event)
}

// Errors that end a Stream; the transport turns each into a close code.
var (
	// ErrSlowConsumer: the subscriber's queue overflowed; it may reconnect
	// with its last seq and lose nothing.
	ErrSlowConsumer = errors.New("push: the subscriber fell too far behind")
	// ErrStaffDisabled: the staff member behind the subscription was disabled.
	ErrStaffDisabled = errors.New("push: the staff member was disabled")
	// ErrSessionEnded: the login session the subscriber authenticated with
	// ended (a logout); the subscriber's other sessions go on.
	ErrSessionEnded = errors.New("push: the login session ended")
	// ErrClosed: the hub is shutting down; reconnect to another instance.
	ErrClosed = errors.New("push: the hub is closed")
)

// Hub delivers the outbox's events to the subscribers on this instance.
// Its dispatcher polls the outbox (at once when this instance emits or the
// Bus says another did, and every PollInterval anyway) and hands each new
// event to the streams that may see it.
type Hub struct {
	ob  *Outbox
	cfg Config
	log *slog.Logger

	mu        sync.RWMutex
	merchants map[int64]*group
	wallets   map[int64]streams
	closed    bool
	count     atomic.Int64

	kick      chan struct{}
	publish   chan struct{}
	lastLocal atomic.Int64 // unix nanos of the last local Emit
	cancel    context.CancelFunc
	done      sync.WaitGroup

	// The dispatcher's state, touched by its goroutine only.
	delivered map[int64]int64 // merchant → last seq handed to the streams
	lastPoll  time.Time
	primed    bool
}

// NewHub returns a hub over the outbox; Start runs it.
func NewHub(ob *Outbox, cfg Config) *Hub {
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 250 * time.Millisecond
	}
	if cfg.Lookback <= 0 {
		cfg.Lookback = 15 * time.Second
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 256
	}
	if cfg.MaxReplay <= 0 {
		cfg.MaxReplay = 10_000
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Hub{ob: ob, cfg: cfg, log: log, merchants: map[int64]*group{}, wallets: map[int64]streams{},
		kick: make(chan struct{}, 1), publish: make(chan struct{}, 1), delivered: map[int64]int64{}}
	f := func(int64) {
		h.lastLocal.Store(time.Now().UnixNano())
		h.wake()
	}
	ob.emitted.Store(&f)
	return h
}

// Outbox returns the outbox the hub delivers from.
func (h *Hub) Outbox() *Outbox { return h.ob }

// Start primes the dispatcher with the outbox's current position, so that
// only events written from now on are dispatched (subscribers replay the
// rest themselves), and runs it, and the Bus listener, until Close.
func (h *Hub) Start(ctx context.Context) error {
	if _, err := h.poll(ctx); err != nil {
		return err
	}
	ctx, h.cancel = context.WithCancel(context.WithoutCancel(ctx))
	if h.cfg.Bus != nil {
		ready := make(chan struct{})
		var once sync.Once
		h.done.Go(func() {
			h.cfg.Bus.Listen(ctx, func() { once.Do(func() { close(ready) }) }, h.wake)
		})
		h.done.Go(func() { h.publisher(ctx) })
		select {
		case <-ready:
		case <-time.After(5 * time.Second):
			// Redis is slow or down: polling delivers meanwhile, and the
			// listener keeps trying.
			h.log.Warn("push: the bus is not listening yet; events from other instances arrive by polling until it is")
		}
	}
	h.done.Go(func() { h.run(ctx) })
	return nil
}

// Close stops the dispatcher and ends every stream with ErrClosed.
func (h *Hub) Close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	var all []*Stream
	for _, g := range h.merchants {
		for _, set := range g.staff {
			for s := range set {
				all = append(all, s)
			}
		}
	}
	for _, set := range h.wallets {
		for s := range set {
			all = append(all, s)
		}
	}
	h.mu.Unlock()
	for _, s := range all {
		s.fail(ErrClosed)
	}
	if h.cancel != nil {
		h.cancel()
	}
	h.done.Wait()
}

// Subscribers returns how many streams are open on this instance.
func (h *Hub) Subscribers() int { return int(h.count.Load()) }

// wake makes the dispatcher poll now.
func (h *Hub) wake() {
	select {
	case h.kick <- struct{}{}:
	default:
	}
}

// Disconnect ends the streams of a staff member with ErrStaffDisabled and
// returns how many there were. Streams on other instances end when the
// staff.disabled event reaches them.
func (h *Hub) Disconnect(merchantID, staffID int64) int {
	h.mu.RLock()
	var hit []*Stream
	if g := h.merchants[merchantID]; g != nil {
		for s := range g.staff[staffID] {
			hit = append(hit, s)
		}
	}
	h.mu.RUnlock()
	for _, s := range hit {
		s.fail(ErrStaffDisabled)
	}
	return len(hit)
}

// EndSession ends, with ErrSessionEnded, the streams on this instance of
// who (a staff member: MerchantID and StaffID; or a customer: WalletID)
// that were opened in login session who.Session, and returns how many
// there were. Streams of the same person's other sessions go on.
//
// SessionEnded reaches every instance; EndSession only this one.
func (h *Hub) EndSession(who Audience) int {
	if who.Session == "" {
		return 0
	}
	h.mu.RLock()
	var set streams
	if who.Customer() {
		set = h.wallets[who.WalletID]
	} else if g := h.merchants[who.MerchantID]; g != nil {
		set = g.staff[who.StaffID]
	}
	var hit []*Stream
	for s := range set {
		if s.aud.Session == who.Session {
			hit = append(hit, s)
		}
	}
	h.mu.RUnlock()
	for _, s := range hit {
		s.fail(ErrSessionEnded)
	}
	return len(hit)
}

// SessionEnded closes the streams of who's login session who.Session.
// A staff member's it closes on every instance, through a session.ended
// event in the outbox: call it inside the transaction that revokes the
// session, and the streams end once that commits. A customer's it closes
// at once on this instance only: wallet events have no merchant sequence
// to carry the news to the others, where the customer's sockets of that
// session last until their access token expires (4002).
func (h *Hub) SessionEnded(ctx context.Context, who Audience) error {
	if who.Session == "" {
		return nil
	}
	if who.Customer() {
		h.EndSession(who)
		return nil
	}
	return h.ob.SessionEnded(ctx, who.MerchantID, who.StaffID, who.Session)
}

func (h *Hub) add(s *Stream) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return ErrClosed
	}
	h.count.Add(1)
	if s.aud.Customer() {
		h.wallets[s.aud.WalletID] = h.wallets[s.aud.WalletID].with(s)
		return nil
	}
	g := h.merchants[s.aud.MerchantID]
	if g == nil {
		g = &group{staff: map[int64]streams{}, managers: map[int64]streams{}, cashiers: map[int64]streams{}}
		h.merchants[s.aud.MerchantID] = g
	}
	g.update(s, streams.with)
	return nil
}

func (h *Hub) remove(s *Stream) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.aud.Customer() {
		if set := h.wallets[s.aud.WalletID]; set.has(s) {
			h.count.Add(-1)
			if set = set.without(s); set == nil {
				delete(h.wallets, s.aud.WalletID)
			} else {
				h.wallets[s.aud.WalletID] = set
			}
		}
		return
	}
	g := h.merchants[s.aud.MerchantID]
	if g == nil || !g.staff[s.aud.StaffID].has(s) {
		return
	}
	h.count.Add(-1)
	g.update(s, streams.without)
	if len(g.staff) == 0 {
		delete(h.merchants, s.aud.MerchantID)
	}
}

// streams is a set of streams.
type streams map[*Stream]struct{}

func (set streams) has(s *Stream) bool {
	_, ok := set[s]
	return ok
}

// with adds s, making the set if need be.
func (set streams) with(s *Stream) streams {
	if set == nil {
		set = streams{}
	}
	set[s] = struct{}{}
	return set
}

// without removes s, and returns nil for an empty set.
func (set streams) without(s *Stream) streams {
	delete(set, s)
	if len(set) == 0 {
		return nil
	}
	return set
}

// group is a merchant's streams, indexed so that an event is offered only
// to the streams that may see it rather than to every socket of the
// merchant: with thousands of cashiers' sockets, checking each one for
// each payment was most of the dispatcher's work.
type group struct {
	staff    map[int64]streams // by staff member, every role
	owners   streams
	managers map[int64]streams // by store
	cashiers map[int64]streams // by store
}

// update applies op (with or without) to every index s belongs in.
func (g *group) update(s *Stream, op func(streams, *Stream) streams) {
	set := func(m map[int64]streams, k int64) {
		if v := op(m[k], s); v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	set(g.staff, s.aud.StaffID)
	switch s.aud.Role {
	case rbac.Owner:
		g.owners = op(g.owners, s)
	case rbac.Manager:
		set(g.managers, s.aud.StoreID)
	case rbac.Cashier:
		set(g.cashiers, s.aud.StoreID)
	}
}

// offer pushes m to the streams of set that may see it; only, when set
// is someone's own, the cashier role's streams, since the other roles are
// offered everything of theirs already.
func offer(set streams, m *Message, cashiersOnly bool) {
	for s := range set {
		if (!cashiersOnly || s.aud.Role == rbac.Cashier) && Visible(s.aud, &m.Event) {
			s.push(m)
		}
	}
}

// deliver hands events, in order, to every stream that may see them. The
// streams offered an event are a superset of those Visible admits (a
// cashier sees only payments and refunds, of their own orders or of the
// store QR); Visible has the last word.
func (h *Hub) deliver(events []Event) {
	if h.cfg.Seen != nil {
		for _, e := range events {
			h.cfg.Seen(e)
		}
	}
	h.mu.RLock()
	var kicked [][2]int64
	var ended []Audience
	for _, e := range events {
		m := newMessage(e)
		if g := h.merchants[e.MerchantID]; g != nil {
			offer(g.owners, m, false)
			switch e.Type {
			case PaymentPaying, PaymentPaid, PaymentClosed, RefundSucceeded:
				offer(g.managers[e.StoreID], m, false)
				if e.CashierID != 0 {
					offer(g.staff[e.CashierID], m, true)
				} else {
					offer(g.cashiers[e.StoreID], m, false)
				}
			default:
				for _, set := range g.managers {
					offer(set, m, false)
				}
			}
		}
		if e.WalletID != 0 {
			offer(h.wallets[e.WalletID], m, false)
		}
		switch {
		case e.Type == StaffDisabled && e.CashierID != 0:
			kicked = append(kicked, [2]int64{e.MerchantID, e.CashierID})
		case e.Type == SessionEnded && e.CashierID != 0:
			var d sessionData
			if json.Unmarshal(e.Data, &d) == nil && d.Session != "" {
				ended = append(ended, Audience{MerchantID: e.MerchantID, StaffID: e.CashierID, Session: d.Session})
			}
		}
	}
	h.mu.RUnlock()
	// A staff member disabled, or a session logged out, through any
	// instance loses their sockets here as soon as the event arrives.
	for _, k := range kicked {
		h.Disconnect(k[0], k[1])
	}
	for _, who := range ended {
		h.EndSession(who)
	}
}
