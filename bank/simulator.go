package bank

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"slices"
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
}

// Simulator is the built-in bank: it keeps its cards, debits and payouts in
// memory, as an outside bank would keep them out of paydesk's database.
// It is safe for concurrent use.
type Simulator struct {
	cfg SimulatorConfig

	mu      sync.Mutex
	rng     *mrand.Rand
	cards   map[string]string // token -> card number
	debits  map[string]*debitRecord
	refunds map[string]*refundRecord
	payouts map[string]*payoutRecord
	seq     int64
	// fileMu serialises appends to the daily payout files.
	fileMu sync.Mutex

	stop   chan struct{}
	closed bool
	wg     sync.WaitGroup
}

type debitRecord struct {
	req DebitRequest
	res DebitResult
	err error // a recorded decline, replayed to retries
	// refunded is how much of the debit went back to the card.
	refunded paydesk.Amount
}

type payoutRecord struct {
	req PayoutRequest
	p   Payout
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
	return &Simulator{
		cfg:     cfg,
		rng:     mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		cards:   map[string]string{},
		debits:  map[string]*debitRecord{},
		refunds: map[string]*refundRecord{},
		payouts: map[string]*payoutRecord{},
		stop:    make(chan struct{}),
	}
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

// nextRef returns a new bank-side reference. Callers hold mu.
func (s *Simulator) nextRef(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s%010d", prefix, s.seq)
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
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.roll(s.cfg.FailureRate) {
		return Card{}, ErrUnavailable
	}
	token := simCardToken(number)
	s.cards[token] = number
	return Card{Token: token, Last4: number[len(number)-4:], BankName: bankName(number)}, nil
}

// The simulator's card tokens name how the card behaves, not its number,
// so that a card bound in one process can be debited by another (the demo
// binds its customers' cards before the server runs) and after a restart,
// the way a real bank's tokens outlive any one connection.
var simTokenKinds = map[string]string{"ok": SimCardOK, "declined": SimCardDeclined, "unavailable": SimCardUnavailable}

func simCardToken(number string) string {
	kind := "ok"
	switch number {
	case SimCardDeclined:
		kind = "declined"
	case SimCardUnavailable:
		kind = "unavailable"
	}
	return "card_" + kind + "_" + randomHex(12)
}

func simCardFromToken(token string) (string, bool) {
	rest, ok := strings.CutPrefix(token, "card_")
	kind, random, ok2 := strings.Cut(rest, "_")
	number, known := simTokenKinds[kind]
	if !ok || !ok2 || !known || len(random) != 24 || strings.Trim(random, "0123456789abcdef") != "" {
		return "", false
	}
	return number, true
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
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.roll(s.cfg.FailureRate) {
		return DebitResult{}, ErrUnavailable
	}
	if r, ok := s.debits[req.Reference]; ok {
		if r.req != req {
			return DebitResult{}, paydesk.ErrIdempotencyConflict.WithMessage("debit %s was made before with another card or amount", req.Reference)
		}
		return r.res, r.err
	}
	number, ok := s.cards[req.CardToken]
	if !ok {
		// A card bound by another process (`paydesk demo`) or before a
		// restart: its token says how it behaves.
		if number, ok = simCardFromToken(req.CardToken); !ok {
			return DebitResult{}, ErrCardNotFound
		}
	}
	switch number {
	case SimCardUnavailable:
		return DebitResult{}, ErrUnavailable
	case SimCardDeclined:
		// A decline is the bank's final word on this reference.
		s.debits[req.Reference] = &debitRecord{req: req, err: ErrCardDeclined}
		return DebitResult{}, ErrCardDeclined
	}
	res := DebitResult{Reference: req.Reference, BankReference: s.nextRef("D"), Amount: req.Amount, Currency: req.Currency, At: s.cfg.Clock()}
	s.debits[req.Reference] = &debitRecord{req: req, res: res}
	if s.roll(s.cfg.LostReplyRate) {
		return DebitResult{}, ErrUnavailable
	}
	return res, nil
}

// Debits lists the debits the bank carried out, in the order it did them:
// the bank's side of a reconciliation, and a test's view of what was charged.
func (s *Simulator) Debits() []DebitResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []DebitResult
	for _, r := range s.debits {
		if r.err == nil {
			out = append(out, r.res)
		}
	}
	slices.SortFunc(out, func(a, b DebitResult) int { return strings.Compare(a.BankReference, b.BankReference) })
	return out
}

func sortByBankRef(rs []RefundResult) {
	slices.SortFunc(rs, func(a, b RefundResult) int { return strings.Compare(a.BankReference, b.BankReference) })
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
