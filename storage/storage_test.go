package storage_test

import (
	"context"
	"errors"
	"testing"

	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

func TestMigrateIsIdempotent(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		v1, err := db.MigrationVersion(ctx)
		if err != nil || v1 < 1 {
			t.Fatalf("version after first migrate = %d, %v", v1, err)
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("second migrate: %v", err)
		}
		v2, _ := db.MigrationVersion(ctx)
		if v2 != v1 {
			t.Fatalf("version moved from %d to %d on a no-op migrate", v1, v2)
		}
		if err := db.Ping(ctx); err != nil {
			t.Fatalf("ping: %v", err)
		}
	})
}

func TestInTxRollsBackAndJoins(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		insert := func(ctx context.Context, code string) error {
			return db.Writer(ctx).Exec("INSERT INTO ledger_accounts (code, type, currency, created_at, updated_at) VALUES (?, 't', 'CNY', ?, ?)",
				code, "2026-01-01 00:00:00", "2026-01-01 00:00:00").Error
		}
		boom := errors.New("boom")
		err := db.InTx(ctx, func(ctx context.Context) error {
			if err := insert(ctx, "a"); err != nil {
				return err
			}
			// A nested InTx joins the outer transaction instead of opening a second one.
			if err := db.InTx(ctx, func(ctx context.Context) error { return insert(ctx, "b") }); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx returned %v, want boom", err)
		}
		var n int64
		db.Reader(ctx).Raw("SELECT COUNT(*) FROM ledger_accounts").Scan(&n)
		if n != 0 {
			t.Fatalf("%d rows survived a rolled back transaction", n)
		}
		if err := insert(ctx, "a"); err != nil {
			t.Fatal(err)
		}
		if err := insert(ctx, "a"); !storage.IsDuplicate(err) {
			t.Fatalf("second insert of a unique code: %v, want a duplicate error", err)
		}
	})
}

// TestSQLiteSyncsEveryCommitByDefault: the server's SQLite answers a
// commit only once it is on disk (synchronous=FULL) unless told NORMAL,
// and says so through Durability.
func TestSQLiteSyncsEveryCommitByDefault(t *testing.T) {
	for _, c := range []struct {
		sync     storage.Sync
		want     string
		warnings int
	}{{"", "synchronous=FULL", 0}, {"normal", "synchronous=NORMAL", 1}, {storage.SyncFull, "synchronous=FULL", 0}} {
		db, err := storage.Open(storagetest.DSN(t, storage.SQLite), storage.Options{Synchronous: c.sync})
		if err != nil {
			t.Fatal(err)
		}
		d, err := db.Durability(context.Background())
		db.Close()
		if err != nil || len(d.Settings) != 1 || d.Settings[0] != c.want || len(d.Warnings) != c.warnings {
			t.Errorf("Synchronous %q: %+v, %v; want %s with %d warnings", c.sync, d, err, c.want, c.warnings)
		}
	}
	if _, err := storage.Open(storagetest.DSN(t, storage.SQLite), storage.Options{Synchronous: "OFF"}); err == nil {
		t.Error("synchronous OFF was accepted")
	}
}

// TestMySQLDurabilityIsRead: the server's settings are read (what they
// are warned about is in durability_internal_test.go: they are global
// settings, which a test must not change on a shared server).
func TestMySQLDurabilityIsRead(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		if d != storage.MySQL {
			continue
		}
		db := storagetest.Open(t, d)
		got, err := db.Durability(context.Background())
		if err != nil || len(got.Settings) != 3 {
			t.Fatalf("durability: %+v, %v", got, err)
		}
		t.Logf("MySQL: %v, warnings %q", got.Settings, got.Warnings)
	}
}
