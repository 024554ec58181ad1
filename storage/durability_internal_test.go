package storage

import (
	"strings"
	"testing"
)

// TestMySQLDurabilityWarnings: a commit not flushed at once, or a binary
// log not synced with it, is warned about; the recommended settings, and
// a sync_binlog that does not matter without a binary log, are not.
func TestMySQLDurabilityWarnings(t *testing.T) {
	for _, c := range []struct {
		flush, syncBinlog int64
		binlog            bool
		want              []string
	}{
		{1, 1, true, nil},
		{1, 0, false, nil},
		{2, 1, true, []string{"innodb_flush_log_at_trx_commit=2"}},
		{0, 0, true, []string{"innodb_flush_log_at_trx_commit=0", "sync_binlog=0"}},
		{1, 100, true, []string{"sync_binlog=100"}},
	} {
		d := mysqlDurability(c.flush, c.syncBinlog, c.binlog)
		if len(d.Warnings) != len(c.want) {
			t.Errorf("%+v: warnings %q, want ones about %q", c, d.Warnings, c.want)
			continue
		}
		for i, w := range c.want {
			if !strings.HasPrefix(d.Warnings[i], w+":") && !strings.HasPrefix(d.Warnings[i], w+" ") {
				t.Errorf("%+v: warning %q, want one about %s", c, d.Warnings[i], w)
			}
		}
	}
}
