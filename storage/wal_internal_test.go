package storage

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The writer checkpoints the WAL at walCheckpointPages, not SQLite's 1000:
// a stream of commits (with no reader holding the WAL back) leaves a WAL
// file that grew past the default but no further than that bound.
func TestSQLiteWALIsCheckpointedAtItsBound(t *testing.T) {
	path := filepath.Join(t.TempDir(), "paydesk.db")
	db, err := Open(path, Options{Synchronous: SyncNormal})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	w := db.Writer(ctx)
	var pages int
	if err := w.Raw("PRAGMA wal_autocheckpoint").Row().Scan(&pages); err != nil || pages != walCheckpointPages {
		t.Fatalf("writer's wal_autocheckpoint = %d, %v; want %d", pages, err, walCheckpointPages)
	}
	if err := w.Exec("CREATE TABLE filler (id INTEGER PRIMARY KEY, pad BLOB)").Error; err != nil {
		t.Fatal(err)
	}
	pad := strings.Repeat("x", 3000) // a page of its own, about
	// Each commit writes at least one frame: three times the bound in all.
	for range 3 * walCheckpointPages {
		if err := w.Exec("INSERT INTO filler (pad) VALUES (?)", pad).Error; err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	const frame = 4096 + 24 // a page and its frame header
	if got := fi.Size() / frame; got <= 1000 || got > walCheckpointPages+64 {
		t.Fatalf("WAL holds %d frames, want more than SQLite's default 1000 and at most %d", got, walCheckpointPages+64)
	}
}
