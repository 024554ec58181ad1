package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/paydesk/paydesk/storage/storagetest"
)

func TestDemoRunsOnceAndPrintsLogins(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			db := storagetest.DSN(t, d)
			status, first, errOut := runCLI(t, nil, "demo", "--db", db)
			if status != 0 {
				t.Fatalf("demo: status %d: %s", status, errOut)
			}
			var out demoOutput
			if err := json.Unmarshal([]byte(first), &out); err != nil {
				t.Fatalf("demo output is not JSON: %v\n%s", err, first)
			}
			roles := map[string]int{}
			for _, s := range out.Staff {
				roles[s.Role]++
				if s.Password == "" || s.Phone == "" || (s.Role != "owner" && s.StoreID == 0) {
					t.Errorf("incomplete login %+v", s)
				}
			}
			if out.MerchantID == 0 || len(out.Stores) != 2 || roles["owner"] != 1 || roles["manager"] != 2 || roles["cashier"] < 2 {
				t.Fatalf("demo = %+v", out)
			}
			if len(out.Customers) != 3 || out.Customers[0].Funds.Card != nil || out.Customers[1].Funds.Card == nil ||
				out.Customers[2].Funds.Voucher == nil || out.Customers[2].Funds.Coupon == nil {
				t.Fatalf("demo customers = %+v: want cash only; cash and card; cash, card, voucher and coupon", out.Customers)
			}
			status, second, errOut := runCLI(t, nil, "demo", "--db", db)
			if status != 0 || second != first {
				t.Fatalf("second demo run: status %d, output changed:\n%s\n---\n%s\n%s", status, first, second, errOut)
			}
		})
	}
}

func TestMerchantCreateCommand(t *testing.T) {
	db := storagetest.DSN(t, "sqlite")
	status, _, errOut := runCLI(t, nil, "merchant", "create", "--db", db, "--name", "Pho 24", "--owner-phone", "0912345678")
	if status != 2 || !strings.Contains(errOut, "PAYDESK_OWNER_PASSWORD") {
		t.Fatalf("without a password: status %d, %s", status, errOut)
	}
	status, out, errOut := runCLI(t, map[string]string{"PAYDESK_OWNER_PASSWORD": "owner-pass-1"}, "merchant", "create", "--db", db, "--name", "Pho 24", "--owner-phone", "0912345678")
	if status != 0 || !strings.Contains(out, `"merchant_id": 1`) {
		t.Fatalf("merchant create: status %d, %s %s", status, out, errOut)
	}
	if strings.Contains(out+errOut, "owner-pass-1") {
		t.Fatal("the owner's password was printed")
	}
}
