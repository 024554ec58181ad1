package storage

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
)

// The schema is written once, in SQL both databases accept, with three
// placeholders for what they spell differently: {{pk}} for an auto-increment
// 64-bit primary key, {{time}} for a timestamp with microseconds (the SQLite
// driver recognises only the bare DATETIME type name) and {{table}} for
// MySQL's table options.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

var dialectWords = map[Dialect]*strings.Replacer{
	SQLite: strings.NewReplacer("{{pk}}", "INTEGER PRIMARY KEY", "{{time}}", "DATETIME", "{{table}}", ""),
	MySQL: strings.NewReplacer("{{pk}}", "BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY", "{{time}}", "DATETIME(6)",
		"{{table}}", "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"),
}

// Migrate brings the schema to the newest version. On MySQL it holds a named
// lock so that several instances starting together migrate once.
func (db *DB) Migrate(ctx context.Context) error {
	return db.migrate(ctx, func(p *goose.Provider) error {
		_, err := p.Up(ctx)
		return err
	})
}

// MigrateTo brings the schema up to version and no further, as an older
// paydesk would have left it; tests use it to check that a migration keeps
// the rows written before it. It never migrates down.
func (db *DB) MigrateTo(ctx context.Context, version int64) error {
	return db.migrate(ctx, func(p *goose.Provider) error {
		_, err := p.UpTo(ctx, version)
		return err
	})
}

func (db *DB) migrate(ctx context.Context, up func(*goose.Provider) error) error {
	sqlDB := db.SQL()
	if db.Dialect == MySQL {
		conn, err := sqlDB.Conn(ctx)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		defer conn.Close()
		var got int
		if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(CONCAT('paydesk_migrate:', DATABASE()), 120)").Scan(&got); err != nil || got != 1 {
			return fmt.Errorf("migrate: could not take the migration lock (got %d): %v", got, err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT RELEASE_LOCK(CONCAT('paydesk_migrate:', DATABASE()))")
	}
	p, err := db.migrations()
	if err != nil {
		return err
	}
	if err := up(p); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// MigrationVersion returns the schema version the database is at.
func (db *DB) MigrationVersion(ctx context.Context) (int64, error) {
	p, err := db.migrations()
	if err != nil {
		return 0, err
	}
	return p.GetDBVersion(ctx)
}

func (db *DB) migrations() (*goose.Provider, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	gd := goose.DialectSQLite3
	if db.Dialect == MySQL {
		gd = goose.DialectMySQL
	}
	p, err := goose.NewProvider(gd, db.SQL(), dialectFS{sub, dialectWords[db.Dialect]})
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return p, nil
}

// dialectFS serves the migration files with the placeholders replaced.
type dialectFS struct {
	fs.FS
	words *strings.Replacer
}

func (d dialectFS) Open(name string) (fs.File, error) {
	f, err := d.FS.Open(name)
	if err != nil || !strings.HasSuffix(name, ".sql") {
		return f, err
	}
	defer f.Close()
	b, err := fs.ReadFile(d.FS, name)
	if err != nil {
		return nil, err
	}
	return &memFile{name: name, r: strings.NewReader(d.words.Replace(string(b)))}, nil
}

type memFile struct {
	name string
	r    *strings.Reader
}

func (m *memFile) Read(p []byte) (int, error) { return m.r.Read(p) }
func (m *memFile) Close() error               { return nil }
func (m *memFile) Stat() (fs.FileInfo, error) { return memInfo{m}, nil }

type memInfo struct{ f *memFile }

func (i memInfo) Name() string       { return i.f.name }
func (i memInfo) Size() int64        { return i.f.r.Size() }
func (i memInfo) Mode() fs.FileMode  { return 0o444 }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() any           { return nil }
