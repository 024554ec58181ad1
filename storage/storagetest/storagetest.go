// Package storagetest opens real, migrated, throw-away databases for tests:
// an SQLite file in a temporary directory, and a fresh database on the MySQL
// server named by PAYDESK_TEST_MYSQL (default root@tcp(127.0.0.1:3306)/test).
//
// The MySQL half fails, never skips, when the server cannot be reached:
// set PAYDESK_TEST_MYSQL=skip to run SQLite alone on a machine without one.
package storagetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/paydesk/paydesk/storage"
)

// DefaultMySQL is where tests find MySQL unless PAYDESK_TEST_MYSQL says otherwise.
const DefaultMySQL = "root@tcp(127.0.0.1:3306)/test"

// Dialects returns the databases every storage test runs against.
func Dialects() []storage.Dialect {
	if os.Getenv("PAYDESK_TEST_MYSQL") == "skip" {
		return []storage.Dialect{storage.SQLite}
	}
	return []storage.Dialect{storage.SQLite, storage.MySQL}
}

// Each runs fn once per database as a subtest named after the dialect.
func Each(t *testing.T, fn func(t *testing.T, db *storage.DB)) {
	t.Helper()
	for _, d := range Dialects() {
		t.Run(string(d), func(t *testing.T) { fn(t, Open(t, d)) })
	}
}

// Options are the storage options of test databases: the server's
// defaults, but SQLite syncs at checkpoints only (NORMAL), unless
// PAYDESK_SQLITE_SYNCHRONOUS says FULL, as for the server. A test's
// database need not survive a power loss, and syncing every commit made
// the SQLite tests of ledger and pos take half as long again; the
// benchmarks compare the two with the variable. (cmd/paydesk's tests run
// the server's default, FULL.)
func Options() storage.Options {
	sync := storage.Sync(os.Getenv("PAYDESK_SQLITE_SYNCHRONOUS"))
	if sync == "" {
		sync = storage.SyncNormal
	}
	return storage.Options{Synchronous: sync}
}

// Open returns a migrated empty database of dialect d, removed when t ends.
func Open(t testing.TB, d storage.Dialect) *storage.DB {
	t.Helper()
	dsn := DSN(t, d)
	db, err := storage.Open(dsn, Options())
	if err != nil {
		t.Fatalf("open %s: %v", d, err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate %s: %v", d, err)
	}
	return db
}

// DSN creates an empty database of dialect d and returns its DSN in the form
// storage.Open takes; the database is dropped when t ends.
func DSN(t testing.TB, d storage.Dialect) string {
	t.Helper()
	if d == storage.SQLite {
		return filepath.Join(t.TempDir(), "paydesk.db")
	}
	admin := os.Getenv("PAYDESK_TEST_MYSQL")
	if admin == "" || admin == "skip" {
		admin = DefaultMySQL
	}
	cfg, err := gomysql.ParseDSN(admin)
	if err != nil {
		t.Fatalf("PAYDESK_TEST_MYSQL=%q: %v", admin, err)
	}
	conn, err := sql.Open("mysql", admin)
	if err != nil {
		t.Fatalf("mysql: %v", err)
	}
	defer conn.Close()
	if err := conn.Ping(); err != nil {
		t.Fatalf("MySQL is not reachable at %s (%v). Start it (see .ci/run) or set PAYDESK_TEST_MYSQL=skip to test on SQLite alone.", cfg.Addr, err)
	}
	name := "paydesk_t_" + randomHex(6)
	if _, err := conn.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		c, err := sql.Open("mysql", admin)
		if err == nil {
			c.Exec("DROP DATABASE IF EXISTS " + name)
			c.Close()
		}
	})
	cfg.DBName = name
	return "mysql://" + cfg.FormatDSN()
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
