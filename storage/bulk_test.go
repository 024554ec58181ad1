package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

func TestBulkGathersInsertsAndMergesCounters(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		for _, q := range []string{
			"CREATE TABLE bulk_rows (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(32) NOT NULL)",
			"CREATE TABLE bulk_counters (k1 BIGINT NOT NULL, k2 VARCHAR(16) NOT NULL, n BIGINT NOT NULL, total BIGINT NOT NULL, last_at DATETIME NOT NULL, PRIMARY KEY (k1, k2))",
		} {
			if _, err := db.SQL().Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
		add := func(ctx context.Context, k1 int64, amount int64, at time.Time) error {
			return db.Accumulate(ctx, storage.Counter{Table: "bulk_counters", KeyCols: []string{"k1", "k2"}, Key: []any{k1, "day"},
				AddCols: []string{"n", "total"}, Add: []int64{1, amount}, MaxCols: []string{"last_at"}, Max: []any{at}})
		}
		// Without a Bulk, writes happen at once.
		if err := add(ctx, 1, 100, t0); err != nil {
			t.Fatal(err)
		}
		err := db.InTx(ctx, func(ctx context.Context) error {
			ctx, bulk := db.WithBulk(ctx)
			for i := int64(1); i <= 3; i++ {
				if err := db.Insert(ctx, "bulk_rows", []string{"id", "name"}, i, "row"); err != nil {
					return err
				}
				if err := add(ctx, 1, 10*i, t0.Add(time.Duration(i)*time.Minute)); err != nil {
					return err
				}
				if err := add(ctx, 2, i, t0); err != nil {
					return err
				}
			}
			var n int64
			db.Writer(ctx).Raw("SELECT COUNT(*) FROM bulk_rows").Scan(&n)
			if n != 0 {
				t.Errorf("%d rows written before Flush", n)
			}
			return bulk.Flush(ctx)
		})
		if err != nil {
			t.Fatal(err)
		}
		var rows int64
		db.Reader(ctx).Raw("SELECT COUNT(*) FROM bulk_rows").Scan(&rows)
		type counter struct {
			K1     int64
			N      int64
			Total  int64
			LastAt time.Time
		}
		var cs []counter
		db.Reader(ctx).Raw("SELECT k1, n, total, last_at FROM bulk_counters ORDER BY k1").Scan(&cs)
		if rows != 3 || len(cs) != 2 || cs[0].N != 4 || cs[0].Total != 160 || !cs[0].LastAt.Equal(t0.Add(3*time.Minute)) || cs[1].N != 3 || cs[1].Total != 6 {
			t.Fatalf("rows %d, counters %+v", rows, cs)
		}
		// A duplicate fails at Flush, and the transaction rolls back whole.
		err = db.InTx(ctx, func(ctx context.Context) error {
			ctx, bulk := db.WithBulk(ctx)
			db.Insert(ctx, "bulk_rows", []string{"id", "name"}, int64(9), "new")
			db.Insert(ctx, "bulk_rows", []string{"id", "name"}, int64(1), "dup")
			return bulk.Flush(ctx)
		})
		if !storage.IsDuplicate(err) {
			t.Fatalf("flush of a duplicate: %v", err)
		}
		db.Reader(ctx).Raw("SELECT COUNT(*) FROM bulk_rows").Scan(&rows)
		if rows != 3 {
			t.Fatalf("%d rows after a failed flush, want 3", rows)
		}
	})
}

func TestIDsAreUniqueAcrossAllocators(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		a, b := storage.NewIDs(db), storage.NewIDs(db) // two instances
		seen := map[int64]bool{}
		for i := 0; i < 2500; i++ {
			for _, ids := range []*storage.IDs{a, b} {
				id, err := ids.Next(ctx, "orders")
				if err != nil {
					t.Fatal(err)
				}
				if seen[id] || id <= 0 {
					t.Fatalf("id %d given twice", id)
				}
				seen[id] = true
			}
		}
	})
}
