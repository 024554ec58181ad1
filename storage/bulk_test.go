package storage_test

import (
	"context"
	"fmt"
	"slices"
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

func TestChunks(t *testing.T) {
	sqlite, mysql := &storage.DB{Dialect: storage.SQLite}, &storage.DB{Dialect: storage.MySQL}
	for _, c := range []struct {
		n             int
		sqlite, mysql []int
	}{
		{0, nil, nil},
		{1, []int{1}, []int{1}},
		{2, []int{2}, []int{2}},
		{3, []int{2, 1}, []int{3}},
		{45, []int{32, 8, 4, 1}, []int{45}},
		{64, []int{64}, []int{64}},
		{255, []int{128, 64, 32, 16, 8, 4, 2, 1}, []int{255}},
		{256, []int{256}, []int{256}},
		{300, []int{256, 32, 8, 4}, []int{300}},
		{500, []int{256, 128, 64, 32, 16, 4}, []int{500}},
		{513, []int{256, 256, 1}, []int{500, 13}},
		{1201, []int{256, 256, 256, 256, 128, 32, 16, 1}, []int{500, 500, 201}},
	} {
		if got := sqlite.Chunks(c.n); !slices.Equal(got, c.sqlite) {
			t.Errorf("SQLite Chunks(%d) = %v, want %v", c.n, got, c.sqlite)
		}
		if got := mysql.Chunks(c.n); !slices.Equal(got, c.mysql) {
			t.Errorf("MySQL Chunks(%d) = %v, want %v", c.n, got, c.mysql)
		}
	}
	// Every size on SQLite is one of nine.
	sizes := map[int]bool{}
	for n := 1; n <= 2000; n++ {
		sum := 0
		for _, k := range sqlite.Chunks(n) {
			sizes[k] = true
			sum += k
		}
		if sum != n {
			t.Fatalf("SQLite Chunks(%d) adds up to %d", n, sum)
		}
	}
	if len(sizes) != 9 {
		t.Fatalf("SQLite chunk sizes %v, want the nine powers of two up to 256", sizes)
	}
}

func TestInLists(t *testing.T) {
	vals := func(n int) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	lens := func(lists [][]any) []int {
		var out []int
		for _, l := range lists {
			out = append(out, len(l))
		}
		return out
	}
	sqlite, mysql := &storage.DB{Dialect: storage.SQLite}, &storage.DB{Dialect: storage.MySQL}
	for _, c := range []struct {
		n             int
		sqlite, mysql []int
	}{
		{0, nil, nil},
		{1, []int{1}, []int{1}},
		{3, []int{4}, []int{3}},
		{45, []int{64}, []int{45}},
		{256, []int{256}, []int{256}},
		{300, []int{256, 64}, []int{300}},
		{1201, []int{256, 256, 256, 256, 256}, []int{500, 500, 201}},
	} {
		for _, d := range []struct {
			db   *storage.DB
			want []int
		}{{sqlite, c.sqlite}, {mysql, c.mysql}} {
			in := vals(c.n)
			lists := d.db.InLists(in)
			if got := lens(lists); !slices.Equal(got, d.want) {
				t.Errorf("%s InLists(%d values): lengths %v, want %v", d.db.Dialect, c.n, got, d.want)
				continue
			}
			// The values in order, each list padded with its own last value.
			var flat []any
			for _, l := range lists {
				last := len(l) - 1
				for last > 0 && l[last-1] == l[last] {
					last--
				}
				for _, v := range l[last+1:] {
					if v != l[last] {
						t.Errorf("%s InLists(%d values): list %v padded with %v", d.db.Dialect, c.n, l, v)
					}
				}
				flat = append(flat, l[:last+1]...)
			}
			if !slices.Equal(flat, in) {
				t.Errorf("%s InLists(%d values) = %v", d.db.Dialect, c.n, lists)
			}
		}
	}
}

// A batch written in chunks holds exactly the rows and counters it would in
// one statement, with parents written before their children.
func TestBulkWritesBatchesOfAnySizeWhole(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		for _, q := range []string{
			"CREATE TABLE bulk_rows (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(32) NOT NULL)",
			"CREATE TABLE bulk_children (id BIGINT NOT NULL PRIMARY KEY, parent_id BIGINT NOT NULL, FOREIGN KEY (parent_id) REFERENCES bulk_rows (id))",
			"CREATE TABLE bulk_counters (k1 BIGINT NOT NULL, k2 VARCHAR(16) NOT NULL, n BIGINT NOT NULL, total BIGINT NOT NULL, last_at DATETIME NOT NULL, PRIMARY KEY (k1, k2))",
		} {
			if _, err := db.SQL().Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
		type counter struct {
			K1     int64
			N      int64
			Total  int64
			LastAt time.Time
		}
		var wantRows []string
		wantCounters := map[int64]*counter{}
		next := int64(1)
		for _, size := range []int{1, 2, 3, 45, 255, 256, 300, 777} {
			err := db.InTx(ctx, func(ctx context.Context) error {
				ctx, bulk := db.WithBulk(ctx)
				for i := range size {
					id := next + int64(i)
					if err := db.Insert(ctx, "bulk_rows", []string{"id", "name"}, id, fmt.Sprintf("row %d of %d", i, size)); err != nil {
						return err
					}
					if err := db.Insert(ctx, "bulk_children", []string{"id", "parent_id"}, id, id); err != nil {
						return err
					}
					// Keys in descending order, some more than once.
					for _, k := range []int64{int64(size - i), int64(size-i) / 2} {
						at := t0.Add(time.Duration(i) * time.Second)
						err := db.Accumulate(ctx, storage.Counter{Table: "bulk_counters", KeyCols: []string{"k1", "k2"}, Key: []any{k, "day"},
							AddCols: []string{"n", "total"}, Add: []int64{1, id}, MaxCols: []string{"last_at"}, Max: []any{at}})
						if err != nil {
							return err
						}
					}
				}
				return bulk.Flush(ctx)
			})
			if err != nil {
				t.Fatalf("batch of %d: %v", size, err)
			}
			for i := range size {
				id := next + int64(i)
				wantRows = append(wantRows, fmt.Sprintf("%d:row %d of %d", id, i, size))
				for _, k := range []int64{int64(size - i), int64(size-i) / 2} {
					c := wantCounters[k]
					if c == nil {
						c = &counter{K1: k}
						wantCounters[k] = c
					}
					c.N++
					c.Total += id
					if at := t0.Add(time.Duration(i) * time.Second); at.After(c.LastAt) {
						c.LastAt = at
					}
				}
			}
			next += int64(size)
		}
		var rows []struct {
			ID   int64
			Name string
		}
		db.Reader(ctx).Raw("SELECT id, name FROM bulk_rows ORDER BY id").Scan(&rows)
		var got []string
		for _, r := range rows {
			got = append(got, fmt.Sprintf("%d:%s", r.ID, r.Name))
		}
		if !slices.Equal(got, wantRows) {
			t.Fatalf("%d rows, want %d (first differences: %v)", len(got), len(wantRows), firstDiff(got, wantRows))
		}
		var children int64
		db.Reader(ctx).Raw("SELECT COUNT(*) FROM bulk_children c JOIN bulk_rows r ON r.id = c.parent_id").Scan(&children)
		if children != int64(len(wantRows)) {
			t.Fatalf("%d children, want %d", children, len(wantRows))
		}
		var cs []counter
		db.Reader(ctx).Raw("SELECT k1, n, total, last_at FROM bulk_counters WHERE k2 = 'day' ORDER BY k1").Scan(&cs)
		if len(cs) != len(wantCounters) {
			t.Fatalf("%d counters, want %d", len(cs), len(wantCounters))
		}
		for _, c := range cs {
			w := wantCounters[c.K1]
			if w == nil || c.N != w.N || c.Total != w.Total || !c.LastAt.Equal(w.LastAt) {
				t.Fatalf("counter %+v, want %+v", c, w)
			}
		}
	})
}

func firstDiff(got, want []string) []string {
	for i := range max(len(got), len(want)) {
		if i >= len(got) || i >= len(want) || got[i] != want[i] {
			return slices.Concat(got[i:min(i+3, len(got))], want[i:min(i+3, len(want))])
		}
	}
	return nil
}

// lateGatherer is a logGatherer that says Late, like the outbox's.
type lateGatherer struct{ logGatherer }

func (*lateGatherer) Late() bool { return true }

type lateKey struct{}

// FlushEarly writes the rows and the counters that are not Hot, and
// FlushLate the Hot counters and the Late gatherers, each in first-use
// order; a group is written once, whichever flushes run (issue 20: the
// ledger takes the rows other batches share at the end of its batch).
func TestBulkFlushesEarlyThenLate(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		for _, q := range []string{
			"CREATE TABLE bulk_rows (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(32) NOT NULL)",
			"CREATE TABLE bulk_counters (k1 BIGINT NOT NULL, k2 VARCHAR(16) NOT NULL, n BIGINT NOT NULL, PRIMARY KEY (k1, k2))",
		} {
			if _, err := db.SQL().Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		count := func(ctx context.Context, q string) (n int64) {
			db.Writer(ctx).Raw(q).Scan(&n)
			return n
		}
		add := func(ctx context.Context, k1 int64, hot bool) error {
			return db.Accumulate(ctx, storage.Counter{Table: "bulk_counters", KeyCols: []string{"k1", "k2"}, Key: []any{k1, "day"},
				AddCols: []string{"n"}, Add: []int64{1}, Hot: hot})
		}
		err := db.InTx(ctx, func(ctx context.Context) error {
			ctx, bulk := db.WithBulk(ctx)
			g, _ := storage.Gather(ctx, db, lateKey{}, func() *lateGatherer { return &lateGatherer{logGatherer{db: db}} })
			if err := add(ctx, 1, true); err != nil {
				return err
			}
			if err := db.Insert(ctx, "bulk_rows", []string{"id", "name"}, int64(1), "early"); err != nil {
				return err
			}
			if err := add(ctx, 2, false); err != nil {
				return err
			}
			if err := bulk.FlushEarly(ctx); err != nil {
				return err
			}
			if rows, counters := count(ctx, "SELECT COUNT(*) FROM bulk_rows"), count(ctx, "SELECT COUNT(*) FROM bulk_counters"); rows != 1 || counters != 1 || g.calls != 0 {
				t.Errorf("after FlushEarly: %d rows, %d counters, gatherer ran %d times; want the row and the cold counter only", rows, counters, g.calls)
			}
			if err := bulk.FlushLate(ctx); err != nil {
				return err
			}
			if err := bulk.Flush(ctx); err != nil { // nothing is left to write twice
				return err
			}
			if hot := count(ctx, "SELECT n FROM bulk_counters WHERE k1 = 1"); hot != 1 || g.calls != 1 {
				t.Errorf("after FlushLate: hot counter %d, gatherer ran %d times; want 1 and 1", hot, g.calls)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
