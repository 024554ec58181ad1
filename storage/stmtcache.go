package storage

import (
	"container/list"
	"context"
	"database/sql/driver"
	"errors"
	"reflect"
	"sync"
)

// stmtCacheSize bounds the prepared statements each SQLite connection keeps.
// The application has some hundred distinct statements (bulk inserts vary
// with their row count); a statement costs a few KB of SQLite memory.
const stmtCacheSize = 256

// stmtCacheConnector opens connections that keep a prepared statement per
// SQL text. Parsing and planning SQL was a fifth of the server's CPU on
// SQLite, and this is the place to stop it: below gorm, so it works on both
// pools without gorm's PrepareStmt, whose shared lock deadlocks the
// one-connection write pool (gorm issues 7350, 7465), and per connection, so
// it needs no lock across connections at all.
type stmtCacheConnector struct {
	driver.Connector
	size int
}

func (c stmtCacheConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &stmtCacheConn{Conn: conn, size: c.size, lru: list.New(), byQuery: map[string]*list.Element{}}, nil
}

// stmtCacheConn is a driver.Conn whose QueryContext and ExecContext run
// cached prepared statements. database/sql uses a conn from one goroutine
// at a time; mu only guards the cache against a Rows being closed from
// database/sql's context watcher.
type stmtCacheConn struct {
	driver.Conn
	size int

	mu      sync.Mutex
	lru     *list.List // of *cachedStmt, most recently used first
	byQuery map[string]*list.Element
}

type cachedStmt struct {
	query string
	stmt  driver.Stmt
	// busy is set while the statement runs or a Rows from it is open. A
	// statement is one cursor, so a second use of the same SQL meanwhile (a
	// query inside a loop over the rows of the same query) gets a fresh one.
	busy bool
	// evicted is set when the cache dropped the statement while busy; it is
	// closed when its Rows closes.
	evicted bool
}

type stmtContext interface {
	driver.StmtExecContext
	driver.StmtQueryContext
}

// acquire returns the cached statement for query, prepared if need be and
// marked busy, or nil when that statement is busy already.
func (c *stmtCacheConn) acquire(ctx context.Context, query string) (*cachedStmt, error) {
	c.mu.Lock()
	if e, ok := c.byQuery[query]; ok {
		cs := e.Value.(*cachedStmt)
		if cs.busy {
			c.mu.Unlock()
			return nil, nil
		}
		cs.busy = true
		c.lru.MoveToFront(e)
		c.mu.Unlock()
		return cs, nil
	}
	c.mu.Unlock()

	st, err := c.prepare(ctx, query)
	if err != nil {
		return nil, err
	}
	if _, ok := st.(stmtContext); !ok {
		st.Close()
		return nil, driver.ErrSkip // database/sql then prepares it the old way
	}
	cs := &cachedStmt{query: query, stmt: st, busy: true}
	var drop []driver.Stmt
	c.mu.Lock()
	if _, ok := c.byQuery[query]; ok {
		// Cached meanwhile (not by database/sql, which never shares a conn):
		// run this one once, uncached.
		cs.evicted = true
		c.mu.Unlock()
		return cs, nil
	}
	c.byQuery[query] = c.lru.PushFront(cs)
	for c.lru.Len() > c.size {
		old := c.lru.Remove(c.lru.Back()).(*cachedStmt)
		delete(c.byQuery, old.query)
		if old.busy {
			old.evicted = true
		} else {
			drop = append(drop, old.stmt)
		}
	}
	c.mu.Unlock()
	for _, s := range drop {
		s.Close()
	}
	return cs, nil
}

// release marks cs idle again, closing it if it was evicted meanwhile.
func (c *stmtCacheConn) release(cs *cachedStmt) error {
	c.mu.Lock()
	cs.busy = false
	evicted := cs.evicted
	c.mu.Unlock()
	if evicted {
		return cs.stmt.Close()
	}
	return nil
}

func (c *stmtCacheConn) prepare(ctx context.Context, query string) (driver.Stmt, error) {
	if p, ok := c.Conn.(driver.ConnPrepareContext); ok {
		return p.PrepareContext(ctx, query)
	}
	return c.Conn.Prepare(query)
}

func (c *stmtCacheConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	cs, err := c.acquire(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		if e, ok := c.Conn.(driver.ExecerContext); ok {
			return e.ExecContext(ctx, query, args)
		}
		return nil, driver.ErrSkip
	}
	res, err := cs.stmt.(stmtContext).ExecContext(ctx, args)
	if rerr := c.release(cs); err == nil && rerr != nil {
		return nil, rerr
	}
	return res, err
}

func (c *stmtCacheConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cs, err := c.acquire(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		if q, ok := c.Conn.(driver.QueryerContext); ok {
			return q.QueryContext(ctx, query, args)
		}
		return nil, driver.ErrSkip
	}
	rows, err := cs.stmt.(stmtContext).QueryContext(ctx, args)
	if err != nil {
		c.release(cs)
		return nil, err
	}
	return &cachedRows{Rows: rows, conn: c, cs: cs}, nil
}

// Close closes the cached statements, then the connection. database/sql
// closes a connection only once its Rows are closed, so none is busy.
func (c *stmtCacheConn) Close() error {
	c.mu.Lock()
	var errs []error
	for e := c.lru.Front(); e != nil; e = e.Next() {
		errs = append(errs, e.Value.(*cachedStmt).stmt.Close())
	}
	c.lru.Init()
	clear(c.byQuery)
	c.mu.Unlock()
	return errors.Join(append(errs, c.Conn.Close())...)
}

// The rest pass through what the wrapped connection supports, answering
// as database/sql would where it supports nothing.

func (c *stmtCacheConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.prepare(ctx, query)
}

func (c *stmtCacheConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if b, ok := c.Conn.(driver.ConnBeginTx); ok {
		return b.BeginTx(ctx, opts)
	}
	if opts != (driver.TxOptions{}) {
		return nil, errors.New("storage: driver does not support transaction options")
	}
	return c.Conn.Begin() //nolint:staticcheck // the fallback database/sql itself uses
}

func (c *stmtCacheConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *stmtCacheConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *stmtCacheConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *stmtCacheConn) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := c.Conn.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip // database/sql's default conversion
}

// cachedRows hands its statement back to the cache when closed.
type cachedRows struct {
	driver.Rows
	conn   *stmtCacheConn
	cs     *cachedStmt
	closed bool
}

func (r *cachedRows) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	err := r.Rows.Close()
	if rerr := r.conn.release(r.cs); err == nil {
		err = rerr
	}
	return err
}

// Column type details pass through (database/sql's ColumnTypes, which gorm
// reads, would otherwise see none); the fallbacks are database/sql's.

func (r *cachedRows) ColumnTypeDatabaseTypeName(i int) string {
	if t, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *cachedRows) ColumnTypeLength(i int) (int64, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeLength); ok {
		return t.ColumnTypeLength(i)
	}
	return 0, false
}

func (r *cachedRows) ColumnTypeNullable(i int) (nullable, ok bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeNullable); ok {
		return t.ColumnTypeNullable(i)
	}
	return false, false
}

func (r *cachedRows) ColumnTypePrecisionScale(i int) (precision, scale int64, ok bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypePrecisionScale); ok {
		return t.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}

func (r *cachedRows) ColumnTypeScanType(i int) reflect.Type {
	if t, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return t.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}
