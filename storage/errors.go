package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"

	gomysql "github.com/go-sql-driver/mysql"
	"gorm.io/gorm"
	sqlite3 "modernc.org/sqlite/lib"
)

// IsDuplicate reports whether err is a unique-key violation.
func IsDuplicate(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return true
	}
	var me *gomysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1062
	}
	// Errors that did not pass through gorm's Translate (SQL run on db.SQL()).
	switch sqliteCode(err) {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return true
	}
	return strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// IsNotFound reports whether err is gorm's record-not-found.
func IsNotFound(err error) bool { return errors.Is(err, gorm.ErrRecordNotFound) }

// IsRetryable reports whether a transaction failed for a reason that a
// plain retry may cure: a deadlock or lock wait timeout on MySQL, a busy
// database on SQLite.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	var me *gomysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1213 || me.Number == 1205
	}
	// SQLITE_BUSY and SQLITE_LOCKED, with their extended codes
	// (SQLITE_BUSY_SNAPSHOT when a WAL read snapshot went stale, ...).
	if code := sqliteCode(err) & 0xff; code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "database is locked") || strings.Contains(s, "SQLITE_BUSY")
}

// isDeadlock reports whether MySQL rolled a transaction back to break a
// deadlock: the whole transaction may simply run again.
func isDeadlock(err error) bool {
	var me *gomysql.MySQLError
	return errors.As(err, &me) && me.Number == 1213
}

// IsUnavailable reports whether err says the database could not be reached
// or could not finish, through no fault of the request: a connection that
// broke, was refused or timed out, a server shutting down, out of
// connections or read-only (a fail-over), a busy or locked database, a full
// or failing disk. Whatever the request was, it may be retried as it is.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if IsRetryable(err) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, gomysql.ErrInvalidConn) ||
		errors.Is(err, sql.ErrConnDone) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var me *gomysql.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1040, // too many connections
			1053,                   // server shutdown in progress
			1152, 1158, 1159, 1160, // aborted connection, network read and write errors
			1161,
			1290, 1836, // read-only (a fail-over in progress)
			1317, // query interrupted
			1927, // connection killed (MariaDB)
			4031: // disconnected for inactivity (MySQL 8)
			return true
		}
		return false
	}
	switch sqliteCode(err) & 0xff {
	case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PROTOCOL:
		return true
	}
	return false
}
