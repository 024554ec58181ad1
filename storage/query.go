package storage

import (
	"context"
	"database/sql"
	"errors"

	"gorm.io/gorm"
)

// Scanner is a row to scan columns from: a *sql.Row or a *sql.Rows.
type Scanner interface {
	Scan(dest ...any) error
}

// QueryOne runs a read that wants at most one row, with database/sql, and
// scans the first row with scan; found is false when there is none.
//
// QueryOne and QueryAll are for the reads on every payment's path, where
// gorm's statement building and reflection cost as much CPU as the
// database. A store gives each row type one column list for its SELECTs and
// one scan function that takes the columns in that order into the row's
// fields. They run where Reader would: in the transaction ctx carries
// (which sees its own writes and may lock with ForUpdate), or else on the
// read pool.
func QueryOne[T any](ctx context.Context, db *DB, scan func(Scanner, *T) error, query string, args ...any) (row T, found bool, err error) {
	err = scan(db.readConn(ctx).QueryRowContext(ctx, query, args...), &row)
	if errors.Is(err, sql.ErrNoRows) {
		return row, false, nil
	}
	if err != nil {
		var zero T
		return zero, false, err
	}
	return row, true, nil
}

// QueryAll runs a read with database/sql, as QueryOne does, and scans
// every row with scan.
func QueryAll[T any](ctx context.Context, db *DB, scan func(Scanner, *T) error, query string, args ...any) ([]T, error) {
	rows, err := db.readConn(ctx).QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var r T
		if err := scan(rows, &r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// readConn is the database/sql handle Reader's statements run on: the
// transaction in ctx, or the read pool.
func (db *DB) readConn(ctx context.Context) gorm.ConnPool {
	if tx, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return tx.Statement.ConnPool
	}
	return db.read.ConnPool
}
