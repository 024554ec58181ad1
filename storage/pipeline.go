package storage

import (
	"context"
	"fmt"
	"strings"
)

// Stmt is one SQL statement and its arguments.
type Stmt struct {
	SQL  string
	Args []any
}

// ExecAll runs writes whose results nobody reads, in order, within the
// transaction in ctx (or each on its own without one). In a MySQL
// transaction of InBatchTx they go in one round trip, as one
// multi-statement query: inside the hot account's batch every round trip
// waits on a busy server, and a batch's gathered writes used to cost one
// each. Elsewhere — SQLite, which has no round trips, and MySQL's other
// pools, which refuse multi-statement queries — they run one after
// another. The first failure stops the rest and is returned.
func (db *DB) ExecAll(ctx context.Context, stmts []Stmt) error {
	if len(stmts) == 0 {
		return nil
	}
	w := db.Writer(ctx)
	batch, _ := ctx.Value(batchKey{}).(bool)
	if db.Dialect != MySQL || len(stmts) == 1 || !batch {
		for _, s := range stmts {
			if err := w.Exec(s.SQL, s.Args...).Error; err != nil {
				return fmt.Errorf("%s: %w", head(s.SQL), err)
			}
		}
		return nil
	}
	var q strings.Builder
	var args []any
	heads := make([]string, len(stmts))
	for i, s := range stmts {
		if i > 0 {
			q.WriteString(";\n")
		}
		q.WriteString(s.SQL)
		args = append(args, s.Args...)
		heads[i] = head(s.SQL)
	}
	if err := w.Exec(q.String(), args...).Error; err != nil {
		return fmt.Errorf("one of %s: %w", strings.Join(heads, "; "), err)
	}
	return nil
}

// head is the start of a statement, to say which one failed without
// spelling out hundreds of placeholders.
func head(sql string) string {
	if i := strings.Index(sql, " ("); i > 0 && i < 64 {
		return sql[:i]
	}
	return sql[:min(len(sql), 64)]
}
