package pos

import (
	"context"

	"github.com/paydesk/paydesk/merchant"
)

// visibleTo reports whether an order is in the caller's scope: a cashier
// sees their own orders, a manager their store's, an owner the merchant's.
func visibleTo(c Cashier, o Order) bool {
	if o.MerchantID != c.MerchantID {
		return false
	}
	switch c.Role {
	case merchant.Owner:
		return true
	case merchant.Manager:
		return o.StoreID == c.StoreID
	}
	return o.CashierID == c.StaffID
}

// OrderFor returns one of the orders in the caller's scope. An order
// outside it is ORDER_NOT_FOUND, exactly like one that does not exist, so
// ids reveal nothing across merchants, stores or cashiers.
func (s *Service) OrderFor(ctx context.Context, c Cashier, id int64) (Order, error) {
	o, err := s.store.Order(ctx, c.MerchantID, id)
	if err != nil {
		return Order{}, err
	}
	if !visibleTo(c, o) {
		return Order{}, ErrOrderNotFound
	}
	return o, nil
}
