package storage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

type attempt struct {
	Key         string
	Failures    int
	WindowStart time.Time
	LockedUntil *time.Time
}

const selectAttempts = "SELECT attempt_key, failures, window_start, locked_until FROM attempts"

func scanAttempt(sc storage.Scanner, a *attempt) error {
	return sc.Scan(&a.Key, &a.Failures, &a.WindowStart, &a.LockedUntil)
}

func insertAttempt(t *testing.T, ctx context.Context, db *storage.DB, a attempt) {
	t.Helper()
	err := db.Writer(ctx).Exec("INSERT INTO attempts (attempt_key, failures, window_start, locked_until) VALUES (?, ?, ?, ?)",
		a.Key, a.Failures, a.WindowStart, a.LockedUntil).Error
	if err != nil {
		t.Fatalf("insert attempt %s: %v", a.Key, err)
	}
}

func TestQueryOneReadsNullsAndTimesInUTC(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		// Written in another zone; every read answers in UTC, as gorm's do.
		shanghai := time.FixedZone("CST", 8*3600)
		start := time.Date(2026, 11, 25, 18, 0, 0, 123456000, shanghai)
		until := start.Add(15 * time.Minute)
		insertAttempt(t, ctx, db, attempt{Key: "open", Failures: 1, WindowStart: start})
		insertAttempt(t, ctx, db, attempt{Key: "locked", Failures: 2, WindowStart: start, LockedUntil: &until})

		tests := []struct {
			key   string
			found bool
			want  attempt
		}{
			{"open", true, attempt{Key: "open", Failures: 1, WindowStart: start.UTC()}},
			{"locked", true, attempt{Key: "locked", Failures: 2, WindowStart: start.UTC(), LockedUntil: ptr(until.UTC())}},
			{"missing", false, attempt{}},
		}
		for _, tt := range tests {
			got, found, err := storage.QueryOne(ctx, db, scanAttempt, selectAttempts+" WHERE attempt_key = ?", tt.key)
			if err != nil || found != tt.found {
				t.Fatalf("%s: found=%v err=%v, want found=%v", tt.key, found, err, tt.found)
			}
			if got.Key != tt.want.Key || got.Failures != tt.want.Failures || got.WindowStart != tt.want.WindowStart ||
				(got.LockedUntil == nil) != (tt.want.LockedUntil == nil) ||
				(got.LockedUntil != nil && *got.LockedUntil != *tt.want.LockedUntil) {
				t.Errorf("%s: read %+v (locked until %v), want %+v (locked until %v)",
					tt.key, got, got.LockedUntil, tt.want, tt.want.LockedUntil)
			}
		}
	})
}

func TestQueryReadsInTheTransactionOfTheContext(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
		insertAttempt(t, ctx, db, attempt{Key: "b", Failures: 1, WindowStart: at})
		done := errors.New("roll back")
		err := db.InTx(ctx, func(tx context.Context) error {
			insertAttempt(t, tx, db, attempt{Key: "a", Failures: 2, WindowStart: at})
			if _, found, err := storage.QueryOne(tx, db, scanAttempt, selectAttempts+" WHERE attempt_key = ?", "a"); err != nil || !found {
				t.Errorf("the transaction does not read its own write: found=%v err=%v", found, err)
			}
			if _, found, err := storage.QueryOne(ctx, db, scanAttempt, selectAttempts+" WHERE attempt_key = ?", "a"); err != nil || found {
				t.Errorf("a read outside the transaction sees its uncommitted write: found=%v err=%v", found, err)
			}
			all, err := storage.QueryAll(tx, db, scanAttempt, selectAttempts+" ORDER BY attempt_key")
			if err != nil || len(all) != 2 || all[0].Key != "a" || all[1].Key != "b" {
				t.Errorf("all in the transaction = %+v, %v; want a and b", all, err)
			}
			return done
		})
		if !errors.Is(err, done) {
			t.Fatalf("InTx = %v", err)
		}
		all, err := storage.QueryAll(ctx, db, scanAttempt, selectAttempts+" ORDER BY attempt_key")
		if err != nil || len(all) != 1 || all[0].Key != "b" {
			t.Fatalf("all after the rollback = %+v, %v; want b alone", all, err)
		}
	})
}

func TestQueryAllOfNoRowsAndErrors(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		if rows, err := storage.QueryAll(ctx, db, scanAttempt, selectAttempts); err != nil || len(rows) != 0 {
			t.Fatalf("empty table: %+v, %v", rows, err)
		}
		if _, err := storage.QueryAll(ctx, db, scanAttempt, "SELECT nope FROM attempts"); err == nil {
			t.Error("a bad query returned no error")
		}
		insertAttempt(t, ctx, db, attempt{Key: "k", Failures: 1, WindowStart: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)})
		// A scan function that disagrees with the column list fails loudly
		// instead of filling the wrong fields.
		short := "SELECT attempt_key, failures FROM attempts"
		if _, _, err := storage.QueryOne(ctx, db, scanAttempt, short); err == nil {
			t.Error("QueryOne scanned 2 columns into 4 fields without an error")
		}
		if _, err := storage.QueryAll(ctx, db, scanAttempt, short); err == nil {
			t.Error("QueryAll scanned 2 columns into 4 fields without an error")
		}
	})
}

func ptr[T any](v T) *T { return &v }
