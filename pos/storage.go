package pos

import (
	"context"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/wallet"
)

// Storage is what the POS needs from the database.
type Storage interface {
	paydesk.TxRunner
	RefundStorage
	// NewOrderID reserves the id of an order before it is written, so the
	// order can be written together with its payment; call it outside
	// transactions.
	NewOrderID(ctx context.Context) (int64, error)
	// CreateOrder inserts o, whose ID is set; a taken (merchant,
	// out_trade_no) is ErrDuplicateOrder. Inside a ledger batch the insert
	// may be gathered with others and fail only when the batch writes.
	CreateOrder(ctx context.Context, o *Order) error
	Order(ctx context.Context, merchantID, id int64) (Order, error)
	OrderByOutTradeNo(ctx context.Context, merchantID int64, outTradeNo string) (Order, error)
	OrderByPayToken(ctx context.Context, token string) (Order, error)
	// OrderForWallet reads an order the wallet is paying or has paid.
	OrderForWallet(ctx context.Context, w wallet.WalletID, id int64) (Order, error)
	// UpdateOrder writes o's state and payment fields if the stored state is
	// still from; it reports whether it did, so that of two racing changes
	// exactly one wins. Inside a ledger batch the update may be gathered
	// with others: it then reports true, and an order no longer in from
	// fails the batch when it writes.
	UpdateOrder(ctx context.Context, o Order, from ...State) (bool, error)
	// ExpiredOrders lists open orders whose time ran out before now.
	ExpiredOrders(ctx context.Context, now time.Time, limit int) ([]Order, error)
}

// ErrDuplicateOrder is what Storage.CreateOrder returns for a taken out_trade_no.
var ErrDuplicateOrder = &paydesk.Error{Kind: paydesk.KindConflict, Code: "DUPLICATE_OUT_TRADE_NO", Message: "an order with this out_trade_no exists"}
