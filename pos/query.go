package pos

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/rbac"
)

// OrderFilter narrows a list of orders. Zero fields do not filter; filters
// only ever narrow the caller's scope, never widen it.
type OrderFilter struct {
	// From and To bound created_at: From <= created_at < To.
	From, To   time.Time
	State      State
	Method     Method
	Kind       Kind
	StoreID    int64
	CashierID  int64
	OutTradeNo string
	// Cursor is the Next of the previous page; "" for the first page.
	Cursor string
	// Limit is the page size: DefaultPageSize when 0, at most MaxPageSize.
	Limit int
}

// Page sizes of order lists.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// OrderPage is one page of a list, newest first.
type OrderPage struct {
	Orders []Order
	// Next is the cursor of the following page; "" on the last one.
	Next string
}

// OrderQuery is an order list as storage runs it, with the caller's scope
// already folded into MerchantID, StoreID and CashierID. Rows come newest
// first by (created_at, id), strictly after the keyset (AfterTime, AfterID)
// when AfterID is set.
type OrderQuery struct {
	MerchantID int64
	StoreID    int64 // 0: any store
	CashierID  int64 // 0: any cashier
	// StoreQROf, with CashierID, adds the static-QR orders of this store
	// (cashier id 0) to the cashier's: a cashier's scope.
	StoreQROf int64
	State     State
	Method    Method
	Kind      Kind
	From, To  time.Time
	AfterTime time.Time
	AfterID   int64
	Limit     int
}

// ErrInvalidCursor is a cursor this server did not hand out.
var ErrInvalidCursor = &paydesk.Error{Kind: paydesk.KindInvalid, Code: "INVALID_CURSOR", Message: "the cursor is not one this list handed out"}

// ListOrders lists the orders in the caller's scope (merchant.SeesOrder: a
// cashier's own and their store's static-QR ones, a manager's store's, an
// owner's merchant's), newest first, a page at a
// time. Pages follow (created_at, id) keysets, not offsets, so a page is
// as fast at the millionth order as at the first, and orders that arrive
// while a client pages never shift or repeat what it sees.
func (s *Service) ListOrders(ctx context.Context, c cashier.Actor, f OrderFilter) (OrderPage, error) {
	if f.OutTradeNo != "" {
		return s.orderPageByOutTradeNo(ctx, c, f.OutTradeNo)
	}
	q := OrderQuery{MerchantID: c.MerchantID, StoreID: f.StoreID, CashierID: f.CashierID, State: f.State, Method: f.Method,
		Kind: f.Kind, From: f.From.UTC(), To: f.To.UTC(), Limit: f.Limit}
	switch c.Role {
	case rbac.Owner:
	case rbac.Manager:
		if q.StoreID != 0 && q.StoreID != c.StoreID {
			return OrderPage{}, nil
		}
		q.StoreID = c.StoreID
	default:
		// A cashier's own orders, and their store's static-QR orders unless
		// the filter asks for their own only (merchant.SeesOrder).
		if q.CashierID != 0 && q.CashierID != c.StaffID {
			return OrderPage{}, nil
		}
		storeQR := q.CashierID == 0 && (q.StoreID == 0 || q.StoreID == c.StoreID) &&
			(q.Method == "" || q.Method == MethodStoreQR) && (q.Kind == "" || q.Kind == KindPOS)
		q.CashierID = c.StaffID
		if storeQR {
			q.StoreQROf = c.StoreID
		}
	}
	if q.Limit <= 0 {
		q.Limit = DefaultPageSize
	}
	q.Limit = min(q.Limit, MaxPageSize)
	if f.Cursor != "" {
		t, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return OrderPage{}, err
		}
		q.AfterTime, q.AfterID = t, id
	}
	want := q.Limit
	q.Limit++ // one more tells whether there is a next page
	orders, err := s.listOrders(ctx, q)
	if err != nil {
		return OrderPage{}, err
	}
	page := OrderPage{Orders: orders}
	if len(orders) > want {
		page.Orders = orders[:want]
		last := page.Orders[want-1]
		page.Next = encodeCursor(last.CreatedAt, last.ID)
	}
	return page, nil
}

// OrderByOutTradeNo returns the order the caller's merchant made under
// outTradeNo, if it is in the caller's scope.
func (s *Service) OrderByOutTradeNo(ctx context.Context, c cashier.Actor, outTradeNo string) (Order, error) {
	o, err := s.store.OrderByOutTradeNo(ctx, c.MerchantID, outTradeNo)
	if err != nil {
		return Order{}, err
	}
	if !visibleTo(c, o) {
		return Order{}, ErrOrderNotFound
	}
	return o, nil
}

func (s *Service) orderPageByOutTradeNo(ctx context.Context, c cashier.Actor, no string) (OrderPage, error) {
	o, err := s.OrderByOutTradeNo(ctx, c, no)
	if paydeskIs(err, ErrOrderNotFound) {
		return OrderPage{}, nil
	}
	if err != nil {
		return OrderPage{}, err
	}
	return OrderPage{Orders: []Order{o}}, nil
}

// cursorVersion starts every cursor, so the format can change without old
// cursors being misread.
const cursorVersion = "o1"

// encodeCursor makes the opaque cursor of the keyset (t, id). The time is
// kept to the nanosecond so that the keyset matches what the database
// holds exactly (microseconds on MySQL, nanoseconds on SQLite).
func encodeCursor(t time.Time, id int64) string {
	raw := cursorVersion + "." + strconv.FormatInt(t.UnixNano(), 36) + "." + strconv.FormatInt(id, 36)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodeCursor(c string) (time.Time, int64, error) {
	if len(c) > 64 {
		return time.Time{}, 0, ErrInvalidCursor
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, 0, ErrInvalidCursor
	}
	parts := strings.Split(string(raw), ".")
	if len(parts) != 3 || parts[0] != cursorVersion {
		return time.Time{}, 0, ErrInvalidCursor
	}
	ns, err1 := strconv.ParseInt(parts[1], 36, 64)
	id, err2 := strconv.ParseInt(parts[2], 36, 64)
	if err1 != nil || err2 != nil || ns <= 0 || id <= 0 {
		return time.Time{}, 0, ErrInvalidCursor
	}
	return time.Unix(0, ns).UTC(), id, nil
}

// listOrders runs q. A cashier's scope is two index walks, their own orders
// and their store's static-QR orders, merged newest first: each walk is
// bounded by the same keyset and limit, so the merge is exact.
func (s *Service) listOrders(ctx context.Context, q OrderQuery) ([]Order, error) {
	if q.StoreQROf == 0 {
		return s.store.ListOrders(ctx, q)
	}
	own := q
	own.StoreQROf = 0
	a, err := s.store.ListOrders(ctx, own)
	if err != nil {
		return nil, err
	}
	qr := q
	qr.StoreQROf, qr.CashierID, qr.StoreID, qr.Method = 0, 0, q.StoreQROf, MethodStoreQR
	b, err := s.store.ListOrders(ctx, qr)
	if err != nil {
		return nil, err
	}
	out := make([]Order, 0, min(len(a)+len(b), q.Limit))
	for len(out) < q.Limit && (len(a) > 0 || len(b) > 0) {
		if len(b) == 0 || len(a) > 0 && newer(a[0], b[0]) {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return out, nil
}

// newer reports whether x comes before y in a list: by (created_at, id), descending.
func newer(x, y Order) bool {
	if !x.CreatedAt.Equal(y.CreatedAt) {
		return x.CreatedAt.After(y.CreatedAt)
	}
	return x.ID > y.ID
}
