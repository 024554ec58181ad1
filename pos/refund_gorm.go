package pos

import (
	"context"
	"fmt"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/storage"
)

type refundRow struct {
	ID            int64
	MerchantID    int64
	StoreID       int64
	CashierID     int64
	OrderID       int64
	RefundNo      string
	Kind          string
	Amount        int64
	Currency      string
	Reason        string
	ToCard        int64
	ToCash        int64
	ToCoupon      int64
	ToVoucher     int64
	FeeReturned   int64
	FromPending   int64
	FromAvailable int64
	FromMarketing int64
	CardState     string
	RefundedBy    int64
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

func (refundRow) TableName() string { return "refunds" }

func (r refundRow) refund() Refund {
	return Refund{ID: r.ID, MerchantID: r.MerchantID, StoreID: r.StoreID, CashierID: r.CashierID, OrderID: r.OrderID, RefundNo: r.RefundNo,
		Kind: RefundKind(r.Kind), Amount: paydesk.Amount(r.Amount), Currency: paydesk.Currency(r.Currency), Reason: r.Reason,
		ToCard: paydesk.Amount(r.ToCard), ToCash: paydesk.Amount(r.ToCash), ToCoupon: paydesk.Amount(r.ToCoupon), ToVoucher: paydesk.Amount(r.ToVoucher),
		FeeReturned: paydesk.Amount(r.FeeReturned), FromPending: paydesk.Amount(r.FromPending), FromAvailable: paydesk.Amount(r.FromAvailable),
		FromMarketing: paydesk.Amount(r.FromMarketing), CardState: CardState(r.CardState), RefundedBy: r.RefundedBy, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func refunds(rows []refundRow) []Refund {
	out := make([]Refund, len(rows))
	for i, r := range rows {
		out[i] = r.refund()
	}
	return out
}

// LockOrder reads an order FOR UPDATE on MySQL; on SQLite the transaction
// already holds the database's only write lock.
func (s *GormStorage) LockOrder(ctx context.Context, merchantID, id int64) (Order, error) {
	r, found, err := storage.QueryOne(ctx, s.db, scanOrder, selectOrders+" WHERE id = ? AND merchant_id = ?"+s.db.ForUpdate(), id, merchantID)
	if err != nil {
		return Order{}, fmt.Errorf("lock order %d: %w", id, err)
	}
	if !found {
		return Order{}, ErrOrderNotFound
	}
	return r.order(), nil
}

// RefundByNo finds an order's refund by its number.
func (s *GormStorage) RefundByNo(ctx context.Context, orderID int64, no string) (Refund, bool, error) {
	var rows []refundRow
	if err := s.db.Reader(ctx).Where("order_id = ? AND refund_no = ?", orderID, no).Limit(1).Find(&rows).Error; err != nil {
		return Refund{}, false, fmt.Errorf("read refund %s of order %d: %w", no, orderID, err)
	}
	if len(rows) == 0 {
		return Refund{}, false, nil
	}
	return rows[0].refund(), true, nil
}

// CreateRefund inserts a refund.
func (s *GormStorage) CreateRefund(ctx context.Context, r *Refund) error {
	row := refundRow{MerchantID: r.MerchantID, StoreID: r.StoreID, CashierID: r.CashierID, OrderID: r.OrderID, RefundNo: r.RefundNo,
		Kind: string(r.Kind), Amount: int64(r.Amount), Currency: string(r.Currency), Reason: r.Reason, ToCard: int64(r.ToCard),
		ToCash: int64(r.ToCash), ToCoupon: int64(r.ToCoupon), ToVoucher: int64(r.ToVoucher), FeeReturned: int64(r.FeeReturned),
		FromPending: int64(r.FromPending), FromAvailable: int64(r.FromAvailable), FromMarketing: int64(r.FromMarketing),
		CardState: string(r.CardState), RefundedBy: r.RefundedBy, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if err := s.db.Writer(ctx).Create(&row).Error; err != nil {
		if storage.IsDuplicate(err) {
			return paydesk.ErrIdempotencyConflict.WithMessage("refund_no %s of order %d exists", r.RefundNo, r.OrderID)
		}
		return fmt.Errorf("create refund: %w", err)
	}
	r.ID = row.ID
	return nil
}

// AddRefunded is the guard of SPEC §4's "never more than was paid": the
// WHERE clause checks, on the row itself, that the total is what the
// refund was planned on and stays within the amount.
func (s *GormStorage) AddRefunded(ctx context.Context, next Order, amount paydesk.Amount) (bool, error) {
	res := s.db.Writer(ctx).Exec("UPDATE orders SET refunded = refunded + ?, state = ?, updated_at = ? "+
		"WHERE id = ? AND state IN (?, ?) AND refunded = ? AND refunded + ? <= amount",
		int64(amount), string(next.State), next.UpdatedAt.UTC(), next.ID, string(Paid), string(PartiallyRefunded),
		int64(next.Refunded-amount), int64(amount))
	if res.Error != nil {
		return false, fmt.Errorf("add refund to order %d: %w", next.ID, res.Error)
	}
	return res.RowsAffected == 1, nil
}

// RefundsOfOrder lists an order's refunds, oldest first.
func (s *GormStorage) RefundsOfOrder(ctx context.Context, orderID int64) ([]Refund, error) {
	var rows []refundRow
	if err := s.db.Reader(ctx).Where("order_id = ?", orderID).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list refunds of order %d: %w", orderID, err)
	}
	return refunds(rows), nil
}

// SetCardState records the outcome of a refund's card share.
func (s *GormStorage) SetCardState(ctx context.Context, refundID int64, state CardState, at time.Time) error {
	err := s.db.Writer(ctx).Exec("UPDATE refunds SET card_state = ?, updated_at = ? WHERE id = ? AND card_state = ?",
		string(state), at.UTC(), refundID, string(CardPending)).Error
	if err != nil {
		return fmt.Errorf("set card state of refund %d: %w", refundID, err)
	}
	return nil
}

// PendingCardRefunds lists refunds still waiting for the bank, oldest first.
func (s *GormStorage) PendingCardRefunds(ctx context.Context, limit int) ([]Refund, error) {
	var rows []refundRow
	if err := s.db.Reader(ctx).Where("card_state = ?", string(CardPending)).Order("id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list pending card refunds: %w", err)
	}
	return refunds(rows), nil
}
