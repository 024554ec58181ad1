package bank

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/paydesk/paydesk"
)

// Card and account numbers that make the Simulator behave deterministically,
// so a test can make a given card fail without touching the failure rate.
// Any other card number that passes the Luhn check works.
const (
	SimCardOK          = "4242424242424242" // debits succeed
	SimCardUnionPay    = "6200000000000005" // debits succeed; a UnionPay BIN
	SimCardDeclined    = "4000000000000002" // binds, but every debit is CARD_DECLINED
	SimCardUnavailable = "4000000000000119" // binds, but every debit is BANK_UNAVAILABLE and charges nothing
	SimCardBlocked     = "4000000000000069" // binding is CARD_DECLINED
	SimAccountClosed   = "999900000002"     // payouts to it end FAILED ("account closed")
	// SimAccountNoReply takes payouts but every reply to Payout is lost
	// (BANK_UNAVAILABLE): the caller must find them with PayoutStatus.
	SimAccountNoReply = "999900000003"
)

// SimulatorConfig tunes a Simulator. The zero value is a fast bank that
// never fails except for the magic numbers above.
type SimulatorConfig struct {
	// Latency is added to every call, as a real bank's round trip.
	Latency time.Duration
	// FailureRate is the chance (0 to 1) that a call fails with
	// BANK_UNAVAILABLE before the bank does anything.
	FailureRate float64
	// LostReplyRate is the chance (0 to 1) that a debit or payout is carried
	// out but its reply is lost: the caller sees BANK_UNAVAILABLE and must
	// find out by retrying with the same reference.
	LostReplyRate float64
	// Seed makes the failures reproducible; 0 picks a random seed.
	Seed uint64
	// Clock stamps results; SystemClock if nil.
	Clock paydesk.Clock

	// PayoutDelay is how long the bank takes to settle a submitted payout.
	PayoutDelay time.Duration
	// CallbackSecret signs callbacks (see SignCallback).
	CallbackSecret []byte
	// Deliver sends a signed callback to paydesk, as an HTTP POST would. It
	// is retried, with growing pauses, until it returns nil or five tries
	// failed; nil Deliver sends no callbacks (PayoutStatus still answers).
	Deliver func(ctx context.Context, body []byte, signature string) error
	// DuplicateCallbacks delivers every callback twice, as real banks
	// sometimes do, to prove receivers are idempotent.
	DuplicateCallbacks bool
	// PayoutFailureRate is the chance (0 to 1) that a submitted payout ends
	// FAILED ("rejected by the beneficiary bank") instead of PAID.
	PayoutFailureRate float64
	// ManualPayouts keeps every payout SUBMITTED until Complete decides it,
	// so a test chooses the outcome and its moment.
	ManualPayouts bool
	// PayoutFileDir, if set, is where the bank writes its daily file of
	// paid payouts, payouts-YYYY-MM-DD.csv (see payoutfile.go).
	PayoutFileDir string
	// FileLocation is the time zone of the bank's business day, which
	// names the daily files; UTC if nil.
	FileLocation *time.Location
	// Store keeps the bank's side; in memory if nil. With NewGormSimStore
	// cards, debits, refunds and payouts survive restarts, and every
	// instance (and operator command) on the database shares one bank.
	Store SimStore
	// SweepInterval is how often the simulator settles payouts that no
	// goroutine of its own is settling: submitted before a restart, or by
	// another process on the same Store. Default: PayoutDelay, at least 1s.
	// Without ManualPayouts, the first sweep runs at once.
	SweepInterval time.Duration
}

// Simulator is the built-in bank. It keeps its cards, debits, refunds and
// payouts in its Store (see SimStore): in paydesk's database in a server,
// in tables of its own, as an outside bank would keep them on its side.
// It is safe for concurrent use, and several Simulators on one Store act
// as one bank.
type Simulator struct {
	cfg   SimulatorConfig
	store SimStore

	mu  sync.Mutex
	rng *mrand.Rand
	// settling are the payouts a goroutine of this simulator settles.
	settling map[string]bool
	// fileMu serialises appends to the daily payout files.
	fileMu sync.Mutex

	stop   chan struct{}
	closed bool
	wg     sync.WaitGroup
}

var _ Channel = (*Simulator)(nil)

// NewSimulator returns a simulated bank. Close it to stop pending payouts
// and callbacks.
func NewSimulator(cfg SimulatorConfig) *Simulator {
	if cfg.Clock == nil {
		cfg.Clock = paydesk.SystemClock
	}
	if cfg.FileLocation == nil {
		cfg.FileLocation = time.UTC
	}
	seed := cfg.Seed
	if seed == 0 {
		seed = mrand.Uint64()
	}
	s := &Simulator{
		cfg:      cfg,
		store:    cfg.Store,
		rng:      mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		settling: map[string]bool{},
		stop:     make(chan struct{}),
	}
	if s.store == nil {
		s.store = newMemStore()
	}
	if cfg.Store != nil && !cfg.ManualPayouts {
		s.wg.Add(1)
		go s.sweepLoop()
	}
	return s
}

// Close stops the payouts still pending (they stay SUBMITTED) and waits for
// callbacks in flight.
func (s *Simulator) Close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.stop)
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// wait sleeps for the configured latency unless ctx ends first.
func (s *Simulator) wait(ctx context.Context) error {
	if s.cfg.Latency <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(s.cfg.Latency)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// roll reports whether an event of probability p happens. Callers hold mu.
func (s *Simulator) roll(p float64) bool { return p > 0 && s.rng.Float64() < p }

// nextRef returns a new bank-side reference, unique across instances and
// restarts: the prefix, the time in microseconds, and random digits.
func (s *Simulator) nextRef(prefix string) string {
	return fmt.Sprintf("%s%016d%s", prefix, time.Now().UnixMicro(), randomHex(4))
}

// BindCard checks the card and returns a new token for it.
func (s *Simulator) BindCard(ctx context.Context, card CardDetails) (Card, error) {
	if err := s.wait(ctx); err != nil {
		return Card{}, err
	}
	number, err := card.validate(s.cfg.Clock())
	if err != nil {
		return Card{}, err
	}
	if number == SimCardBlocked {
		return Card{}, ErrCardDeclined.WithMessage("the bank refused to bind this card")
	}
	if s.rolls(s.cfg.FailureRate) {
		return Card{}, ErrUnavailable
	}
	token := "card_" + randomHex(12)
	if err := s.store.AddCard(ctx, token, number, s.cfg.Clock()); err != nil {
		return Card{}, fmt.Errorf("%w (%v)", ErrUnavailable, err)
	}
	return Card{Token: token, Last4: number[len(number)-4:], BankName: bankName(number)}, nil
}

// bankName names the issuer from the card's first digits, as a card BIN table would.
func bankName(number string) string {
	switch {
	case strings.HasPrefix(number, "62"):
		return "UnionPay Simulated Bank"
	case strings.HasPrefix(number, "4"):
		return "Visa Simulated Bank"
	case strings.HasPrefix(number, "5"):
		return "Mastercard Simulated Bank"
	}
	return "Simulated Bank"
}

// Debit takes money from a bound card, once per Reference.
func (s *Simulator) Debit(ctx context.Context, req DebitRequest) (DebitResult, error) {
	if err := s.wait(ctx); err != nil {
		return DebitResult{}, err
	}
	if err := validReference(req.Reference); err != nil {
		return DebitResult{}, err
	}
	if err := validMoney(req.Amount, req.Currency); err != nil {
		return DebitResult{}, err
	}
	if s.rolls(s.cfg.FailureRate) {
		return DebitResult{}, ErrUnavailable
	}
	replay := func(d SimDebit) (DebitResult, error) {
		if d.Req != req {
			return DebitResult{}, paydesk.ErrIdempotencyConflict.WithMessage("debit %s was made before with another card or amount", req.Reference)
		}
		if d.Declined {
			return DebitResult{}, ErrCardDeclined
		}
		return d.Res, nil
	}
	if d, found, err := s.store.Debit(ctx, req.Reference); err != nil {
		return DebitResult{}, fmt.Errorf("%w (%v)", ErrUnavailable, err)
	} else if found {
		return replay(d)
	}
	number, found, err := s.store.CardNumber(ctx, req.CardToken)
	if err != nil {
		return DebitResult{}, fmt.Errorf("%w (%v)", ErrUnavailable, err)
	}
	if !found {
		return DebitResult{}, ErrCardNotFound
	}
	d := SimDebit{Req: req}
	switch number {
	case SimCardUnavailable:
		return DebitResult{}, ErrUnavailable
	case SimCardDeclined:
		// A decline is the bank's final word on this reference.
		d.Declined = true
	default:
		d.Res = DebitResult{Reference: req.Reference, BankReference: s.nextRef("D"), Amount: req.Amount, Currency: req.Currency, At: s.cfg.Clock()}
	}
	stored, created, err := s.store.AddDebit(ctx, d)
	if err != nil {
		return DebitResult{}, fmt.Errorf("%w (%v)", ErrUnavailable, err)
	}
	res, err := replay(stored)
	if err == nil && created && s.rolls(s.cfg.LostReplyRate) {
		return DebitResult{}, ErrUnavailable
	}
	return res, err
}

// rolls is roll taking mu.
func (s *Simulator) rolls(p float64) bool {
	if p <= 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.roll(p)
}

// Debits lists the debits the bank carried out, in the order it did them:
// the bank's side of a reconciliation, and a test's view of what was charged.
// It panics if the store cannot be read: it is for tests and tools.
func (s *Simulator) Debits() []DebitResult {
	out, err := s.store.Debits(context.Background())
	if err != nil {
		panic(err)
	}
	return out
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
