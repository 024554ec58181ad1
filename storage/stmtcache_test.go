package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"gorm.io/gorm"
	"modernc.org/sqlite"
)

// counting wraps the SQLite driver to count prepared and closed statements.
type counting struct {
	driver.Connector
	prepares, closes atomic.Int64
}

func (c *counting) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return countingConn{conn, c}, nil
}

type countingConn struct {
	driver.Conn
	c *counting
}

type ctxStmt interface {
	driver.Stmt
	stmtContext
}

func (cc countingConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	s, err := cc.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	cc.c.prepares.Add(1)
	return countingStmt{s.(ctxStmt), cc.c}, nil
}

func (cc countingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	return cc.Conn.(driver.QueryerContext).QueryContext(ctx, q, args)
}

func (cc countingConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	return cc.Conn.(driver.ExecerContext).ExecContext(ctx, q, args)
}

type countingStmt struct {
	ctxStmt
	c *counting
}

func (s countingStmt) Close() error {
	s.c.closes.Add(1)
	return s.ctxStmt.Close()
}

// openCachePool opens a one-connection pool on a new SQLite file holding
// table t with x = 1..5, its connections caching size statements.
func openCachePool(t *testing.T, size int) (*sql.DB, *counting) {
	t.Helper()
	base, err := sqlite.NewConnector(filepath.Join(t.TempDir(), "c.db") + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	cnt := &counting{Connector: base}
	db := sql.OpenDB(stmtCacheConnector{Connector: cnt, size: size})
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec("CREATE TABLE t (x INTEGER PRIMARY KEY, y INTEGER NOT NULL DEFAULT 0)"); err != nil {
		t.Fatal(err)
	}
	for x := 1; x <= 5; x++ {
		if _, err := db.Exec("INSERT INTO t (x) VALUES (?)", x); err != nil {
			t.Fatal(err)
		}
	}
	return db, cnt
}

// cacheOf returns the cache of the pool's one connection.
func cacheOf(t *testing.T, db *sql.DB) *stmtCacheConn {
	t.Helper()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var c *stmtCacheConn
	conn.Raw(func(dc any) error { c = dc.(*stmtCacheConn); return nil })
	return c
}

func (c *stmtCacheConn) lookup(query string) *cachedStmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byQuery[query]; ok {
		return e.Value.(*cachedStmt)
	}
	return nil
}

func TestStmtCacheReusesStatements(t *testing.T) {
	db, cnt := openCachePool(t, 16)
	const q = "SELECT y FROM t WHERE x = ?"
	before := cnt.prepares.Load()
	for i := range 50 {
		if _, err := db.Exec("UPDATE t SET y = y + 1 WHERE x = ?", i%5+1); err != nil {
			t.Fatal(err)
		}
		var y int
		if err := db.QueryRow(q, i%5+1).Scan(&y); err != nil || y != i/5+1 {
			t.Fatalf("round %d: y = %d, %v", i, y, err)
		}
	}
	if n := cnt.prepares.Load() - before; n != 2 {
		t.Fatalf("100 runs of 2 statements prepared %d statements, want 2", n)
	}
	c := cacheOf(t, db)
	if cs := c.lookup(q); cs == nil || cs.busy {
		t.Fatalf("cached %q = %+v, want idle", q, cs)
	}
	// Through a transaction too: the same connection, the same statements.
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	var y int
	if err := tx.QueryRow(q, 1).Scan(&y); err != nil || y != 10 {
		t.Fatalf("in tx: y = %d, %v", y, err)
	}
	tx.Rollback()
	if n := cnt.prepares.Load() - before; n != 2 {
		t.Fatalf("the transaction prepared again (%d statements)", n)
	}
}

func TestStmtCacheNestedUseWhileRowsOpen(t *testing.T) {
	db, cnt := openCachePool(t, 16)
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var c *stmtCacheConn
	conn.Raw(func(dc any) error { c = dc.(*stmtCacheConn); return nil })

	const q = "SELECT x FROM t WHERE x > ? ORDER BY x"
	rows, err := conn.QueryContext(ctx, q, 0)
	if err != nil {
		t.Fatal(err)
	}
	outer := c.lookup(q)
	if outer == nil || !outer.busy {
		t.Fatalf("cached %q = %+v, want busy while its rows are open", q, outer)
	}
	var seen []int
	for rows.Next() {
		var x int
		if err := rows.Scan(&x); err != nil {
			t.Fatal(err)
		}
		seen = append(seen, x)
		// The same SQL again while the outer rows are open, as a query and
		// as an exec: each must run on a statement of its own and leave the
		// outer cursor where it was.
		var next int
		err := conn.QueryRowContext(ctx, q, x).Scan(&next)
		if x < 5 && (err != nil || next != x+1) {
			t.Fatalf("nested query after %d: %d, %v", x, next, err)
		}
		if x == 5 && err != sql.ErrNoRows {
			t.Fatalf("nested query after 5: %v, want no rows", err)
		}
		if _, err := conn.ExecContext(ctx, q, x); err != nil {
			t.Fatalf("nested exec: %v", err)
		}
		if _, err := conn.ExecContext(ctx, "UPDATE t SET y = y + 1 WHERE x = ?", x); err != nil {
			t.Fatalf("write while reading: %v", err)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if fmt.Sprint(seen) != "[1 2 3 4 5]" {
		t.Fatalf("outer rows %v, want [1 2 3 4 5]", seen)
	}
	if outer.busy || c.lookup(q) != outer {
		t.Fatalf("after the rows closed: busy=%v, same statement=%v", outer.busy, c.lookup(q) == outer)
	}
	before := cnt.prepares.Load()
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM t WHERE x > ? AND y = 1", 0).Scan(&n); err != nil || n != 5 {
		t.Fatalf("updates while reading: %d rows updated once, %v", n, err)
	}
	if err := conn.QueryRowContext(ctx, q, 4).Scan(&n); err != nil || n != 5 {
		t.Fatalf("cached statement after nesting: %d, %v", n, err)
	}
	if got := cnt.prepares.Load() - before; got != 1 {
		t.Fatalf("%d statements prepared, want 1 (only the COUNT)", got)
	}
}

func TestStmtCacheEvicts(t *testing.T) {
	db, cnt := openCachePool(t, 3)
	c := cacheOf(t, db)
	closes := cnt.closes.Load()
	for i := 1; i <= 5; i++ {
		var n int
		if err := db.QueryRow(fmt.Sprintf("SELECT %d", i)).Scan(&n); err != nil || n != i {
			t.Fatal(n, err)
		}
	}
	for i := 1; i <= 5; i++ {
		if got, want := c.lookup(fmt.Sprintf("SELECT %d", i)) != nil, i > 2; got != want {
			t.Fatalf("SELECT %d cached = %v, want %v", i, got, want)
		}
	}
	// The table's setup statements and SELECT 1 and 2 went, closed.
	if n := c.lru.Len(); n != 3 {
		t.Fatalf("%d statements cached, want 3", n)
	}
	if got := cnt.closes.Load() - closes; got < 2 {
		t.Fatalf("%d statements closed on eviction, want at least 2", got)
	}

	// A statement evicted while its rows are open stays open until they close.
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const q = "SELECT x FROM t ORDER BY x"
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	cs := c.lookup(q)
	var xs []int
	for len(xs) < 2 && rows.Next() {
		var x int
		rows.Scan(&x)
		xs = append(xs, x)
	}
	closes = cnt.closes.Load()
	for i := 6; i <= 8; i++ {
		var n int
		if err := conn.QueryRowContext(ctx, fmt.Sprintf("SELECT %d", i)).Scan(&n); err != nil {
			t.Fatal(err)
		}
	}
	if c.lookup(q) != nil || !cs.evicted {
		t.Fatalf("%q still cached after three newer statements", q)
	}
	if got := cnt.closes.Load() - closes; got != 2 {
		t.Fatalf("%d statements closed, want 2 (SELECT 4 and 5; the evicted %q is still busy)", got, q)
	}
	for rows.Next() {
		var x int
		rows.Scan(&x)
		xs = append(xs, x)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(xs) != "[1 2 3 4 5]" {
		t.Fatalf("rows of the evicted statement: %v", xs)
	}
	if got := cnt.closes.Load() - closes; got != 3 {
		t.Fatalf("%d statements closed after the evicted statement's rows closed, want 3", got)
	}
	conn.Close()
	db.Close()
	if p, c := cnt.prepares.Load(), cnt.closes.Load(); p != c {
		t.Fatalf("%d statements prepared, %d closed", p, c)
	}
}

// TestStmtCacheConcurrent runs the application's own pools from many
// goroutines: transactions on the one-connection write pool, reads with a
// nested query per row on the read pool, all sharing SQL texts.
func TestStmtCacheConcurrent(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "paydesk.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	const workers, rounds = 8, 40
	var wg sync.WaitGroup
	errs := make(chan error, 2*workers)
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				err := db.InTx(ctx, func(ctx context.Context) error {
					code := fmt.Sprintf("w%d-%d", w, i)
					if err := db.Writer(ctx).Exec("INSERT INTO ledger_accounts (code, type, currency, created_at, updated_at) VALUES (?, 't', 'CNY', ?, ?)",
						code, "2026-01-01 00:00:00", "2026-01-01 00:00:00").Error; err != nil {
						return err
					}
					var n int64
					if err := db.Writer(ctx).Raw("SELECT COUNT(*) FROM ledger_accounts WHERE code = ?", code).Scan(&n).Error; err != nil || n != 1 {
						return fmt.Errorf("own write: %d, %v", n, err)
					}
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
		wg.Go(func() {
			for range rounds {
				// Outer and nested query on one read connection (a nested
				// query from the pool could wait for good on a pool whose
				// connections all hold outer rows).
				err := db.read.WithContext(ctx).Connection(func(conn *gorm.DB) error {
					rows, err := conn.Raw("SELECT code FROM ledger_accounts WHERE code > ? ORDER BY code LIMIT 5", "").Rows()
					if err != nil {
						return err
					}
					defer rows.Close()
					for rows.Next() {
						var code string
						rows.Scan(&code)
						var n int64
						if err := conn.Raw("SELECT COUNT(*) FROM ledger_accounts WHERE code = ?", code).Scan(&n).Error; err != nil || n != 1 {
							return fmt.Errorf("nested read of %s: %d, %v", code, n, err)
						}
					}
					return rows.Close()
				})
				if err != nil {
					errs <- err
					return
				}
				// And the same SQL from the pool, on any connection.
				var n int64
				if err := db.Reader(ctx).Raw("SELECT COUNT(*) FROM ledger_accounts WHERE code = ?", "w0-0").Scan(&n).Error; err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var n int64
	db.Reader(ctx).Raw("SELECT COUNT(*) FROM ledger_accounts").Scan(&n)
	if n != workers*rounds {
		t.Fatalf("%d accounts, want %d", n, workers*rounds)
	}
}
