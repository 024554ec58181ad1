package merchant

import "github.com/paydesk/paydesk/rbac"

// SeesOrder is the one rule of which orders (and their payment events) a
// staff member sees, within their own merchant: an owner every order, a
// manager their store's, a cashier their own and their store's static-QR
// orders, which no cashier took (cashier id 0; SPEC §5 "a cashier: own
// orders and store QR"). The order queries (pos), the today's data and the
// real-time push filter (push.Visible) all decide by it, so a cashier is
// never pushed an order that GET /v1/orders/{id} then hides.
func SeesOrder(role rbac.Role, staffID, storeID, orderStoreID, orderCashierID int64) bool {
	switch role {
	case rbac.Owner:
		return true
	case rbac.Manager:
		return orderStoreID == storeID
	case rbac.Cashier:
		return orderCashierID == staffID || (orderCashierID == 0 && orderStoreID == storeID)
	}
	return false
}
