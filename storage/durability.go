package storage

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// Sync is SQLite's synchronous setting: when a commit reaches the disk.
type Sync string

const (
	// SyncFull syncs the write-ahead log to disk at every commit, before
	// the commit returns: a payment answered PAID survives a power loss.
	// It is the default.
	SyncFull Sync = "FULL"
	// SyncNormal syncs only at checkpoints: a crash of paydesk loses
	// nothing, but a power loss or a crash of the machine can lose the last
	// commits, which were already answered (the order, its money and the
	// code's use vanish together, so the books stay sound). Faster; for
	// those who accept that.
	SyncNormal Sync = "NORMAL"
)

// ParseSync reads a synchronous setting, in any case; "" is SyncFull.
func ParseSync(s string) (Sync, error) {
	switch Sync(strings.ToUpper(strings.TrimSpace(s))) {
	case "", SyncFull:
		return SyncFull, nil
	case SyncNormal:
		return SyncNormal, nil
	}
	return "", fmt.Errorf("storage: SQLite synchronous %q: want FULL or NORMAL", s)
}

// Durability is what the database promises about a commit it has
// acknowledged, as its settings say.
type Durability struct {
	// Settings are the settings that decide it, "name=value" each.
	Settings []string
	// Warnings name each setting that lets an acknowledged commit be lost,
	// and what to set instead; none when every commit is durable.
	Warnings []string
}

// Durability reads the settings that decide whether an acknowledged commit
// survives a crash: SQLite's synchronous on the writing connection; on
// MySQL innodb_flush_log_at_trx_commit and, with the binary log on,
// sync_binlog (which must be 1 for a replica or a point-in-time restore
// to keep what the primary answered).
func (db *DB) Durability(ctx context.Context) (Durability, error) {
	if db.Dialect == SQLite {
		var n int
		if err := db.Writer(ctx).Raw("PRAGMA synchronous").Row().Scan(&n); err != nil {
			return Durability{}, fmt.Errorf("storage: read synchronous: %w", err)
		}
		// 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA.
		names := map[int]string{0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
		d := Durability{Settings: []string{"synchronous=" + names[n]}}
		if n < 2 {
			d.Warnings = append(d.Warnings, "SQLite synchronous="+names[n]+": a power loss or a crash of the machine can lose payments already answered PAID; "+
				"FULL makes every commit durable before it is answered")
		}
		return d, nil
	}
	var flush, syncBinlog sql.NullInt64
	var logBin sql.NullString
	err := db.SQL().QueryRowContext(ctx, "SELECT @@innodb_flush_log_at_trx_commit, @@sync_binlog, @@log_bin").Scan(&flush, &syncBinlog, &logBin)
	if err != nil {
		return Durability{}, fmt.Errorf("storage: read durability settings: %w", err)
	}
	return mysqlDurability(flush.Int64, syncBinlog.Int64, logBin.String == "1" || strings.EqualFold(logBin.String, "ON")), nil
}

// mysqlDurability judges MySQL's settings.
func mysqlDurability(flush, syncBinlog int64, binlog bool) Durability {
	d := Durability{Settings: []string{
		fmt.Sprintf("innodb_flush_log_at_trx_commit=%d", flush),
		fmt.Sprintf("sync_binlog=%d", syncBinlog),
		"log_bin=" + map[bool]string{true: "ON", false: "OFF"}[binlog],
	}}
	if flush != 1 {
		d.Warnings = append(d.Warnings, fmt.Sprintf("innodb_flush_log_at_trx_commit=%d: a crash can lose about a second of payments already answered PAID; set it to 1", flush))
	}
	if binlog && syncBinlog != 1 {
		d.Warnings = append(d.Warnings, fmt.Sprintf("sync_binlog=%d with the binary log on: a crash can drop payments already answered PAID from the binary log, "+
			"so a replica or a point-in-time restore lacks them; set it to 1", syncBinlog))
	}
	return d
}
