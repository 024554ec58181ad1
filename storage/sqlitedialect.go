package storage

import (
	"errors"
	"strconv"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/callbacks"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"
	"gorm.io/gorm/migrator"
	"gorm.io/gorm/schema"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// sqliteDialector is gorm's view of SQLite, over a *sql.DB we open ourselves
// on modernc.org/sqlite. We used github.com/glebarez/sqlite before, whose
// driver (an old fork of modernc's) prepared every statement anew on every
// query; its dialector only works with that driver, and both register the
// database/sql name "sqlite", so this small one replaces it. Schema changes
// are goose SQL files, so the type mapping and migrator are minimal.
type sqliteDialector struct {
	conn gorm.ConnPool
}

func (sqliteDialector) Name() string { return "sqlite" }

func (d sqliteDialector) Initialize(db *gorm.DB) error {
	db.ConnPool = d.conn
	// The SQLite inside modernc.org/sqlite is far past 3.35, so RETURNING is
	// there: gorm reads generated ids back with it instead of LastInsertId.
	// Queries leave out gorm's "FOR" clause: SQLite has no FOR UPDATE, and
	// needs none (see DB.ForUpdate).
	callbacks.RegisterDefaultCallbacks(db, &callbacks.Config{
		CreateClauses:        []string{"INSERT", "VALUES", "ON CONFLICT", "RETURNING"},
		QueryClauses:         []string{"SELECT", "FROM", "WHERE", "GROUP BY", "ORDER BY", "LIMIT"},
		UpdateClauses:        []string{"UPDATE", "SET", "FROM", "WHERE", "RETURNING"},
		DeleteClauses:        []string{"DELETE", "FROM", "WHERE", "RETURNING"},
		LastInsertIDReversed: true,
	})
	db.ClauseBuilders["LIMIT"] = sqliteLimit
	return nil
}

// sqliteLimit writes LIMIT and OFFSET as literals, not bound parameters.
// SQLite lets the query planner use a bound LIMIT's value, so binding it
// expires the prepared statement and every run parses the SQL again: in a
// profile of the scan-code load test that was 16% of the server's CPU,
// all of it in reads with Limit(1). Literals make one statement per page
// size, a handful. SQLite rejects OFFSET without LIMIT: "no limit" is -1.
func sqliteLimit(c clause.Clause, b clause.Builder) {
	l, ok := c.Expression.(clause.Limit)
	if !ok {
		c.Build(b)
		return
	}
	limit := -1
	if l.Limit != nil && *l.Limit >= 0 {
		limit = *l.Limit
	}
	if limit < 0 && l.Offset <= 0 {
		return
	}
	b.WriteString("LIMIT " + strconv.Itoa(limit))
	if l.Offset > 0 {
		b.WriteString(" OFFSET " + strconv.Itoa(l.Offset))
	}
}

// Migrator is gorm's generic one; nothing here migrates through gorm, but
// the interface wants one.
func (d sqliteDialector) Migrator(db *gorm.DB) gorm.Migrator {
	return migrator.Migrator{Config: migrator.Config{DB: db, Dialector: d, CreateIndexAfterCreateTable: true}}
}

// DataTypeOf maps gorm's types to SQLite's affinities, for the migrator.
func (sqliteDialector) DataTypeOf(f *schema.Field) string {
	switch f.DataType {
	case schema.Bool:
		return "numeric"
	case schema.Int, schema.Uint:
		if f.AutoIncrement {
			return "integer PRIMARY KEY AUTOINCREMENT"
		}
		return "integer"
	case schema.Float:
		return "real"
	case schema.String:
		return "text"
	case schema.Time:
		if t, ok := f.TagSettings["TYPE"]; ok {
			return t
		}
		return "datetime" // the driver reads DATETIME columns back as time.Time
	case schema.Bytes:
		return "blob"
	}
	return string(f.DataType)
}

// DefaultValueOf fills a batch insert's missing values: NULL makes SQLite
// pick the next rowid. SQLite has no DEFAULT keyword in VALUES, so any other
// default fails loudly rather than storing something wrong, as with the
// glebarez dialector.
func (sqliteDialector) DefaultValueOf(f *schema.Field) clause.Expression {
	if f.AutoIncrement {
		return clause.Expr{SQL: "NULL"}
	}
	return clause.Expr{SQL: "DEFAULT"}
}

func (sqliteDialector) BindVarTo(w clause.Writer, _ *gorm.Statement, _ any) { w.WriteByte('?') }

// QuoteTo quotes each dot-separated part of an identifier in backticks
// (which SQLite accepts, and which our SQL shares with MySQL), doubling any
// backtick inside; a part that comes already quoted is kept as it is.
func (sqliteDialector) QuoteTo(w clause.Writer, s string) {
	for i, part := range strings.Split(s, ".") {
		if i > 0 {
			w.WriteByte('.')
		}
		if len(part) >= 2 && part[0] == '`' && part[len(part)-1] == '`' {
			w.WriteString(part)
			continue
		}
		w.WriteByte('`')
		w.WriteString(strings.ReplaceAll(part, "`", "``"))
		w.WriteByte('`')
	}
}

func (sqliteDialector) Explain(sql string, vars ...any) string {
	return logger.ExplainSQL(sql, nil, `"`, vars...)
}

func (sqliteDialector) SavePoint(tx *gorm.DB, name string) error {
	return tx.Exec("SAVEPOINT " + name).Error
}

func (sqliteDialector) RollbackTo(tx *gorm.DB, name string) error {
	return tx.Exec("ROLLBACK TO SAVEPOINT " + name).Error
}

// Translate turns constraint violations into gorm's portable errors (gorm
// calls it because Config.TranslateError is on). modernc.org/sqlite turns
// on extended result codes, so Code() tells UNIQUE from FOREIGN KEY.
func (sqliteDialector) Translate(err error) error {
	switch sqliteCode(err) {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return gorm.ErrDuplicatedKey
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return gorm.ErrForeignKeyViolated
	}
	return err
}

// sqliteCode is the extended SQLite result code carried by err, or 0.
func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}
