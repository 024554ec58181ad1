package storage_test

import (
	"context"
	"errors"
	"testing"

	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// ExecAll runs its statements in order inside the caller's transaction; a
// failing one stops the rest, and the transaction rolls them all back.
func TestExecAll(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		if err := db.ExecAll(ctx, []storage.Stmt{{SQL: "CREATE TABLE pipe_t (id INT PRIMARY KEY, v INT NOT NULL, note VARCHAR(64))"}}); err != nil {
			t.Fatal(err)
		}
		total := func() (n, sum int64) {
			var r struct{ N, S int64 }
			db.Reader(ctx).Raw("SELECT COUNT(*) AS n, COALESCE(SUM(v), 0) AS s FROM pipe_t").Scan(&r)
			return r.N, r.S
		}
		err := db.InTx(ctx, func(ctx context.Context) error {
			return db.ExecAll(ctx, []storage.Stmt{
				{SQL: "INSERT INTO pipe_t (id, v) VALUES (?, ?), (?, ?)", Args: []any{1, 10, 2, 20}},
				{SQL: "UPDATE pipe_t SET v = v + ? WHERE id = ?", Args: []any{5, 2}},
				{SQL: "INSERT INTO pipe_t (id, v) VALUES (?, ?)", Args: []any{3, nil}},
			})
		})
		if err == nil {
			t.Fatal("a statement that cannot succeed succeeded")
		}
		if n, _ := total(); n != 0 {
			t.Fatalf("%d rows after a failed batch rolled back, want 0", n)
		}
		errStop := errors.New("stop")
		err = db.InTx(ctx, func(ctx context.Context) error {
			if err := db.ExecAll(ctx, []storage.Stmt{
				{SQL: "INSERT INTO pipe_t (id, v) VALUES (?, ?), (?, ?)", Args: []any{1, 10, 2, 20}},
				{SQL: "UPDATE pipe_t SET v = v * ? WHERE id = ?", Args: []any{3, 2}},
				{SQL: "INSERT INTO pipe_t (id, v) VALUES (?, ?)", Args: []any{3, 7}},
			}); err != nil {
				return err
			}
			if n, sum := total(); db.Dialect == storage.MySQL && (n != 0 || sum != 0) {
				t.Errorf("the read pool sees uncommitted rows: %d, %d", n, sum)
			}
			return errStop
		})
		if !errors.Is(err, errStop) {
			t.Fatal(err)
		}
		if n, _ := total(); n != 0 {
			t.Fatalf("%d rows after a rolled-back transaction", n)
		}
		if err := db.ExecAll(ctx, []storage.Stmt{
			{SQL: "INSERT INTO pipe_t (id, v) VALUES (?, ?), (?, ?)", Args: []any{1, 10, 2, 20}},
			{SQL: "UPDATE pipe_t SET v = v * ? WHERE id = ?", Args: []any{3, 2}},
			{SQL: "INSERT INTO pipe_t (id, v) VALUES (?, ?)", Args: []any{3, 7}},
		}); err != nil {
			t.Fatal(err)
		}
		if n, sum := total(); n != 3 || sum != 10+60+7 {
			t.Fatalf("rows %d, sum %d: want 3 and 77 (the statements ran in order)", n, sum)
		}
		// Values travel as values, even where they look like SQL.
		note := "it's 'quoted'; DROP TABLE pipe_t; --"
		if err := db.ExecAll(ctx, []storage.Stmt{
			{SQL: "UPDATE pipe_t SET note = ? WHERE id = ?", Args: []any{note, 1}},
			{SQL: "UPDATE pipe_t SET note = ? WHERE id = ?", Args: []any{`back\slash"`, 2}},
		}); err != nil {
			t.Fatal(err)
		}
		var notes []string
		db.Reader(ctx).Raw("SELECT note FROM pipe_t WHERE id IN (1, 2) ORDER BY id").Scan(&notes)
		if len(notes) != 2 || notes[0] != note || notes[1] != `back\slash"` {
			t.Fatalf("notes read back: %q", notes)
		}
	})
}

// TestMultiStatementsOnlyOnTheBatchPool: on MySQL only InBatchTx's
// connections take several statements in one query; everywhere else a
// stacked query is refused, so an injection could never become one.
// ExecAll works in both, one round trip or one per statement.
func TestMultiStatementsOnlyOnTheBatchPool(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		if err := db.ExecAll(ctx, []storage.Stmt{{SQL: "CREATE TABLE pipe_m (id INT PRIMARY KEY, v INT NOT NULL)"}}); err != nil {
			t.Fatal(err)
		}
		for name, inTx := range map[string]func(context.Context, func(context.Context) error) error{"InTx": db.InTx, "InBatchTx": db.InBatchTx} {
			if err := inTx(ctx, func(ctx context.Context) error {
				return db.ExecAll(ctx, []storage.Stmt{
					{SQL: "INSERT INTO pipe_m (id, v) VALUES (?, ?)", Args: []any{len(name), 1}},
					{SQL: "UPDATE pipe_m SET v = v + ? WHERE id = ?", Args: []any{1, len(name)}},
				})
			}); err != nil {
				t.Fatalf("ExecAll in %s: %v", name, err)
			}
		}
		var n int64
		db.Reader(ctx).Raw("SELECT COALESCE(SUM(v), 0) FROM pipe_m").Scan(&n)
		if n != 4 {
			t.Fatalf("sum %d after both batches, want 4", n)
		}
		if db.Dialect != storage.MySQL {
			return
		}
		stacked := "UPDATE pipe_m SET v = 0 WHERE id = 4; UPDATE pipe_m SET v = 0 WHERE id = 9"
		if err := db.Writer(ctx).Exec(stacked).Error; err == nil {
			t.Fatal("the write pool ran a stacked query")
		}
		if err := db.InTx(ctx, func(ctx context.Context) error { return db.Writer(ctx).Exec(stacked).Error }); err == nil {
			t.Fatal("a transaction of the write pool ran a stacked query")
		}
		if err := db.InBatchTx(ctx, func(ctx context.Context) error { return db.Writer(ctx).Exec(stacked).Error }); err != nil {
			t.Fatalf("the batch pool refused a stacked query: %v", err)
		}
	})
}
