package storage

import (
	"context"
	"strconv"
	"strings"
)

// InsertReturns reports whether an INSERT can hand back the rows it wrote
// (INSERT ... RETURNING), which saves reading them again: SQLite does
// (since 3.35; the driver bundles a later one), MariaDB since 10.5, MySQL
// not at all. The server is asked once; if it cannot be asked, the answer
// is no, and callers take the portable way.
func (db *DB) InsertReturns(ctx context.Context) bool {
	if db.Dialect == SQLite {
		return true
	}
	db.returns.once.Do(func() {
		var v string
		if err := db.read.WithContext(ctx).Raw("SELECT VERSION()").Row().Scan(&v); err == nil {
			db.returns.ok = mariaDBReturns(v)
		}
	})
	return db.returns.ok
}

// mariaDBReturns reports whether a server's VERSION() is that of a MariaDB
// with INSERT ... RETURNING: "10.11.19-MariaDB-0+deb12u1" is, "10.4.3-MariaDB"
// and "8.4.3" (MySQL) are not.
func mariaDBReturns(version string) bool {
	if !strings.Contains(version, "MariaDB") {
		return false
	}
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return false
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return false
	}
	return major > 10 || major == 10 && minor >= 5
}
