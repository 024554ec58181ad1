package pos

import (
	"context"
	"fmt"

	"github.com/paydesk/paydesk/storage"
)

// ListOrders runs an order list on the index of its narrowest scope:
// (cashier_id, created_at, id), (store_id, ...) or (merchant_id, ...). The
// index is named, not left to the planner, because with a LIMIT and an
// ORDER BY both databases sometimes prefer the wrong one at a million rows;
// the other filters are checked on the rows the index walk yields.
func (s *GormStorage) ListOrders(ctx context.Context, q OrderQuery) ([]Order, error) {
	index := "ix_orders_merchant_time"
	switch {
	case q.CashierID != 0:
		index = "ix_orders_cashier_time"
	case q.StoreID != 0:
		index = "ix_orders_store_time"
	}
	table := "orders INDEXED BY " + index
	if s.db.Dialect == storage.MySQL {
		table = "orders FORCE INDEX (" + index + ")"
	}
	tx := s.db.Reader(ctx).Table(table).Where("merchant_id = ?", q.MerchantID)
	if q.CashierID != 0 {
		tx = tx.Where("cashier_id = ?", q.CashierID)
	}
	if q.StoreID != 0 {
		tx = tx.Where("store_id = ?", q.StoreID)
	}
	if q.State != "" {
		tx = tx.Where("state = ?", string(q.State))
	}
	if q.Method != "" {
		tx = tx.Where("method = ?", string(q.Method))
	}
	if q.Kind != "" {
		tx = tx.Where("kind = ?", string(q.Kind))
	}
	if !q.From.IsZero() {
		tx = tx.Where("created_at >= ?", q.From.UTC())
	}
	if !q.To.IsZero() {
		tx = tx.Where("created_at < ?", q.To.UTC())
	}
	if q.AfterID != 0 {
		// The first condition alone bounds the index range; the second
		// steps over the rows of the same instant already shown.
		at := q.AfterTime.UTC()
		tx = tx.Where("created_at <= ? AND (created_at < ? OR id < ?)", at, at, q.AfterID)
	}
	var rows []orderRow
	if err := tx.Order("created_at DESC, id DESC").Limit(q.Limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list orders: %w", err)
	}
	out := make([]Order, len(rows))
	for i, r := range rows {
		out[i] = r.order()
	}
	return out, nil
}
