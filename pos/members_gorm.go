package pos

import (
	"context"
	"fmt"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/wallet"
)

// GormMembers keeps members in the members table.
type GormMembers struct{ db *storage.DB }

// NewGormMembers returns MemberStorage over db.
func NewGormMembers(db *storage.DB) *GormMembers { return &GormMembers{db: db} }

var _ MemberStorage = (*GormMembers)(nil)

// AddVisit upserts each scope's member row: visits and total spent grow by
// what is given, the last visit only ever moves forward.
func (s *GormMembers) AddVisit(ctx context.Context, merchantID int64, scopes []Scope, w wallet.WalletID, visits int64, spent paydesk.Amount, at time.Time) error {
	for _, sc := range scopes {
		err := s.db.Accumulate(ctx, storage.Counter{Table: "members",
			KeyCols: []string{"merchant_id", "scope", "scope_id", "wallet_id"},
			Key:     []any{merchantID, string(sc.Kind), sc.ID, int64(w)},
			AddCols: []string{"visits", "total_spent"},
			Add:     []int64{visits, int64(spent)},
			MaxCols: []string{"last_visit_at"},
			Max:     []any{at.UTC()}})
		if err != nil {
			return fmt.Errorf("count a visit of wallet %d: %w", w, err)
		}
	}
	return nil
}

type memberRow struct {
	WalletID    int64
	Visits      int64
	TotalSpent  int64
	LastVisitAt time.Time
}

// ListMembers walks the index of the sort order, (scope, total_spent,
// wallet_id) or (scope, last_visit_at, wallet_id), backwards from the keyset.
func (s *GormMembers) ListMembers(ctx context.Context, merchantID int64, sc Scope, sort MemberSort, after *MemberKeyset, limit int) ([]Member, error) {
	col := "total_spent"
	if sort == SortByRecent {
		col = "last_visit_at"
	}
	tx := s.db.Reader(ctx).Table("members").Select("wallet_id, visits, total_spent, last_visit_at").
		Where("merchant_id = ? AND scope = ? AND scope_id = ?", merchantID, string(sc.Kind), sc.ID)
	if after != nil {
		var v any = after.Value
		if sort == SortByRecent {
			v = time.Unix(0, after.Value).UTC()
		}
		tx = tx.Where(col+" <= ? AND ("+col+" < ? OR wallet_id < ?)", v, v, after.WalletID)
	}
	var rows []memberRow
	if err := tx.Order(col + " DESC, wallet_id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	out := make([]Member, len(rows))
	for i, r := range rows {
		out[i] = Member{WalletID: wallet.WalletID(r.WalletID), Visits: r.Visits, TotalSpent: paydesk.Amount(r.TotalSpent), LastVisitAt: r.LastVisitAt}
	}
	return out, nil
}
