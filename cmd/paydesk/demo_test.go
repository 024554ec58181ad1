package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/paydesk/paydesk/storage/storagetest"
)

// runDemo runs `paydesk demo` on dsn and decodes what it prints.
func runDemo(t *testing.T, dsn string) (demoOutput, string) {
	t.Helper()
	status, out, errOut := runCLI(t, nil, "demo", "--db", dsn)
	if status != 0 {
		t.Fatalf("demo: status %d: %s", status, errOut)
	}
	var d demoOutput
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("demo output is not JSON: %v\n%s", err, out)
	}
	return d, out
}

func (d demoOutput) login(role string) demoLogin {
	for _, s := range d.Staff {
		if s.Role == role {
			return s
		}
	}
	return demoLogin{}
}

// The demo's third wallet pays one order with every funding source at
// once, in the draw order (voucher, coupon, cash, card), and refunds send
// the money back in reverse order: card first, then cash, coupon, voucher.
func TestDemoWalletsPayWithEverySource(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			dsn := storagetest.DSN(t, d)
			demo, _ := runDemo(t, dsn)
			if len(demo.Customers) != 3 {
				t.Fatalf("demo customers = %+v, want 3", demo.Customers)
			}
			m := NewMain(testConfig(dsn), &syncBuffer{})
			base := startMain(t, m)
			staff := func(role string) string {
				l := demo.login(role)
				status, out := call(t, "POST", base+"/v1/auth/login", "", map[string]string{"phone": l.Phone, "password": l.Password})
				if status != http.StatusOK {
					t.Fatalf("%s login: %d %v", role, status, out)
				}
				return out["access_token"].(string)
			}
			customer := func(c customerInfo) string {
				status, out := call(t, "POST", base+"/v1/wallet/login", "", map[string]string{"phone": c.Phone, "password": c.Password})
				if status != http.StatusOK {
					t.Fatalf("customer %s login: %d %v", c.Phone, status, out)
				}
				return out["access_token"].(string)
			}
			cashier, owner := staff("cashier"), staff("owner")

			// What each wallet holds is what the demo printed.
			for _, c := range demo.Customers {
				_, w := call(t, "GET", base+"/v1/wallet", customer(c), nil)
				vouchers, _ := w["vouchers"].([]any)
				if w["cash"] != float64(c.Funds.Cash) || (w["card"] != nil) != (c.Funds.Card != nil) || (len(vouchers) == 1) != (c.Funds.Voucher != nil) ||
					(c.Funds.Coupon != nil && w["coupons"] != float64(*c.Funds.Coupon)) {
					t.Errorf("wallet %s = %v, demo says %+v", c.Phone, w, c.Funds)
				}
			}

			rich := demo.Customers[2]
			token := customer(rich)
			_, code := call(t, "GET", base+"/v1/wallet/payment-code", token, nil)
			amount := int64(*rich.Funds.Voucher+*rich.Funds.Coupon+rich.Funds.Cash) + 2500 // 25.00 from the card
			status, paid := call(t, "POST", base+"/v1/payments/scan", cashier, map[string]any{"out_trade_no": "every-source", "amount": amount, "payment_code": code["code"]})
			if status != http.StatusCreated || paid["state"] != "PAID" {
				t.Fatalf("scan: %d %v", status, paid)
			}
			wantFunds(t, "funding", paid["funding"], map[string]int64{"voucher": int64(*rich.Funds.Voucher), "coupon": int64(*rich.Funds.Coupon), "cash": int64(rich.Funds.Cash), "card": 2500})
			orderID := int64(paid["id"].(float64))

			// Refunds of 30.00, then 50.00, then the rest: card (25.00) and
			// 5.00 of cash; the other 45.00 of cash and 5.00 of coupon; the
			// last 15.00 of coupon and the 10.00 voucher.
			for i, step := range []struct {
				amount int64
				to     map[string]int64
			}{
				{3000, map[string]int64{"card": 2500, "cash": 500, "coupon": 0, "voucher": 0}},
				{5000, map[string]int64{"card": 0, "cash": 4500, "coupon": 500, "voucher": 0}},
				{amount - 8000, map[string]int64{"card": 0, "cash": 0, "coupon": 1500, "voucher": 1000}},
			} {
				status, r := call(t, "POST", fmt.Sprintf("%s/v1/orders/%d/refunds", base, orderID), owner,
					map[string]any{"refund_no": fmt.Sprintf("r-%d", i), "amount": step.amount})
				if status != http.StatusCreated && status != http.StatusOK {
					t.Fatalf("refund %d: %d %v", i, status, r)
				}
				wantFunds(t, fmt.Sprintf("refund %d", i), r["to"], step.to)
			}
			_, w := call(t, "GET", base+"/v1/wallet", token, nil)
			if vouchers, _ := w["vouchers"].([]any); w["cash"] != float64(rich.Funds.Cash) || w["coupons"] != float64(*rich.Funds.Coupon) || len(vouchers) != 1 {
				t.Errorf("after the full refund the wallet = %v, want its demo funds back", w)
			}
			report, err := m.App.Ledger.Check(context.Background())
			if err != nil || !report.OK() {
				t.Fatalf("ledger: %+v %v", report, err)
			}
		})
	}
}

func wantFunds(t *testing.T, what string, got any, want map[string]int64) {
	t.Helper()
	g, _ := got.(map[string]any)
	for k, v := range want {
		if g[k] != float64(v) {
			t.Errorf("%s = %v, want %v", what, got, want)
			return
		}
	}
}
