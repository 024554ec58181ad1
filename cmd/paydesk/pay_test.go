package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/paydesk/paydesk/merchant"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// call sends a JSON request and decodes a JSON object answer.
func call(t *testing.T, method, url, token string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestServeTakesPayments runs the server as `paydesk serve` does, with the
// wallet and the POS wired: a customer registers, binds a card and tops up,
// a cashier scans the payment code and shows a collection QR on the
// configured public URL, and the books balance.
func TestServeTakesPayments(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			cfg := testConfig(storagetest.DSN(t, d))
			cfg.PublicURL = "https://pay.example.com"
			m := NewMain(cfg, &syncBuffer{})
			base := startMain(t, m)
			ctx := context.Background()
			opened, err := m.App.Merchants.CreateMerchant(ctx, merchant.NewMerchant{Name: "Tea", OwnerName: "Li", OwnerPhone: "13800000001", OwnerPassword: "owner-pass-1"})
			if err != nil {
				t.Fatal(err)
			}
			status, login := call(t, "POST", base+"/v1/auth/login", "", map[string]string{"phone": "13800000001", "password": "owner-pass-1"})
			if status != http.StatusOK {
				t.Fatalf("owner login: %d %v", status, login)
			}
			owner := login["access_token"].(string)

			// Dev mode answers the SMS code it did not send.
			status, sent := call(t, "POST", base+"/v1/wallet/register/code", "", map[string]string{"phone": "13700000001"})
			if status != http.StatusAccepted || sent["dev_code"] == nil {
				t.Fatalf("register code: %d %v", status, sent)
			}
			status, reg := call(t, "POST", base+"/v1/wallet/register", "", map[string]string{"phone": "13700000001", "password": "wallet-pass-1", "code": sent["dev_code"].(string)})
			if status != http.StatusCreated {
				t.Fatalf("register: %d %v", status, reg)
			}
			customer := reg["access_token"].(string)
			for _, step := range []struct {
				path string
				body any
				want int
			}{
				{"/v1/wallet/cards", map[string]any{"number": "4242424242424242", "holder": "C", "expiry_month": 12, "expiry_year": 2099}, http.StatusCreated},
				{"/v1/wallet/topups", map[string]any{"amount": 10000, "request_no": "first"}, http.StatusOK},
			} {
				if status, out := call(t, "POST", base+step.path, customer, step.body); status != step.want {
					t.Fatalf("%s: %d %v", step.path, status, out)
				}
			}
			_, code := call(t, "GET", base+"/v1/wallet/payment-code", customer, nil)
			status, paid := call(t, "POST", base+"/v1/payments/scan", owner, map[string]any{"out_trade_no": "o-1", "amount": 2500, "payment_code": code["code"]})
			if status != http.StatusCreated || paid["state"] != "PAID" || paid["fee"] != float64(10) {
				t.Fatalf("scan: %d %v", status, paid)
			}
			status, qr := call(t, "POST", base+"/v1/payments/qr", owner, map[string]any{"out_trade_no": "o-2", "amount": 100})
			if payload, _ := qr["qr_payload"].(string); status != http.StatusCreated || !strings.HasPrefix(payload, "https://pay.example.com/p/o/") {
				t.Fatalf("qr: %d %v", status, qr)
			}
			status, w := call(t, "GET", base+"/v1/wallet", customer, nil)
			if status != http.StatusOK || w["cash"] != float64(7500) {
				t.Fatalf("wallet: %d %v", status, w)
			}
			pending, err := m.App.Ledger.Balance(ctx, opened.Merchant.Accounts.Pending)
			if err != nil || pending != 2490 {
				t.Fatalf("merchant pending %d, %v; want 2500 less the fee of 10", pending, err)
			}
			report, err := m.App.Ledger.Check(ctx)
			if err != nil || !report.OK() {
				t.Fatalf("ledger: %+v %v", report, err)
			}
		})
	}
}
