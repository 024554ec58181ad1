package pos

import "github.com/paydesk/paydesk/merchant"

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
