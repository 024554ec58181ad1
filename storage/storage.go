// Package storage opens the database (an embedded SQLite file by default, MySQL
// in production), runs the versioned schema migrations, and carries the
// current transaction in a context so domain services compose without SQL.
package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
	"modernc.org/sqlite"

	"github.com/paydesk/paydesk"
)

// Dialect names the SQL database behind a DB.
type Dialect string

const (
	SQLite Dialect = "sqlite"
	MySQL  Dialect = "mysql"
)

// DB is the application's database: a write pool and a read pool. On SQLite
// the write pool has exactly one connection, because SQLite has one writer
// and queueing in Go is far cheaper than SQLite's sleeping busy handler; reads
// run in parallel on the other pool (WAL). On MySQL both pools are one, and
// a third, batch, is the only one whose connections accept several
// statements in one query (InBatchTx, ExecAll): a mistake that pasted
// outside input into SQL anywhere else cannot become stacked queries.
type DB struct {
	Dialect Dialect
	write   *gorm.DB
	read    *gorm.DB
	// fresh answers what a failed commit left behind (see Fresh).
	fresh   *sql.DB
	sync    Sync
	batch   *gorm.DB
	closers []func() error
}

// Options tune Open. The zero value is right for the server.
type Options struct {
	// MaxOpenConns bounds the MySQL pool (and the SQLite read pool).
	MaxOpenConns int
	// Synchronous is SQLite's durability (durability.go): SyncFull, the
	// default, syncs every commit to disk before it is answered.
	Synchronous Sync
	// WrapWriter, if set, wraps the connector of SQLite's writing
	// connection: tests kill connections with it (storagetest.Faults).
	WrapWriter func(driver.Connector) driver.Connector
}

// Open connects to dsn: "mysql://user:pass@tcp(host:3306)/db?..." for MySQL,
// anything else ("paydesk.db", "file:/var/lib/paydesk.db", "sqlite://x.db")
// is an SQLite file path. It does not migrate; call Migrate.
func Open(dsn string, opt Options) (*DB, error) {
	if opt.MaxOpenConns <= 0 {
		opt.MaxOpenConns = 32
	}
	sync, err := ParseSync(string(opt.Synchronous))
	if err != nil {
		return nil, err
	}
	opt.Synchronous = sync
	// No gorm PrepareStmt on either database. Its statement cache shares one
	// lock across the pool and deadlocks when every connection is inside a
	// transaction (gorm issues 7350, 7465), which SQLite's one-connection
	// write pool is all the time; SQLite connections cache their prepared
	// statements themselves, below gorm (stmtcache.go), and MySQL
	// interpolates parameters instead.
	cfg := &gorm.Config{
		Logger:                 logger.Discard,
		NowFunc:                paydesk.SystemClock,
		SkipDefaultTransaction: true, // we open transactions ourselves, where they matter
		TranslateError:         true,
	}
	if rest, ok := strings.CutPrefix(dsn, "mysql://"); ok {
		return openMySQL(rest, cfg, opt)
	}
	path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite://"), "file:")
	if path == "" {
		return nil, errors.New("storage: empty database path")
	}
	return openSQLite(path, cfg, opt)
}

func openMySQL(dsn string, cfg *gorm.Config, opt Options) (*DB, error) {
	c, err := gomysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("storage: parse mysql dsn: %w", err)
	}
	c.ParseTime = true
	c.Loc = time.UTC
	// Interpolating parameters client-side saves a prepare round trip per query.
	c.InterpolateParams = true
	// Only the batch pool takes several statements in one query (below);
	// an operator's DSN cannot turn it on for the others.
	c.MultiStatements = false
	if c.Params == nil {
		c.Params = map[string]string{}
	}
	delete(c.Params, "multiStatements")
	c.Params["charset"] = "utf8mb4"
	c.Params["time_zone"] = "'+00:00'"
	open := func(c *gomysql.Config, conns, idle int) (*gorm.DB, *sql.DB, error) {
		gcfg := *cfg
		gdb, err := gorm.Open(mysql.New(mysql.Config{DSN: c.FormatDSN()}), &gcfg)
		if err != nil {
			return nil, nil, fmt.Errorf("storage: open mysql: %w", err)
		}
		sqlDB, _ := gdb.DB()
		sqlDB.SetMaxOpenConns(conns)
		sqlDB.SetMaxIdleConns(idle)
		sqlDB.SetConnMaxLifetime(30 * time.Minute)
		return gdb, sqlDB, nil
	}
	gdb, sqlDB, err := open(c, opt.MaxOpenConns, opt.MaxOpenConns)
	if err != nil {
		return nil, err
	}
	// The batch pool: ExecAll sends a batch's gathered writes in one round
	// trip. Those statements are written with placeholders, never by
	// pasting values into SQL; the pool serves InBatchTx alone (the ledger
	// poster's transactions).
	bc := c.Clone()
	bc.MultiStatements = true
	bdb, bsql, err := open(bc, opt.MaxOpenConns, min(opt.MaxOpenConns, 4))
	if err != nil {
		sqlDB.Close()
		return nil, err
	}
	fresh, err := openFreshMySQL(c)
	if err != nil {
		bsql.Close()
		sqlDB.Close()
		return nil, err
	}
	return &DB{Dialect: MySQL, write: gdb, read: gdb, batch: bdb, fresh: fresh, closers: []func() error{fresh.Close, bsql.Close, sqlDB.Close}}, nil
}

// freshLockWait bounds, in seconds, how long a look-up on the fresh pool
// waits for a transaction that still holds the rows it reads: one whose
// connection died at its COMMIT, which the server ends (commits or rolls
// back) as soon as it notices.
const freshLockWait = 10

// openFreshMySQL opens the pool behind DB.Fresh: no idle connections, so
// every use dials a new one, which a dead connection in the main pool
// cannot answer for.
func openFreshMySQL(c *gomysql.Config) (*sql.DB, error) {
	// Through the DSN text, as the main pool, which reads "charset" as
	// the connection's character set, not as a variable to SET.
	fc, err := gomysql.ParseDSN(c.FormatDSN())
	if err != nil {
		return nil, fmt.Errorf("storage: open mysql: %w", err)
	}
	fc.Params["innodb_lock_wait_timeout"] = strconv.Itoa(freshLockWait)
	conn, err := gomysql.NewConnector(fc)
	if err != nil {
		return nil, fmt.Errorf("storage: open mysql: %w", err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxIdleConns(0)
	db.SetMaxOpenConns(4)
	return db, nil
}

// walCheckpointPages is the WAL size, in pages, at which the writer
// checkpoints (see openSQLite).
const walCheckpointPages = 4000

func openSQLite(path string, cfg *gorm.Config, opt Options) (*DB, error) {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "busy_timeout(10000)", "synchronous(" + string(opt.Synchronous) + ")", "foreign_keys(1)", "cache_size(-32000)", "temp_store(MEMORY)"} {
		q.Add("_pragma", p)
	}
	// Times are written as "2006-01-02 15:04:05.999999999-07:00" in UTC and
	// read back in UTC, as the glebarez driver did. Without _timezone,
	// modernc returns "+00:00" times in time.Local (or a fixed zone), which
	// are Equal but not == to the UTC times we wrote.
	q.Set("_time_format", "sqlite")
	q.Set("_timezone", "UTC")
	wq := url.Values{}
	for k, v := range q {
		wq[k] = v
	}
	// IMMEDIATE takes the write lock at BEGIN, so a transaction never fails
	// half-way trying to upgrade a read lock.
	wq.Set("_txlock", "immediate")
	// The writer checkpoints the WAL into the database file when it has
	// grown by walCheckpointPages (SQLite's default is 1000). Each
	// checkpoint copies every page changed since the last once, and the
	// pages every batch changes (the merchant's accounts, the tails of the
	// orders, transfers and entries) are most of a checkpoint's work: four
	// times fewer checkpoints copy them four times less often, for a WAL of
	// up to 16 MB instead of 4.
	wq.Add("_pragma", "wal_autocheckpoint("+strconv.Itoa(walCheckpointPages)+")")

	wdb, err := openSQLitePool(path+"?"+wq.Encode(), opt.WrapWriter)
	if err != nil {
		return nil, fmt.Errorf("storage: open sqlite %s: %w", path, err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	// The first connection switches the file to WAL before readers open it.
	if err := wdb.Ping(); err != nil {
		wdb.Close()
		return nil, fmt.Errorf("storage: open sqlite %s: %w", path, err)
	}
	rdb, err := openSQLitePool(path+"?"+q.Encode(), nil)
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("storage: open sqlite %s: %w", path, err)
	}
	n := min(opt.MaxOpenConns, 8)
	rdb.SetMaxOpenConns(n)
	rdb.SetMaxIdleConns(n)
	closeBoth := func() { rdb.Close(); wdb.Close() }
	// Each pool gets its own gorm.Config, which gorm.Open fills in and keeps.
	wcfg, rcfg := *cfg, *cfg
	write, err := gorm.Open(sqliteDialector{conn: wdb}, &wcfg)
	if err != nil {
		closeBoth()
		return nil, fmt.Errorf("storage: open sqlite %s: %w", path, err)
	}
	read, err := gorm.Open(sqliteDialector{conn: rdb}, &rcfg)
	if err != nil {
		closeBoth()
		return nil, fmt.Errorf("storage: open sqlite %s: %w", path, err)
	}
	// The read pool sees what the writer committed, and only that (WAL):
	// it is where a failed commit is looked up.
	return &DB{Dialect: SQLite, write: write, read: read, batch: write, fresh: rdb, sync: opt.Synchronous, closers: []func() error{rdb.Close, wdb.Close}}, nil
}

// openSQLitePool opens a pool of SQLite connections that keep their
// prepared statements (see stmtCacheConnector), wrapped by wrap if set.
func openSQLitePool(dsn string, wrap func(driver.Connector) driver.Connector) (*sql.DB, error) {
	c, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	var conn driver.Connector = stmtCacheConnector{Connector: c, size: stmtCacheSize}
	if wrap != nil {
		conn = wrap(conn)
	}
	return sql.OpenDB(conn), nil
}

// Close closes both pools.
func (db *DB) Close() error {
	var errs []error
	for _, c := range db.closers {
		errs = append(errs, c())
	}
	return errors.Join(errs...)
}

// Ping checks that the database answers a query, for /readyz.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.read.WithContext(ctx).Raw("SELECT 1").Scan(&one).Error
}

// Fresh is a pool for finding out what a transaction whose COMMIT failed
// left behind: on MySQL every use dials a new connection (none is kept
// idle), so no connection of the main pool that died with the commit can
// answer; on SQLite it is the read pool, which sees what the writer
// committed and nothing else. Read it outside any transaction.
func (db *DB) Fresh() *sql.DB { return db.fresh }

// WritePools calls fn with the write pool and, on MySQL, the batch pool
// (InBatchTx): for tests and tools that hook every write (gorm callbacks
// belong to a pool).
func (db *DB) WritePools(fn func(*gorm.DB)) {
	fn(db.write)
	if db.batch != db.write {
		fn(db.batch)
	}
}

// SQL returns the write pool's database/sql handle, for migrations and tools.
func (db *DB) SQL() *sql.DB {
	s, _ := db.write.DB()
	return s
}

type txKey struct{}

// InTx runs fn in a transaction on the write pool, committing when fn returns
// nil. If ctx already carries a transaction, fn joins it. The outermost
// transaction is run again when MySQL picks it as a deadlock victim (up to
// three times), so fn must keep its effects to the database and to
// variables it sets afresh on each run.
func (db *DB) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return fn(ctx)
	}
	ctx, ended := withAfterTx(ctx)
	defer ended()
	var err error
	for try := 0; try < 3; try++ {
		err = db.write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			return fn(context.WithValue(ctx, txKey{}, tx))
		})
		if !isDeadlock(err) {
			return err
		}
	}
	return err
}

// batchKey marks a context whose transaction runs on the batch pool.
type batchKey struct{}

// InBatchTx is InTx on the batch pool, whose MySQL connections take several
// statements in one query: ExecAll inside it costs one round trip instead
// of one per statement. It is for the transactions that gather many writes
// (the ledger poster's batches); joining a transaction already in ctx, it
// is InTx.
func (db *DB) InBatchTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return fn(ctx)
	}
	ctx, ended := withAfterTx(ctx)
	defer ended()
	var err error
	for try := 0; try < 3; try++ {
		err = db.batch.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			return fn(context.WithValue(context.WithValue(ctx, txKey{}, tx), batchKey{}, true))
		})
		if !isDeadlock(err) {
			return err
		}
	}
	return err
}

// InTxContext reports whether ctx carries a transaction.
func InTxContext(ctx context.Context) bool {
	_, ok := ctx.Value(txKey{}).(*gorm.DB)
	return ok
}

// Writer returns the transaction in ctx, or the write pool.
func (db *DB) Writer(ctx context.Context) *gorm.DB {
	if tx, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return tx
	}
	return db.write.WithContext(ctx)
}

// Reader returns the transaction in ctx (to read one's own writes), or the read pool.
func (db *DB) Reader(ctx context.Context) *gorm.DB {
	if tx, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return tx
	}
	return db.read.WithContext(ctx)
}

// ForShare is the shared-lock suffix for SELECT: on MySQL the read waits
// for any transaction that holds the rows (or inserted them) to end, and
// reads what it left; SQLite needs none (see ForUpdate). LOCK IN SHARE
// MODE is what MariaDB and MySQL both accept.
func (db *DB) ForShare() string {
	if db.Dialect == MySQL {
		return " LOCK IN SHARE MODE"
	}
	return ""
}

// ForUpdate is the row-lock suffix for SELECT: MySQL locks the rows, SQLite
// needs none because an IMMEDIATE transaction already holds the only write lock.
func (db *DB) ForUpdate() string {
	if db.Dialect == MySQL {
		return " FOR UPDATE"
	}
	return ""
}

var _ paydesk.TxRunner = (*DB)(nil)
