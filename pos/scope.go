package pos

import (
	"context"

	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/merchant"
)

// visibleTo reports whether an order is in the caller's scope, by the one
// rule of merchant.SeesOrder: a cashier sees their own orders and their
// store's static-QR ones, a manager their store's, an owner the merchant's.
func visibleTo(c cashier.Actor, o Order) bool {
	return o.MerchantID == c.MerchantID && merchant.SeesOrder(c.Role, c.StaffID, c.StoreID, o.StoreID, o.CashierID)
}

// OrderFor returns one of the orders in the caller's scope. An order
// outside it is ORDER_NOT_FOUND, exactly like one that does not exist, so
// ids reveal nothing across merchants, stores or cashiers.
func (s *Service) OrderFor(ctx context.Context, c cashier.Actor, id int64) (Order, error) {
	o, err := s.store.Order(ctx, c.MerchantID, id)
	if err != nil {
		return Order{}, err
	}
	if !visibleTo(c, o) {
		return Order{}, ErrOrderNotFound
	}
	return o, nil
}
