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

// logGatherer records, at Flush, how many rows bulk_rows holds then, and
// writes a row through the ctx Flush gives it.
type logGatherer struct {
	db    *storage.DB
	calls int
	seen  []int64
}

func (g *logGatherer) Flush(ctx context.Context) error {
	g.calls++
	var n int64
	if err := g.db.Writer(ctx).Raw("SELECT COUNT(*) FROM bulk_rows").Scan(&n).Error; err != nil {
		return err
	}
	g.seen = append(g.seen, n)
	// The ctx of a Flush carries no Bulk: this is written at once.
	return g.db.Insert(ctx, "bulk_rows", []string{"id", "name"}, 1000+n, "gatherer")
}

type logKey struct{}

func TestBulkRunsGatherersInFirstUseOrder(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		if _, err := db.SQL().Exec("CREATE TABLE bulk_rows (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(32) NOT NULL)"); err != nil {
			t.Fatal(err)
		}
		newLog := func() *logGatherer { return &logGatherer{db: db} }
		if _, ok := storage.Gather(ctx, db, logKey{}, newLog); ok {
			t.Fatal("Gather without a Bulk")
		}
		other := storagetest.Open(t, storagetest.Dialects()[0])
		if _, ok := storage.Gather(func() context.Context { c, _ := other.WithBulk(ctx); return c }(), db, logKey{}, newLog); ok {
			t.Fatal("Gather into the Bulk of another database")
		}
		var g *logGatherer
		rows := func(from, to int64) [][]any {
			var out [][]any
			for i := from; i < to; i++ {
				out = append(out, []any{i, "many"})
			}
			return out
		}
		err := db.InTx(ctx, func(ctx context.Context) error {
			ctx, bulk := db.WithBulk(ctx)
			if err := db.Insert(ctx, "bulk_rows", []string{"id", "name"}, int64(1), "first"); err != nil {
				return err
			}
			g1, ok := storage.Gather(ctx, db, logKey{}, newLog)
			g2, _ := storage.Gather(ctx, db, logKey{}, newLog)
			if !ok || g1 != g2 {
				t.Errorf("Gather = %p, %p, %v; want one gatherer per Bulk", g1, g2, ok)
			}
			g = g1
			// Gathered after the gatherer's first use, but into the group of
			// the first Insert, which comes before it; a group first used
			// after it comes after it.
			if err := db.InsertRows(ctx, "bulk_rows", []string{"id", "name"}, rows(2, 5)); err != nil {
				return err
			}
			if err := db.InsertRows(ctx, "bulk_rows", []string{"name", "id"}, [][]any{{"later", int64(5000)}}); err != nil {
				return err
			}
			if g.calls != 0 {
				t.Errorf("gatherer flushed before Flush")
			}
			return bulk.Flush(ctx)
		})
		if err != nil {
			t.Fatal(err)
		}
		if g.calls != 1 || len(g.seen) != 1 || g.seen[0] != 4 {
			t.Fatalf("gatherer calls %d, saw %v rows; want 1 call seeing the 4 rows of the first group", g.calls, g.seen)
		}
		var n int64
		db.Reader(ctx).Raw("SELECT COUNT(*) FROM bulk_rows").Scan(&n)
		if n != 4+1+1 {
			t.Fatalf("%d rows, want 6", n)
		}
		// At once, in chunks: more rows than one statement takes.
		if err := db.InsertRows(ctx, "bulk_rows", []string{"id", "name"}, rows(10_000, 11_201)); err != nil {
			t.Fatal(err)
		}
		db.Reader(ctx).Raw("SELECT COUNT(*) FROM bulk_rows WHERE id >= 10000").Scan(&n)
		if n != 1201 {
			t.Fatalf("%d rows inserted at once, want 1201", n)
		}
		if err := db.InsertRows(ctx, "bulk_rows", []string{"id", "name"}, [][]any{{int64(1)}}); err == nil {
			t.Fatal("InsertRows with a value missing succeeded")
		}
	})
}
