package main

import (
	"encoding/json"
	"strconv"
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

// The operator lists merchants, changes a merchant's terms, adds a store
// and gives wallets vouchers and coupons; each is idempotent or refused
// with a clear message.
func TestOperatorCommands(t *testing.T) {
	db := storagetest.DSN(t, "sqlite")
	demo, _ := runDemo(t, db)
	run := func(want int, args ...string) map[string]any {
		t.Helper()
		status, out, errOut := runCLI(t, nil, append(args, "--db", db)...)
		if status != want {
			t.Fatalf("%v: status %d, want %d: %s %s", args, status, want, out, errOut)
		}
		var v map[string]any
		if want == 0 {
			if err := json.Unmarshal([]byte(out), &v); err != nil {
				t.Fatalf("%v: not JSON: %s", args, out)
			}
		}
		return v
	}
	list := run(0, "merchant", "list")
	items, _ := list["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["marker"] != "paydesk-demo" || list["next_cursor"] != nil {
		t.Fatalf("merchant list = %v", list)
	}
	id := strconv.FormatInt(demo.MerchantID, 10)
	set := run(0, "merchant", "set", "--id", id, "--fee-rate", "6000")
	if set["fee_rate"] != float64(6000) || set["settlement_days"] != float64(1) {
		t.Fatalf("merchant set --fee-rate = %v", set)
	}
	if set = run(0, "merchant", "set", "--id", id, "--settlement-days", "0"); set["fee_rate"] != float64(6000) || set["settlement_days"] != float64(0) {
		t.Fatalf("merchant set --settlement-days = %v", set)
	}
	run(2, "merchant", "set", "--id", id)
	run(1, "merchant", "set", "--id", id, "--fee-rate", "200000")
	run(1, "merchant", "set", "--id", "999", "--fee-rate", "10")

	st := run(0, "store", "add", "--merchant", id, "--name", "Demo Tea House · Pudong", "--address", "1 Century Ave")
	if st["name"] != "Demo Tea House · Pudong" || st["address"] != "1 Century Ave" {
		t.Fatalf("store add = %v", st)
	}
	run(1, "store", "add", "--merchant", "999", "--name", "Nowhere")

	phone := demo.Customers[0].Phone
	v := run(0, "voucher", "issue", "--phone", phone, "--amount", "5.00", "--merchant", id, "--reference", "spring-1")
	again := run(0, "voucher", "issue", "--phone", phone, "--amount", "5.00", "--merchant", id, "--reference", "spring-1")
	if v["amount"] != float64(500) || v["merchant_id"] != float64(demo.MerchantID) || again["id"] != v["id"] {
		t.Fatalf("voucher issue = %v, again %v", v, again)
	}
	run(1, "voucher", "issue", "--phone", phone, "--amount", "6.00", "--merchant", id, "--reference", "spring-1") // other terms
	cp := run(0, "coupon", "issue", "--phone", phone, "--amount", "8.00", "--reference", "welcome")
	if cp["amount"] != float64(800) || cp["remaining"] != float64(800) {
		t.Fatalf("coupon issue = %v", cp)
	}
	run(1, "coupon", "issue", "--phone", "13999999999", "--amount", "8.00", "--reference", "welcome")
	run(2, "coupon", "issue", "--phone", phone, "--amount", "-1", "--reference", "x")
}
