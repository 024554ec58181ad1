package storage

import (
	"context"
	"fmt"
	"math/bits"
	"sort"
	"strings"
	"time"
)

// Bulk gathers the writes that many requests make inside one ledger batch
// and writes them together when the batch is done: rows for the same table
// in multi-row INSERTs (one on MySQL, a few of fixed sizes on SQLite: see
// Chunks), and additions to the same counter row merged into one upsert. A
// batch of 64 payments then costs a handful of statements instead of
// several per payment, and a hot counter (today's figures of a
// busy merchant) is written once per batch. A package with writes of its
// own kind to gather (the push outbox numbers its events) registers a
// Gatherer in the Bulk, which Flush calls with the other groups.
//
// Gathered writes fail late, at Flush; the ledger then retries the batch
// one request at a time without a Bulk, where every write happens at once
// and its error reaches the request that made it.
//
// A Bulk belongs to one transaction and is used by one goroutine at a time.
type Bulk struct {
	db       *DB
	inserts  map[string]*insertGroup
	adds     map[string]*addGroup
	gathered map[any]Gatherer
	// Groups in first-use order, so that parents precede children and
	// rows are locked in the order the same requests lock them one by one.
	order []Gatherer
}

// Gatherer is work a package gathers in a Bulk (see Gather) and does when
// the Bulk is flushed, within the transaction of the Flush, in the order
// the gatherers and the Bulk's own groups were first used. The ctx Flush
// passes carries no Bulk: writes made through it happen at once.
type Gatherer interface {
	Flush(ctx context.Context) error
}

type insertGroup struct {
	db    *DB
	table string
	cols  []string
	rows  [][]any
}

type addGroup struct {
	db      *DB
	table   string
	keyCols []string
	addCols []string
	maxCols []string
	hot     bool
	rows    map[string]*addRow
	keys    []string
}

type addRow struct {
	key []any
	add []int64
	max []any
}

type bulkKey struct{}

// WithBulk returns a context whose writes through Insert, InsertRows,
// Accumulate and Gather are gathered in the returned Bulk until Flush.
func (db *DB) WithBulk(ctx context.Context) (context.Context, *Bulk) {
	b := &Bulk{db: db, inserts: map[string]*insertGroup{}, adds: map[string]*addGroup{}, gathered: map[any]Gatherer{}}
	return context.WithValue(ctx, bulkKey{}, b), b
}

// bulk returns the Bulk in ctx if it writes to db: a Bulk of another
// database (two services on two databases) gathers nothing of db's.
func (db *DB) bulk(ctx context.Context) *Bulk {
	if b, ok := ctx.Value(bulkKey{}).(*Bulk); ok && b != nil && b.db == db {
		return b
	}
	return nil
}

// Gather returns the gatherer registered under key in the Bulk in ctx that
// writes to db, registering the one create makes on first use, and true;
// or, when ctx carries no such Bulk, the zero G and false, and the caller
// writes at once. Keys are compared like context keys: use an unexported
// type of the caller's package, always with the same G.
func Gather[G Gatherer](ctx context.Context, db *DB, key any, create func() G) (G, bool) {
	b := db.bulk(ctx)
	if b == nil {
		var zero G
		return zero, false
	}
	if g, ok := b.gathered[key]; ok {
		return g.(G), true
	}
	g := create()
	b.gathered[key] = g
	b.order = append(b.order, g)
	return g, true
}

// Insert writes one row into table, at once, or gathered into the Bulk in ctx.
func (db *DB) Insert(ctx context.Context, table string, cols []string, vals ...any) error {
	if len(cols) != len(vals) {
		return fmt.Errorf("insert into %s: %d columns, %d values", table, len(cols), len(vals))
	}
	if b := db.bulk(ctx); b != nil {
		g := b.insertGroup(table, cols)
		g.rows = append(g.rows, vals)
		return nil
	}
	return db.Writer(ctx).Exec(insertSQL(table, cols, 1), vals...).Error
}

// InsertRows writes rows into table, each with a value per column: at once,
// in multi-row statements of the sizes Chunks gives, or gathered into the
// Bulk in ctx. Unlike an ORM's batch create it reads nothing back (no ids).
func (db *DB) InsertRows(ctx context.Context, table string, cols []string, rows [][]any) error {
	for _, r := range rows {
		if len(r) != len(cols) {
			return fmt.Errorf("insert into %s: %d columns, %d values", table, len(cols), len(r))
		}
	}
	if len(rows) == 0 {
		return nil
	}
	if b := db.bulk(ctx); b != nil {
		g := b.insertGroup(table, cols)
		g.rows = append(g.rows, rows...)
		return nil
	}
	return (&insertGroup{db: db, table: table, cols: cols, rows: rows}).Flush(ctx)
}

func (b *Bulk) insertGroup(table string, cols []string) *insertGroup {
	k := table + ":" + strings.Join(cols, ",")
	g := b.inserts[k]
	if g == nil {
		g = &insertGroup{db: b.db, table: table, cols: cols}
		b.inserts[k] = g
		b.order = append(b.order, g)
	}
	return g
}

func (g *insertGroup) Flush(ctx context.Context) error { return g.db.ExecAll(ctx, g.stmts()) }

// stmts are the group's multi-row INSERTs, in chunks (see Chunks).
func (g *insertGroup) stmts() []Stmt {
	var out []Stmt
	start := 0
	for _, n := range g.db.Chunks(len(g.rows)) {
		chunk := g.rows[start : start+n]
		start += n
		args := make([]any, 0, len(chunk)*len(g.cols))
		for _, r := range chunk {
			args = append(args, r...)
		}
		out = append(out, Stmt{SQL: insertSQL(g.table, g.cols, len(chunk)), Args: args})
	}
	return out
}

// Counter is one row of a counters table: the key that identifies it, the
// amounts to add to its columns, and columns to raise to at least a value
// (a "last seen" time).
type Counter struct {
	Table   string
	KeyCols []string
	Key     []any
	AddCols []string
	Add     []int64
	MaxCols []string
	Max     []any
	// Hot marks a row that many transactions add to at once (a merchant's
	// figures of the hour), which FlushLate writes.
	Hot bool
}

// Accumulate adds to a counters row, creating it if needed: at once, or
// merged with the other additions to the same row in the Bulk in ctx.
func (db *DB) Accumulate(ctx context.Context, c Counter) error {
	if len(c.KeyCols) != len(c.Key) || len(c.AddCols) != len(c.Add) || len(c.MaxCols) != len(c.Max) {
		return fmt.Errorf("accumulate into %s: columns and values differ in number", c.Table)
	}
	b := db.bulk(ctx)
	if b == nil {
		q, args := db.upsertSQL(c.Table, c.KeyCols, c.AddCols, c.MaxCols, []*addRow{{key: c.Key, add: c.Add, max: c.Max}})
		return db.Writer(ctx).Exec(q, args...).Error
	}
	k := c.Table + ":" + strings.Join(c.KeyCols, ",") + ":" + strings.Join(c.AddCols, ",") + ":" + strings.Join(c.MaxCols, ",") + ":" + fmt.Sprint(c.Hot)
	g := b.adds[k]
	if g == nil {
		g = &addGroup{db: db, table: c.Table, keyCols: c.KeyCols, addCols: c.AddCols, maxCols: c.MaxCols, hot: c.Hot, rows: map[string]*addRow{}}
		b.adds[k] = g
		b.order = append(b.order, g)
	}
	rk := fmt.Sprint(c.Key...)
	r := g.rows[rk]
	if r == nil {
		r = &addRow{key: c.Key, add: make([]int64, len(c.Add)), max: make([]any, len(c.Max))}
		copy(r.max, c.Max)
		g.rows[rk] = r
		g.keys = append(g.keys, rk)
	}
	for i, v := range c.Add {
		r.add[i] += v
	}
	for i, v := range c.Max {
		if later(v, r.max[i]) {
			r.max[i] = v
		}
	}
	return nil
}

func (g *addGroup) Flush(ctx context.Context) error { return g.db.ExecAll(ctx, g.stmts()) }

// stmts are the group's upserts, rows in key order, so that two instances'
// batches lock counter rows in the same order and cannot deadlock.
func (g *addGroup) stmts() []Stmt {
	sort.Strings(g.keys)
	rows := make([]*addRow, 0, len(g.keys))
	for _, rk := range g.keys {
		rows = append(rows, g.rows[rk])
	}
	var out []Stmt
	start := 0
	for _, n := range g.db.Chunks(len(rows)) {
		q, args := g.db.upsertSQL(g.table, g.keyCols, g.addCols, g.maxCols, rows[start:start+n])
		start += n
		out = append(out, Stmt{SQL: q, Args: args})
	}
	return out
}

// stmtGroup is a group whose flush is plain statements, which Bulk.Flush
// sends together with its neighbours' (ExecAll).
type stmtGroup interface {
	stmts() []Stmt
}

// Flush writes everything gathered, and runs the registered gatherers, in
// the order the groups were first used, within the transaction in ctx.
// Call it once, or FlushEarly and FlushLate once each instead.
func (b *Bulk) Flush(ctx context.Context) error {
	return b.flush(ctx, func(Gatherer) bool { return true })
}

// FlushEarly writes, in first-use order, what locks no row that other
// transactions' batches share: the new rows and the updates of rows of
// their own (orders, codes, a customer's counters). FlushLate writes the
// rest, the shared rows (Hot counters, and gatherers that say Late: the
// outbox's sequence rows), so that a caller which also locks shared rows
// of its own (the ledger's hot accounts on MySQL) can take every shared
// lock at the end of its transaction and hold them only for its last
// statements and the COMMIT.
func (b *Bulk) FlushEarly(ctx context.Context) error {
	return b.flush(ctx, func(g Gatherer) bool { return !late(g) })
}

// FlushLate writes what FlushEarly left, in first-use order.
func (b *Bulk) FlushLate(ctx context.Context) error { return b.flush(ctx, late) }

// late tells the groups that lock rows shared with other batches.
func late(g Gatherer) bool {
	switch g := g.(type) {
	case *addGroup:
		return g.hot
	case interface{ Late() bool }:
		return g.Late()
	}
	return false
}

// flush writes the groups that pick chooses and no earlier flush wrote.
func (b *Bulk) flush(ctx context.Context, pick func(Gatherer) bool) error {
	ctx = context.WithValue(ctx, bulkKey{}, nil)
	var pending []Stmt
	for i, g := range b.order {
		if g == nil || !pick(g) {
			continue
		}
		b.order[i] = nil // flushed
		if sg, ok := g.(stmtGroup); ok {
			pending = append(pending, sg.stmts()...)
			continue
		}
		if err := b.db.ExecAll(ctx, pending); err != nil {
			return fmt.Errorf("bulk write: %w", err)
		}
		pending = nil
		if err := g.Flush(ctx); err != nil {
			return err
		}
	}
	if err := b.db.ExecAll(ctx, pending); err != nil {
		return fmt.Errorf("bulk write: %w", err)
	}
	return nil
}

// maxBulkRows bounds the rows of one multi-row statement on MySQL, well
// under its limit on bound parameters.
const maxBulkRows = 500

// maxChunkRows bounds the rows of one multi-row statement on SQLite: the
// largest of the chunk sizes (see Chunks), and the ledger's largest batch.
const maxChunkRows = 256

// Chunks returns the row counts of the statements in which n rows are
// written together, in order; they add up to n. Row order is kept: parents
// before children, counters in key order.
//
// On SQLite they are powers of two of at most 256, largest first (45 rows:
// 32, 8, 4, 1). A multi-row statement's text depends on its row count, and
// an SQLite connection reuses a prepared statement only for the same text
// (stmtcache.go): with every batch a different size, every batch parsed its
// statements afresh (and their texts churned the cache), a good part of
// the committing goroutine's time. Nine texts per table now serve every
// batch, for a few more statements per batch (at most one per set bit of
// n), each far cheaper to run than a parse: 45 six-column rows took 149µs
// as a new text, 91µs as one cached statement, 107µs as 32+8+4+1 cached.
//
// On MySQL, which interpolates parameters client-side and caches no
// statement, they are one statement per 500 rows: fewer round trips.
func (db *DB) Chunks(n int) []int {
	if n <= 0 {
		return nil
	}
	if db.Dialect == MySQL {
		out := make([]int, 0, (n+maxBulkRows-1)/maxBulkRows)
		for ; n > maxBulkRows; n -= maxBulkRows {
			out = append(out, maxBulkRows)
		}
		return append(out, n)
	}
	out := make([]int, 0, n/maxChunkRows+bits.OnesCount(uint(n%maxChunkRows)))
	for ; n >= maxChunkRows; n -= maxChunkRows {
		out = append(out, maxChunkRows)
	}
	for size := maxChunkRows / 2; n > 0; size /= 2 {
		if n >= size {
			out = append(out, size)
			n -= size
		}
	}
	return out
}

// InLists splits the values of an IN (...) list into the lists of the
// statements that read them, keeping their order. On SQLite each list has
// a power-of-two length of at most 256: a short last list is padded by
// repeating its last value, which changes no IN's result, so that one
// statement text serves every list of up to 256 values (45 values: one
// list of 64). On MySQL it is one list per 500 values, unpadded.
func (db *DB) InLists(vals []any) [][]any {
	if len(vals) == 0 {
		return nil
	}
	if db.Dialect == MySQL {
		out := make([][]any, 0, (len(vals)+maxBulkRows-1)/maxBulkRows)
		for start := 0; start < len(vals); start += maxBulkRows {
			out = append(out, vals[start:min(start+maxBulkRows, len(vals))])
		}
		return out
	}
	out := make([][]any, 0, (len(vals)+maxChunkRows-1)/maxChunkRows)
	for start := 0; start < len(vals); start += maxChunkRows {
		list := vals[start:min(start+maxChunkRows, len(vals))]
		if size := 1 << bits.Len(uint(len(list)-1)); size > len(list) {
			padded := make([]any, size)
			copy(padded, list)
			for i := len(list); i < size; i++ {
				padded[i] = list[len(list)-1]
			}
			list = padded
		}
		out = append(out, list)
	}
	return out
}

// later reports whether a is greater than b, for the "raise to at least"
// columns: times and integers.
func later(a, b any) bool {
	switch x := a.(type) {
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.After(y)
	case int64:
		y, ok := b.(int64)
		return ok && x > y
	}
	return false
}

func insertSQL(table string, cols []string, rows int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")"
	for i := 0; i < rows; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(one)
	}
	return b.String()
}

// upsertSQL builds an insert-or-add statement in the database's dialect.
func (db *DB) upsertSQL(table string, keyCols, addCols, maxCols []string, rows []*addRow) (string, []any) {
	cols := append(append(append([]string{}, keyCols...), addCols...), maxCols...)
	q := insertSQL(table, cols, len(rows))
	var sets []string
	for _, c := range addCols {
		if db.Dialect == MySQL {
			sets = append(sets, c+" = "+c+" + VALUES("+c+")")
		} else {
			sets = append(sets, c+" = "+c+" + excluded."+c)
		}
	}
	for _, c := range maxCols {
		if db.Dialect == MySQL {
			sets = append(sets, c+" = GREATEST("+c+", VALUES("+c+"))")
		} else {
			sets = append(sets, c+" = max("+c+", excluded."+c+")")
		}
	}
	if db.Dialect == MySQL {
		q += " ON DUPLICATE KEY UPDATE " + strings.Join(sets, ", ")
	} else {
		q += " ON CONFLICT (" + strings.Join(keyCols, ", ") + ") DO UPDATE SET " + strings.Join(sets, ", ")
	}
	args := make([]any, 0, len(rows)*len(cols))
	for _, r := range rows {
		args = append(args, r.key...)
		for _, a := range r.add {
			args = append(args, a)
		}
		args = append(args, r.max...)
	}
	return q, args
}
