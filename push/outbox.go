package push

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/storage"
)

// Emitter writes events to the outbox. Services that report changes
// (settlement, withdrawals) take one and call Emit inside the transaction
// of the change.
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

type eventRow struct {
	ID         int64
	MerchantID int64
	Seq        int64
	Type       string
	OrderID    int64
	StoreID    int64
	CashierID  int64
	WalletID   int64
	WalletSeq  *int64
	Payload    string
	CreatedAt  time.Time
}

func (eventRow) TableName() string { return "events" }

func (r eventRow) event() Event {
	e := Event{ID: r.ID, MerchantID: r.MerchantID, Seq: r.Seq, Type: Type(r.Type), OrderID: r.OrderID, StoreID: r.StoreID,
		CashierID: r.CashierID, WalletID: r.WalletID, Data: json.RawMessage(r.Payload), CreatedAt: r.CreatedAt}
	if r.WalletSeq != nil {
		e.WalletSeq = *r.WalletSeq
	}
	return e
}

// Emit numbers e in its merchant's sequence (and its wallet's, if it has
// one), writes it, and returns it with its ID, Seq and WalletSeq. Call it
// inside the transaction of the change e reports, so the event exists if and
// only if the change committed; outside a transaction it runs its own.
func (o *Outbox) Emit(ctx context.Context, e Event) (Event, error) {
	if !storage.InTxContext(ctx) {
		var out Event
		err := o.db.InTx(ctx, func(ctx context.Context) (err error) {
			out, err = o.Emit(ctx, e)
			return err
		})
		return out, err
	}
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
	var err error
	if e.Seq, err = o.next(ctx, merchantSeqs, e.MerchantID, e.CreatedAt); err != nil {
		return Event{}, err
	}
	e.WalletSeq = 0
	if e.WalletID != 0 {
		if e.WalletSeq, err = o.next(ctx, walletSeqs, e.WalletID, e.CreatedAt); err != nil {
			return Event{}, err
		}
	}
	r := eventRow{MerchantID: e.MerchantID, Seq: e.Seq, Type: string(e.Type), OrderID: e.OrderID, StoreID: e.StoreID,
		CashierID: e.CashierID, WalletID: e.WalletID, Payload: string(e.Data), CreatedAt: e.CreatedAt}
	if e.WalletID != 0 {
		r.WalletSeq = &e.WalletSeq
	}
	if err := o.db.Writer(ctx).Create(&r).Error; err != nil {
		return Event{}, fmt.Errorf("write %s event of merchant %d: %w", e.Type, e.MerchantID, err)
	}
	e.ID = r.ID
	if f := o.emitted.Load(); f != nil {
		(*f)(e.MerchantID)
	}
	return e, nil
}

// sequence names one of the two sequence tables.
type sequence struct {
	table, key string
	stamped    bool // has updated_at, which the dispatcher polls
}

var (
	merchantSeqs = sequence{table: "event_sequences", key: "merchant_id", stamped: true}
	walletSeqs   = sequence{table: "wallet_event_sequences", key: "wallet_id"}
)

// next takes the next number of id's sequence inside the transaction in ctx,
// creating the sequence at 1. It is one upsert: the row it writes stays
// locked until commit, which is what makes numbers commit in order and a
// rollback give its number back. Being one statement, it needs no
// "create the row first" step, which on MySQL would take a gap lock on the
// missing row (concurrent first events would deadlock) or a second
// connection (which can wait on our own transaction, unseen by InnoDB).
func (o *Outbox) next(ctx context.Context, s sequence, id int64, now time.Time) (int64, error) {
	w := o.db.Writer(ctx)
	cols, vals, args := s.key+", last_seq", "?, 1", []any{id}
	set := "last_seq = " + s.table + ".last_seq + 1"
	if s.stamped {
		cols, vals, args = cols+", updated_at", vals+", ?", append(args, now)
	}
	if o.db.Dialect == storage.SQLite {
		if s.stamped {
			set += ", updated_at = excluded.updated_at"
		}
		var seqs []int64
		err := w.Raw("INSERT INTO "+s.table+" ("+cols+") VALUES ("+vals+") ON CONFLICT ("+s.key+") DO UPDATE SET "+set+" RETURNING last_seq", args...).
			Scan(&seqs).Error
		if err != nil || len(seqs) != 1 {
			return 0, fmt.Errorf("take the next number of %s %d: %v (%d rows)", s.table, id, err, len(seqs))
		}
		return seqs[0], nil
	}
	// MariaDB has no UPDATE ... RETURNING: read the number back; a
	// transaction sees its own write.
	set = "last_seq = last_seq + 1"
	if s.stamped {
		set += ", updated_at = VALUES(updated_at)"
	}
	if err := w.Exec("INSERT INTO "+s.table+" ("+cols+") VALUES ("+vals+") ON DUPLICATE KEY UPDATE "+set, args...).Error; err != nil {
		return 0, fmt.Errorf("take the next number of %s %d: %w", s.table, id, err)
	}
	var seq int64
	if err := w.Raw("SELECT last_seq FROM "+s.table+" WHERE "+s.key+" = ?", id).Scan(&seq).Error; err != nil {
		return 0, fmt.Errorf("read the number of %s %d: %w", s.table, id, err)
	}
	return seq, nil
}

// MerchantEvents returns up to limit events of a merchant after seq, in order.
func (o *Outbox) MerchantEvents(ctx context.Context, merchantID, after int64, limit int) ([]Event, error) {
	return o.list(ctx, "merchant_id = ? AND seq > ?", "seq", limit, merchantID, after)
}

// WalletEvents returns up to limit events of a wallet with after < wallet
// seq < before (before 0: no bound), in order.
func (o *Outbox) WalletEvents(ctx context.Context, walletID, after, before int64, limit int) ([]Event, error) {
	if before > 0 {
		return o.list(ctx, "wallet_id = ? AND wallet_seq > ? AND wallet_seq < ?", "wallet_seq", limit, walletID, after, before)
	}
	return o.list(ctx, "wallet_id = ? AND wallet_seq > ?", "wallet_seq", limit, walletID, after)
}

func (o *Outbox) list(ctx context.Context, where, order string, limit int, args ...any) ([]Event, error) {
	var rows []eventRow
	if err := o.db.Reader(ctx).Where(where, args...).Order(order).Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	out := make([]Event, len(rows))
	for i, r := range rows {
		out[i] = r.event()
	}
	return out, nil
}

// LastSeq returns the last number given in the audience's sequence (the
// merchant's for staff, the wallet's for customers), 0 before the first.
func (o *Outbox) LastSeq(ctx context.Context, a Audience) (int64, error) {
	s, id := merchantSeqs, a.MerchantID
	if a.Customer() {
		s, id = walletSeqs, a.WalletID
	}
	var seqs []int64
	if err := o.db.Reader(ctx).Raw("SELECT last_seq FROM "+s.table+" WHERE "+s.key+" = ?", id).Scan(&seqs).Error; err != nil {
		return 0, fmt.Errorf("read the last number of %s %d: %w", s.table, id, err)
	}
	if len(seqs) == 0 {
		return 0, nil
	}
	return seqs[0], nil
}

// head is one merchant's last number, as the dispatcher polls them.
type head struct {
	MerchantID int64
	LastSeq    int64
}

// heads returns the merchants whose sequence moved at or after since.
func (o *Outbox) heads(ctx context.Context, since time.Time) ([]head, error) {
	var hs []head
	if err := o.db.Reader(ctx).Raw("SELECT merchant_id, last_seq FROM event_sequences WHERE updated_at >= ?", since).Scan(&hs).Error; err != nil {
		return nil, fmt.Errorf("poll event sequences: %w", err)
	}
	return hs, nil
}
