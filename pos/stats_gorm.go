package pos

import (
	"context"
	"fmt"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/storage"
)

// GormStats keeps the rollups in the stats_hourly table.
type GormStats struct{ db *storage.DB }

// NewGormStats returns StatsStorage over db.
func NewGormStats(db *storage.DB) *GormStats { return &GormStats{db: db} }

var _ StatsStorage = (*GormStats)(nil)

// AddStats upserts "column = column + ?" into each scope's row. Inside a
// ledger batch the additions to one row are merged and written once (see
// storage.Bulk), so a busy merchant's hour row is written once per batch.
func (s *GormStats) AddStats(ctx context.Context, merchantID int64, scopes []Scope, day, hour int, f Figures) error {
	for _, sc := range scopes {
		err := s.db.Accumulate(ctx, storage.Counter{Table: "stats_hourly",
			KeyCols: []string{"merchant_id", "scope", "scope_id", "stat_day", "stat_hour"},
			Key:     []any{merchantID, string(sc.Kind), sc.ID, int64(day), int64(hour)},
			AddCols: []string{"paid_amount", "paid_count", "refunded_amount", "refund_count"},
			Add:     []int64{int64(f.Gross), f.PaidOrders, int64(f.Refunded), f.Refunds},
			Hot:     true})
		if err != nil {
			return fmt.Errorf("add to the figures of %s%d on %d: %w", sc.Kind, sc.ID, day, err)
		}
	}
	return nil
}

type statsRow struct {
	StatDay        int
	StatHour       int
	PaidAmount     int64
	PaidCount      int64
	RefundedAmount int64
	RefundCount    int64
}

func (r statsRow) row() StatsRow {
	f := Figures{Gross: paydesk.Amount(r.PaidAmount), Refunded: paydesk.Amount(r.RefundedAmount), PaidOrders: r.PaidCount, Refunds: r.RefundCount}
	f.Net = f.Gross - f.Refunded
	return StatsRow{Day: r.StatDay, Hour: r.StatHour, Figures: f}
}

func statsRows(rows []statsRow) []StatsRow {
	out := make([]StatsRow, len(rows))
	for i, r := range rows {
		out[i] = r.row()
	}
	return out
}

// HourlyStats reads one day of a scope: a primary-key range of at most 24 rows.
func (s *GormStats) HourlyStats(ctx context.Context, merchantID int64, sc Scope, day int) ([]StatsRow, error) {
	var rows []statsRow
	err := s.db.Reader(ctx).Raw("SELECT stat_day, stat_hour, paid_amount, paid_count, refunded_amount, refund_count FROM stats_hourly "+
		"WHERE merchant_id = ? AND scope = ? AND scope_id = ? AND stat_day = ?", merchantID, string(sc.Kind), sc.ID, day).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("read the figures of %s%d on %d: %w", sc.Kind, sc.ID, day, err)
	}
	return statsRows(rows), nil
}

// DailyStats sums a scope's hours per day: a primary-key range of at most
// 24 rows a day.
func (s *GormStats) DailyStats(ctx context.Context, merchantID int64, sc Scope, first, last int) ([]StatsRow, error) {
	var rows []statsRow
	err := s.db.Reader(ctx).Raw("SELECT stat_day, 0 AS stat_hour, SUM(paid_amount) AS paid_amount, SUM(paid_count) AS paid_count, "+
		"SUM(refunded_amount) AS refunded_amount, SUM(refund_count) AS refund_count FROM stats_hourly "+
		"WHERE merchant_id = ? AND scope = ? AND scope_id = ? AND stat_day >= ? AND stat_day <= ? GROUP BY stat_day ORDER BY stat_day",
		merchantID, string(sc.Kind), sc.ID, first, last).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("read the daily figures of %s%d: %w", sc.Kind, sc.ID, err)
	}
	return statsRows(rows), nil
}
