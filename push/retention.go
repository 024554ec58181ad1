package push

import (
	"context"
	"fmt"
	"time"
)

// DefaultRetention is how long the outbox keeps an event for clients that
// reconnect with last_seq: a phone switched off over a long weekend still
// resumes without reloading.
const DefaultRetention = 7 * 24 * time.Hour

// purgeBatch bounds the events one Purge statement deletes, so each
// deletion is a short transaction that never holds the single SQLite
// writer, or InnoDB's row locks, for long.
const purgeBatch = 500

// Purge deletes the events written before before, purgeBatch at a time
// (oldest first) until none is left or ctx ends, and returns how many it
// deleted. Several instances may purge at once: a row deleted twice counts
// once.
//
// Deleting events never disturbs numbering: the last number of every
// sequence lives in event_sequences and wallet_event_sequences, which
// Purge leaves alone. A client that resumes from a number whose events
// are gone is told to resync (see Stream), never silently skipped ahead.
func (o *Outbox) Purge(ctx context.Context, before time.Time) (int64, error) {
	before = before.UTC()
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		// Ids first, then a delete by primary key: portable (neither
		// SQLite's DELETE … LIMIT nor a LIMIT in MariaDB's IN subquery
		// is), and the delete locks exactly the rows it removes.
		ids, err := oldEventIDs(ctx, o.db, before, purgeBatch)
		if err != nil {
			return total, fmt.Errorf("find events written before %s: %w", before.Format(time.RFC3339), err)
		}
		if len(ids) == 0 {
			return total, nil
		}
		n, err := deleteEvents(ctx, o.db, ids)
		if err != nil {
			return total, fmt.Errorf("delete %d events written before %s: %w", len(ids), before.Format(time.RFC3339), err)
		}
		total += n
		if len(ids) < purgeBatch {
			return total, nil
		}
	}
}
