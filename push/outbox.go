package push

import (
	"context"
	"encoding/json"
	"slices"
	"sync/atomic"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/storage"
)

// Emitter writes events to the outbox. Services that report changes
// (settlement, withdrawals) take one and call Emit inside the transaction
// of the change.
//
// Inside a storage.Bulk (a ledger batch) the event is only gathered, and
// numbered and written when the Bulk is flushed: Emit then returns it with
// ID, Seq and WalletSeq 0, which no written event has. Callers that need
// the numbers emit outside a Bulk (or read the event back after Flush).
type Emitter interface {
	Emit(ctx context.Context, e Event) (Event, error)
}

// Outbox is the events table and its sequences. Writing needs no running
// hub: an operator command that emits an event leaves it for the servers'
// dispatchers to find.
type Outbox struct {
	db    *storage.DB
	clock paydesk.Clock

	// emitted, when set (by a Hub), is told of every Emit, so the local
	// dispatcher looks for the event as soon as it may have committed.
	// Events gathered in a Bulk are told of when the Bulk writes them.
	emitted atomic.Pointer[func(merchantID int64)]
}

var _ Emitter = (*Outbox)(nil)

// NewOutbox returns the outbox in db. A nil clock is the system clock.
func NewOutbox(db *storage.DB, clock paydesk.Clock) *Outbox {
	if clock == nil {
		clock = paydesk.SystemClock
	}
	return &Outbox{db: db, clock: clock}
}

// ErrInvalidEvent is an event Emit refuses: a bug in the caller.
var ErrInvalidEvent = &paydesk.Error{Kind: paydesk.KindInternal, Code: "INVALID_EVENT", Message: "invalid event"}

// Emit numbers e in its merchant's sequence (and its wallet's, if it has
// one), writes it, and returns it with its ID, Seq and WalletSeq. Call it
// inside the transaction of the change e reports, so the event exists if and
// only if the change committed; outside a transaction it runs its own.
//
// Inside a storage.Bulk of the outbox's database, e is checked at once but
// numbered and written with the batch's other events when the Bulk is
// flushed (one statement per sequence table and one per 500 events, instead
// of up to five per event), and Emit returns it with ID, Seq and WalletSeq
// still 0.
func (o *Outbox) Emit(ctx context.Context, e Event) (Event, error) {
	e, err := o.check(e)
	if err != nil {
		return Event{}, err
	}
	if g, ok := storage.Gather(ctx, o.db, gatherKey{}, func() *gatherer { return &gatherer{db: o.db} }); ok {
		e.Data = slices.Clone(e.Data) // written later: not the caller's buffer
		g.events = append(g.events, gathered{ob: o, e: e})
		return e, nil
	}
	var out Event
	err = o.db.InTx(ctx, func(ctx context.Context) error {
		out = e // afresh on each try
		if err := number(ctx, o.db, []*Event{&out}, out.CreatedAt); err != nil {
			return err
		}
		var err error
		out.ID, err = insertEvent(ctx, o.db, out)
		return err
	})
	if err != nil {
		return Event{}, err
	}
	o.notify(out.MerchantID)
	return out, nil
}

// check validates e and returns it ready to be numbered: stamped, with
// its data defaulted to {} and no numbers.
func (o *Outbox) check(e Event) (Event, error) {
	if e.MerchantID <= 0 || e.Type == "" || len(e.Type) > 48 {
		return Event{}, ErrInvalidEvent.WithMessage("event %q of merchant %d", e.Type, e.MerchantID)
	}
	if len(e.Data) == 0 {
		e.Data = json.RawMessage("{}")
	}
	if !json.Valid(e.Data) || e.Data[0] != '{' {
		return Event{}, ErrInvalidEvent.WithMessage("event %s: data is not a JSON object", e.Type)
	}
	e.CreatedAt = o.clock().UTC().Truncate(time.Microsecond)
	e.ID, e.Seq, e.WalletSeq = 0, 0, 0
	return e, nil
}

func (o *Outbox) notify(merchantID int64) {
	if f := o.emitted.Load(); f != nil {
		(*f)(merchantID)
	}
}

// gatherKey registers the outbox's gatherer in a storage.Bulk: one per
// Bulk (per database), whichever Outbox values emit into it, so that the
// batch locks every sequence row it needs in one sorted pass.
type gatherKey struct{}

// gatherer holds the events emitted inside one Bulk, in emission order.
type gatherer struct {
	db     *storage.DB
	events []gathered
}

type gathered struct {
	ob *Outbox // for its clock and its wake-up hook
	e  Event
}

// Late: the merchants' sequence rows are shared by every instance's
// batches, so the ledger takes them with its hot accounts, at the end of
// the batch (storage.Bulk.FlushLate).
func (g *gatherer) Late() bool { return true }

// Flush numbers the gathered events, in the order they were emitted, and
// writes them: one upsert over the merchants' sequences (in merchant
// order, as every transaction takes them, so two instances cannot
// deadlock), one over the wallets', read back on MySQL, and one insert per
// 500 events. The sequence rows stay locked until the batch commits, so
// numbers commit in order and a rollback gives them back, as at once.
func (g *gatherer) Flush(ctx context.Context) error {
	if len(g.events) == 0 {
		return nil
	}
	err := g.db.InTx(ctx, func(ctx context.Context) error {
		events := make([]*Event, len(g.events))
		for i := range g.events {
			events[i] = &g.events[i].e
		}
		if err := number(ctx, g.db, events, g.events[0].ob.clock().UTC().Truncate(time.Microsecond)); err != nil {
			return err
		}
		return insertEvents(ctx, g.db, events)
	})
	if err != nil {
		return err
	}
	type told struct {
		ob *Outbox
		id int64
	}
	seen := map[told]bool{}
	for _, p := range g.events {
		if k := (told{p.ob, p.e.MerchantID}); !seen[k] {
			seen[k] = true
			p.ob.notify(p.e.MerchantID)
		}
	}
	return nil
}
