package storage

import (
	"context"
	"sync"
)

// afterTxKey carries the hooks of the outermost transaction in a context.
type afterTxKey struct{}

type afterTx struct {
	mu    sync.Mutex
	fns   []func()
	ended bool
}

// withAfterTx returns ctx carrying a fresh list of AfterTx hooks, and the
// function that runs them, for the outermost InTx to defer.
func withAfterTx(ctx context.Context) (context.Context, func()) {
	h := &afterTx{}
	return context.WithValue(ctx, afterTxKey{}, h), func() {
		h.mu.Lock()
		fns := h.fns
		h.fns, h.ended = nil, true
		h.mu.Unlock()
		for _, fn := range fns {
			fn()
		}
	}
}

// AfterTx runs fn once the outermost transaction in ctx has ended, or at
// once when ctx carries none. It runs whether the transaction committed,
// rolled back or failed at its COMMIT (which may have committed all the
// same), so it suits what must never lag a committed change and costs
// little when run for nothing: dropping a cached row the transaction
// wrote (readcache). It never runs while the change is still invisible
// to other connections, so a reader it prompts sees the change.
func AfterTx(ctx context.Context, fn func()) {
	if h, ok := ctx.Value(afterTxKey{}).(*afterTx); ok && InTxContext(ctx) {
		h.mu.Lock()
		later := !h.ended // a context kept past its transaction's end runs fn now
		if later {
			h.fns = append(h.fns, fn)
		}
		h.mu.Unlock()
		if later {
			return
		}
	}
	fn()
}
