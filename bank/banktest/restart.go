package banktest

import (
	"context"
	"sync"

	"github.com/paydesk/paydesk/bank"
)

// Restarting returns a Channel that sends every call to a channel of its
// own, fresh from open, as if the bank connection (and the server holding
// it) restarted between any two calls, or each call went to another
// instance. Running RunChannelContract on it proves the channel keeps its
// word across restarts: a card bound before one is still there, a debit,
// refund or payout retried after one is recognised by its reference, and
// the status query knows every payout reference accepted before.
// The channels are closed by close, when the test ends.
func Restarting(open func() bank.Channel) (ch bank.Channel, close func()) {
	r := &restarting{open: open}
	return r, r.close
}

type restarting struct {
	open func() bank.Channel
	mu   sync.Mutex
	all  []bank.Channel
}

// next opens a new channel for one call.
func (r *restarting) next() bank.Channel {
	ch := r.open()
	r.mu.Lock()
	r.all = append(r.all, ch)
	r.mu.Unlock()
	return ch
}

func (r *restarting) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ch := range r.all {
		if c, ok := ch.(interface{ Close() }); ok {
			c.Close()
		}
	}
	r.all = nil
}

func (r *restarting) BindCard(ctx context.Context, card bank.CardDetails) (bank.Card, error) {
	return r.next().BindCard(ctx, card)
}

func (r *restarting) Debit(ctx context.Context, req bank.DebitRequest) (bank.DebitResult, error) {
	return r.next().Debit(ctx, req)
}

func (r *restarting) Payout(ctx context.Context, req bank.PayoutRequest) (bank.Payout, error) {
	return r.next().Payout(ctx, req)
}

func (r *restarting) PayoutStatus(ctx context.Context, reference string) (bank.Payout, error) {
	return r.next().PayoutStatus(ctx, reference)
}

func (r *restarting) Refund(ctx context.Context, req bank.RefundRequest) (bank.RefundResult, error) {
	return r.next().Refund(ctx, req)
}
