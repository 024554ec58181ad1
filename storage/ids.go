package storage

import (
	"context"
	"fmt"
	"sync"

	"gorm.io/gorm/clause"
)

// idBlockSize is how many ids an instance reserves at a time: one small
// transaction per thousand rows.
const idBlockSize = 1000

// IDs hands out unique ids for a table before its rows are written, from
// blocks each instance reserves in the database (hi/lo). Ids are unique
// across instances and increase within one; they are not gap-free.
type IDs struct {
	db *DB
	mu sync.Mutex
	// blocks per sequence name: the next id to give and the end of the block.
	next, end map[string]int64
}

// NewIDs returns an id allocator over db.
func NewIDs(db *DB) *IDs {
	return &IDs{db: db, next: map[string]int64{}, end: map[string]int64{}}
}

// Next returns a new id for the sequence name (a table name, by convention).
// It reserves a new block when the current one is used up, in a
// transaction of its own, so call it outside transactions: on SQLite a
// transaction already holds the only writer.
func (ids *IDs) Next(ctx context.Context, name string) (int64, error) {
	ids.mu.Lock()
	defer ids.mu.Unlock()
	if ids.next[name] < ids.end[name] {
		id := ids.next[name]
		ids.next[name]++
		return id, nil
	}
	// A block reserved inside another transaction would be given back if
	// that one rolled back, while this allocator still hands it out.
	if InTxContext(ctx) {
		return 0, fmt.Errorf("reserve ids for %s: called inside a transaction", name)
	}
	var start int64
	err := ids.db.InTx(ctx, func(ctx context.Context) error {
		w := ids.db.Writer(ctx)
		// Start above any id the table's own auto-increment gave out before.
		if err := w.Clauses(clause.OnConflict{DoNothing: true}).Create(&idBlockRow{Name: name, NextID: 1}).Error; err != nil {
			return err
		}
		var rows []idBlockRow
		if err := w.Raw("SELECT name, next_id FROM id_blocks WHERE name = ?"+ids.db.ForUpdate(), name).Scan(&rows).Error; err != nil {
			return err
		}
		if len(rows) != 1 {
			return fmt.Errorf("id block %s vanished", name)
		}
		start = rows[0].NextID
		return w.Model(&idBlockRow{}).Where("name = ?", name).Update("next_id", start+idBlockSize).Error
	})
	if err != nil {
		return 0, fmt.Errorf("reserve ids for %s: %w", name, err)
	}
	ids.next[name], ids.end[name] = start+1, start+idBlockSize
	return start, nil
}

type idBlockRow struct {
	Name   string `gorm:"primaryKey"`
	NextID int64
}

func (idBlockRow) TableName() string { return "id_blocks" }
