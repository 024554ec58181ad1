package push

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paydesk/paydesk/storage"
)

// The outbox's SQL: the events table, its two sequence tables, and the
// dialects' upserts that number events.

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

func newEventRow(e Event) eventRow {
	r := eventRow{MerchantID: e.MerchantID, Seq: e.Seq, Type: string(e.Type), OrderID: e.OrderID, StoreID: e.StoreID,
		CashierID: e.CashierID, WalletID: e.WalletID, Payload: string(e.Data), CreatedAt: e.CreatedAt}
	if e.WalletID != 0 {
		r.WalletSeq = &e.WalletSeq
	}
	return r
}

// insertEvent writes one numbered event and returns its id.
func insertEvent(ctx context.Context, db *storage.DB, e Event) (int64, error) {
	r := newEventRow(e)
	if err := db.Writer(ctx).Create(&r).Error; err != nil {
		return 0, fmt.Errorf("write %s event of merchant %d: %w", e.Type, e.MerchantID, err)
	}
	return r.ID, nil
}

var eventColumns = []string{"merchant_id", "seq", "type", "order_id", "store_id", "cashier_id", "wallet_id", "wallet_seq", "payload", "created_at"}

// insertEvents writes numbered events, in multi-row inserts.
func insertEvents(ctx context.Context, db *storage.DB, events []*Event) error {
	rows := make([][]any, len(events))
	for i, e := range events {
		var walletSeq any
		if e.WalletID != 0 {
			walletSeq = e.WalletSeq
		}
		rows[i] = []any{e.MerchantID, e.Seq, string(e.Type), e.OrderID, e.StoreID, e.CashierID, e.WalletID, walletSeq, string(e.Data), e.CreatedAt}
	}
	if err := db.InsertRows(ctx, "events", eventColumns, rows); err != nil {
		return fmt.Errorf("write %d events: %w", len(rows), err)
	}
	return nil
}

// oldEventIDs returns up to n ids of events written before before, oldest first.
func oldEventIDs(ctx context.Context, db *storage.DB, before time.Time, n int) ([]int64, error) {
	var ids []int64
	err := db.Reader(ctx).Raw("SELECT id FROM events WHERE created_at < ? ORDER BY created_at LIMIT ?", before, n).Scan(&ids).Error
	return ids, err
}

// deleteEvents deletes events by id and returns how many it deleted.
func deleteEvents(ctx context.Context, db *storage.DB, ids []int64) (int64, error) {
	res := db.Writer(ctx).Exec("DELETE FROM events WHERE id IN ?", ids)
	return res.RowsAffected, res.Error
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

// number gives events, in their order, the next numbers of their merchants'
// sequences and of their wallets' (WalletID 0: none), inside the
// transaction in ctx; now stamps the merchants' sequences.
func number(ctx context.Context, db *storage.DB, events []*Event, now time.Time) error {
	merchants, wallets := map[int64]int64{}, map[int64]int64{}
	for _, e := range events {
		merchants[e.MerchantID]++
		if e.WalletID != 0 {
			wallets[e.WalletID]++
		}
	}
	// Merchants before wallets, each in key order: the order every
	// transaction locks sequence rows in.
	first, err := take(ctx, db, []seqTake{{merchantSeqs, merchants}, {walletSeqs, wallets}}, now)
	if err != nil {
		return err
	}
	mnext, wnext := first[0], first[1]
	for _, e := range events {
		e.Seq = mnext[e.MerchantID]
		mnext[e.MerchantID]++
		e.WalletSeq = 0
		if e.WalletID != 0 {
			e.WalletSeq = wnext[e.WalletID]
			wnext[e.WalletID]++
		}
	}
	return nil
}

// maxSeqRows bounds the sequence rows one statement takes numbers of.
const maxSeqRows = 500

// seqTake asks for counts[id] numbers of each id's sequence in s.
type seqTake struct {
	s      sequence
	counts map[int64]int64
}

// take takes the numbers each seqTake asks for, inside the transaction in
// ctx, creating a sequence at its count, and returns for each the first
// number taken of every id. Per chunk of ids it is one upsert: the rows it
// writes stay locked until commit, which is what makes numbers commit in
// order and a rollback give them back. Being one statement per row, it
// needs no "create the row first" step, which on MySQL would take a gap
// lock on the missing row (concurrent first events would deadlock) or a
// second connection (which can wait on our own transaction, unseen by
// InnoDB). Ids go in ascending order, and the takes in the order given, so
// that two transactions lock the rows they share in the same order.
//
// SQLite answers each upsert with RETURNING. MariaDB has no UPDATE ...
// RETURNING: all the upserts go in one round trip (ExecAll) and one read
// of both tables follows (a transaction sees its own writes), two round
// trips in all inside the hot account's batch.
func take(ctx context.Context, db *storage.DB, takes []seqTake, now time.Time) ([]map[int64]int64, error) {
	type got struct {
		Seq     int
		ID      int64
		LastSeq int64
	}
	var rows []got
	var upserts []storage.Stmt
	var reads []string
	var readArgs []any
	for i, t := range takes {
		ids := make([]int64, 0, len(t.counts))
		for id := range t.counts {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for start := 0; start < len(ids); start += maxSeqRows {
			chunk := ids[start:min(start+maxSeqRows, len(ids))]
			q, args := t.s.upsert(db.Dialect, chunk, t.counts, now)
			if db.Dialect == storage.SQLite {
				var part []got
				q += " RETURNING " + strconv.Itoa(i) + " AS seq, " + t.s.key + " AS id, last_seq"
				if err := db.Writer(ctx).Raw(q, args...).Scan(&part).Error; err != nil {
					return nil, fmt.Errorf("take numbers of %d %s: %w", len(chunk), t.s.table, err)
				}
				rows = append(rows, part...)
				continue
			}
			upserts = append(upserts, storage.Stmt{SQL: q, Args: args})
			reads = append(reads, "SELECT "+strconv.Itoa(i)+" AS seq, "+t.s.key+" AS id, last_seq FROM "+t.s.table+
				" WHERE "+t.s.key+" IN ("+strings.TrimSuffix(strings.Repeat("?,", len(chunk)), ",")+")")
			for _, id := range chunk {
				readArgs = append(readArgs, id)
			}
		}
	}
	if len(upserts) > 0 {
		if err := db.ExecAll(ctx, upserts); err != nil {
			return nil, fmt.Errorf("take event numbers: %w", err)
		}
		if err := db.Writer(ctx).Raw(strings.Join(reads, " UNION ALL "), readArgs...).Scan(&rows).Error; err != nil {
			return nil, fmt.Errorf("read event numbers: %w", err)
		}
	}
	first := make([]map[int64]int64, len(takes))
	for i := range takes {
		first[i] = make(map[int64]int64, len(takes[i].counts))
	}
	for _, r := range rows {
		if n, ok := takes[r.Seq].counts[r.ID]; ok {
			first[r.Seq][r.ID] = r.LastSeq - n + 1
		}
	}
	for i, t := range takes {
		if len(first[i]) != len(t.counts) {
			return nil, fmt.Errorf("take numbers of %d %s: %d rows came back", len(t.counts), t.s.table, len(first[i]))
		}
	}
	return first, nil
}

// upsert is the statement that adds counts[id] to each id's sequence of
// chunk, creating missing ones at their count.
func (s sequence) upsert(d storage.Dialect, chunk []int64, counts map[int64]int64, now time.Time) (string, []any) {
	cols, one := s.key+", last_seq", "(?, ?)"
	if s.stamped {
		cols, one = cols+", updated_at", "(?, ?, ?)"
	}
	var q strings.Builder
	q.WriteString("INSERT INTO " + s.table + " (" + cols + ") VALUES ")
	args := make([]any, 0, 3*len(chunk))
	for i, id := range chunk {
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString(one)
		args = append(args, id, counts[id])
		if s.stamped {
			args = append(args, now)
		}
	}
	if d == storage.SQLite {
		q.WriteString(" ON CONFLICT (" + s.key + ") DO UPDATE SET last_seq = " + s.table + ".last_seq + excluded.last_seq")
		if s.stamped {
			q.WriteString(", updated_at = excluded.updated_at")
		}
		return q.String(), args
	}
	q.WriteString(" ON DUPLICATE KEY UPDATE last_seq = last_seq + VALUES(last_seq)")
	if s.stamped {
		q.WriteString(", updated_at = VALUES(updated_at)")
	}
	return q.String(), args
}

// MerchantEvents returns up to limit events of a merchant after seq, in order.
func (o *Outbox) MerchantEvents(ctx context.Context, merchantID, after int64, limit int) ([]Event, error) {
	return o.list(ctx, "merchant_id = ? AND seq > ?", "seq", limit, merchantID, after)
}

// merchantEventsOf returns up to limit events of a merchant with after <
// seq <= upTo whose type is one of types, in order.
func (o *Outbox) merchantEventsOf(ctx context.Context, merchantID, after, upTo int64, types []string, limit int) ([]Event, error) {
	return o.list(ctx, "merchant_id = ? AND seq > ? AND seq <= ? AND type IN ?", "seq", limit, merchantID, after, upTo, types)
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
