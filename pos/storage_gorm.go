package pos

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/wallet"
)

// GormStorage keeps orders in the application database.
type GormStorage struct {
	db  *storage.DB
	ids *storage.IDs
}

// NewGormStorage returns Storage over db.
func NewGormStorage(db *storage.DB) *GormStorage {
	return &GormStorage{db: db, ids: storage.NewIDs(db)}
}

// NewOrderID reserves an order id.
func (s *GormStorage) NewOrderID(ctx context.Context) (int64, error) {
	return s.ids.Next(ctx, "orders")
}

var _ Storage = (*GormStorage)(nil)

// InTx runs fn in a transaction.
func (s *GormStorage) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return s.db.InTx(ctx, fn)
}

type orderRow struct {
	ID             int64
	MerchantID     int64
	StoreID        int64
	CashierID      int64
	OutTradeNo     string
	Kind           string
	Method         string
	Subject        string
	Amount         int64
	Currency       string
	State          string
	WalletID       int64
	FundingVoucher int64
	FundingCoupon  int64
	FundingCash    int64
	FundingCard    int64
	FundingDetail  string
	Fee            int64
	Refunded       int64
	CloseReason    string
	RequestDigest  string
	PayToken       *string
	ExpiresAt      time.Time
	PaidAt         *time.Time
	ClosedAt       *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

func (orderRow) TableName() string { return "orders" }

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func fromOpt(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

func toRow(o Order) (orderRow, error) {
	detail, err := json.Marshal(o.Funding)
	if err != nil {
		return orderRow{}, err
	}
	r := orderRow{ID: o.ID, MerchantID: o.MerchantID, StoreID: o.StoreID, CashierID: o.CashierID, OutTradeNo: o.OutTradeNo,
		Kind: string(o.Kind), Method: string(o.Method), Subject: o.Subject, Amount: int64(o.Amount), Currency: string(o.Currency),
		State: string(o.State), WalletID: int64(o.WalletID), FundingVoucher: int64(o.Funding.Voucher), FundingCoupon: int64(o.Funding.Coupon),
		FundingCash: int64(o.Funding.Cash), FundingCard: int64(o.Funding.Card), FundingDetail: string(detail), Fee: int64(o.Fee),
		Refunded: int64(o.Refunded), CloseReason: o.CloseReason, RequestDigest: o.RequestDigest, ExpiresAt: o.ExpiresAt,
		PaidAt: optTime(o.PaidAt), ClosedAt: optTime(o.ClosedAt), CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt}
	if o.PayToken != "" {
		r.PayToken = &o.PayToken
	}
	return r, nil
}

func (r orderRow) order() Order {
	o := Order{ID: r.ID, MerchantID: r.MerchantID, StoreID: r.StoreID, CashierID: r.CashierID, OutTradeNo: r.OutTradeNo,
		Kind: Kind(r.Kind), Method: Method(r.Method), Subject: r.Subject, Amount: paydesk.Amount(r.Amount), Currency: paydesk.Currency(r.Currency),
		State: State(r.State), WalletID: wallet.WalletID(r.WalletID), Fee: paydesk.Amount(r.Fee), Refunded: paydesk.Amount(r.Refunded),
		CloseReason: r.CloseReason, RequestDigest: r.RequestDigest, ExpiresAt: r.ExpiresAt, PaidAt: fromOpt(r.PaidAt),
		ClosedAt: fromOpt(r.ClosedAt), CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if r.PayToken != nil {
		o.PayToken = *r.PayToken
	}
	// The detail holds the whole breakdown; the columns are for queries.
	if json.Unmarshal([]byte(r.FundingDetail), &o.Funding) != nil {
		o.Funding = wallet.Funding{}
	}
	o.Funding.Voucher, o.Funding.Coupon = paydesk.Amount(r.FundingVoucher), paydesk.Amount(r.FundingCoupon)
	o.Funding.Cash, o.Funding.Card = paydesk.Amount(r.FundingCash), paydesk.Amount(r.FundingCard)
	return o
}

// orderColumns are the columns CreateOrder writes and scanOrder reads, in
// orderRow's order.
var orderColumns = []string{"id", "merchant_id", "store_id", "cashier_id", "out_trade_no", "kind", "method", "subject", "amount",
	"currency", "state", "wallet_id", "funding_voucher", "funding_coupon", "funding_cash", "funding_card", "funding_detail", "fee",
	"refunded", "close_reason", "request_digest", "pay_token", "expires_at", "paid_at", "closed_at", "created_at", "updated_at"}

// selectOrders starts a SELECT of orderColumns.
var selectOrders = "SELECT " + strings.Join(orderColumns, ", ") + " FROM orders"

func scanOrder(sc storage.Scanner, r *orderRow) error {
	return sc.Scan(&r.ID, &r.MerchantID, &r.StoreID, &r.CashierID, &r.OutTradeNo, &r.Kind, &r.Method, &r.Subject, &r.Amount,
		&r.Currency, &r.State, &r.WalletID, &r.FundingVoucher, &r.FundingCoupon, &r.FundingCash, &r.FundingCard, &r.FundingDetail, &r.Fee,
		&r.Refunded, &r.CloseReason, &r.RequestDigest, &r.PayToken, &r.ExpiresAt, &r.PaidAt, &r.ClosedAt, &r.CreatedAt, &r.UpdatedAt)
}

// CreateOrder inserts o, reserving its id first if it has none.
func (s *GormStorage) CreateOrder(ctx context.Context, o *Order) error {
	if o.ID == 0 {
		id, err := s.NewOrderID(ctx)
		if err != nil {
			return err
		}
		o.ID = id
	}
	r, err := toRow(*o)
	if err != nil {
		return err
	}
	err = s.db.Insert(ctx, "orders", orderColumns, r.ID, r.MerchantID, r.StoreID, r.CashierID, r.OutTradeNo, r.Kind, r.Method,
		r.Subject, r.Amount, r.Currency, r.State, r.WalletID, r.FundingVoucher, r.FundingCoupon, r.FundingCash, r.FundingCard,
		r.FundingDetail, r.Fee, r.Refunded, r.CloseReason, r.RequestDigest, r.PayToken, r.ExpiresAt, r.PaidAt, r.ClosedAt,
		r.CreatedAt, r.UpdatedAt)
	if storage.IsDuplicate(err) {
		return ErrDuplicateOrder
	}
	if err != nil {
		return fmt.Errorf("create order: %w", err)
	}
	return nil
}

// one reads the order matching where. Every payment looks for an earlier
// order with its out_trade_no, so this goes around gorm (see
// storage.QueryOne).
func (s *GormStorage) one(ctx context.Context, where string, args ...any) (Order, error) {
	r, found, err := storage.QueryOne(ctx, s.db, scanOrder, selectOrders+" WHERE "+where+" LIMIT 1", args...)
	if err != nil {
		return Order{}, fmt.Errorf("read order: %w", err)
	}
	if !found {
		return Order{}, ErrOrderNotFound
	}
	return r.order(), nil
}

// Order reads one of a merchant's orders.
func (s *GormStorage) Order(ctx context.Context, merchantID, id int64) (Order, error) {
	return s.one(ctx, "id = ? AND merchant_id = ?", id, merchantID)
}

// OrderByOutTradeNo reads a merchant's order by its out_trade_no.
func (s *GormStorage) OrderByOutTradeNo(ctx context.Context, merchantID int64, outTradeNo string) (Order, error) {
	return s.one(ctx, "merchant_id = ? AND out_trade_no = ?", merchantID, outTradeNo)
}

// OrderByPayToken reads the order behind a QR payload or link.
func (s *GormStorage) OrderByPayToken(ctx context.Context, token string) (Order, error) {
	return s.one(ctx, "pay_token = ?", token)
}

// OrderForWallet reads an order of the wallet's.
func (s *GormStorage) OrderForWallet(ctx context.Context, w wallet.WalletID, id int64) (Order, error) {
	return s.one(ctx, "id = ? AND wallet_id = ?", id, int64(w))
}

// ExpiredOrders lists open orders whose time ran out.
func (s *GormStorage) ExpiredOrders(ctx context.Context, now time.Time, limit int) ([]Order, error) {
	var rows []orderRow
	err := s.db.Reader(ctx).Where("state IN ? AND expires_at < ?", []string{string(Created), string(Paying)}, now).
		Order("expires_at").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list expired orders: %w", err)
	}
	out := make([]Order, len(rows))
	for i, r := range rows {
		out[i] = r.order()
	}
	return out, nil
}
