package ledger

import "github.com/paydesk/paydesk/storage"

// NewGormStoreSelectBack is a GormStore whose InsertTransfers reads the
// ids back, as on MySQL, even where the insert could return them.
func NewGormStoreSelectBack(db *storage.DB) *GormStore {
	return &GormStore{db: db, selectBack: true}
}
