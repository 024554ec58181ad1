package push_test

import (
	"testing"

	"github.com/paydesk/paydesk/push"
	"github.com/paydesk/paydesk/rbac"
)

func TestVisible(t *testing.T) {
	const m, store, other = 1, 10, 20
	owner := push.Audience{MerchantID: m, StaffID: 1, Role: rbac.Owner}
	manager := push.Audience{MerchantID: m, StoreID: store, StaffID: 2, Role: rbac.Manager}
	otherManager := push.Audience{MerchantID: m, StoreID: other, StaffID: 3, Role: rbac.Manager}
	cashier := push.Audience{MerchantID: m, StoreID: store, StaffID: 4, Role: rbac.Cashier}
	colleague := push.Audience{MerchantID: m, StoreID: store, StaffID: 5, Role: rbac.Cashier}
	rival := push.Audience{MerchantID: 2, StaffID: 6, Role: rbac.Owner}
	payer := push.Audience{WalletID: 77}
	stranger := push.Audience{WalletID: 78}

	own := push.Event{MerchantID: m, Type: push.PaymentPaid, StoreID: store, CashierID: 4, WalletID: 77}
	storeQR := push.Event{MerchantID: m, Type: push.PaymentPaid, StoreID: store, WalletID: 77}
	otherStore := push.Event{MerchantID: m, Type: push.RefundSucceeded, StoreID: other, CashierID: 9}
	settlement := push.Event{MerchantID: m, Type: push.SettlementUpdated}
	withdrawal := push.Event{MerchantID: m, Type: push.WithdrawalUpdated}
	disabled := push.Event{MerchantID: m, Type: push.StaffDisabled, StoreID: store, CashierID: 5}
	ownerDisabled := push.Event{MerchantID: m, Type: push.StaffDisabled, CashierID: 8}

	for _, c := range []struct {
		name string
		e    push.Event
		sees []push.Audience
	}{
		{"own order", own, []push.Audience{owner, manager, cashier, payer}},
		{"store QR", storeQR, []push.Audience{owner, manager, cashier, colleague, payer}},
		{"other store", otherStore, []push.Audience{owner, otherManager}},
		{"settlement", settlement, []push.Audience{owner, manager, otherManager}},
		{"withdrawal", withdrawal, []push.Audience{owner}},
		{"cashier disabled", disabled, []push.Audience{owner, manager}},
		{"owner disabled", ownerDisabled, []push.Audience{owner}},
		{"session ended", push.Event{MerchantID: m, Type: push.SessionEnded, CashierID: 4}, nil},
		{"merchant updated", push.Event{MerchantID: m, Type: push.MerchantUpdated}, nil},
	} {
		for _, a := range []push.Audience{owner, manager, otherManager, cashier, colleague, rival, payer, stranger} {
			want := false
			for _, s := range c.sees {
				want = want || s == a
			}
			if got := push.Visible(a, &c.e); got != want {
				t.Errorf("%s: Visible(%+v) = %v, want %v", c.name, a, got, want)
			}
		}
	}
}
