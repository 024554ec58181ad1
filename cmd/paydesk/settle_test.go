package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/merchant"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// TestSettlementCommands drives the operator's settlement commands end to
// end on one database: bind an account, settle yesterday by hand, record
// the payout made by online banking, and reconcile with the bank's file.
func TestSettlementCommands(t *testing.T) {
	ctx := context.Background()
	dsn := storagetest.DSN(t, "sqlite")
	bankDir := t.TempDir()
	env := map[string]string{"PAYDESK_OWNER_PASSWORD": "owner-pass-1", "PAYDESK_BANK_DIR": bankDir}
	// cli runs a command and returns its stdout, or for a failure its stderr.
	cli := func(want int, args ...string) string {
		t.Helper()
		status, out, errOut := runCLI(t, env, append(args, "--db", dsn)...)
		if status != want {
			t.Fatalf("paydesk %s: status %d, want %d\n%s%s", strings.Join(args, " "), status, want, out, errOut)
		}
		if status == 0 {
			return out
		}
		return out + errOut
	}
	cli(0, "merchant", "create", "--name", "Tea House", "--owner-phone", "13800000001")
	cli(2, "bank-account", "set", "--merchant", "1")
	cli(2, "merchant", "set", "--id", "1", "--payout-mode", "weekly")
	if out := cli(0, "merchant", "set", "--id", "1", "--payout-mode", "manual"); !strings.Contains(out, `"payout_mode": "manual"`) {
		t.Fatalf("merchant set --payout-mode manual: %s", out)
	}
	if out := cli(0, "merchant", "set", "--id", "1", "--payout-mode", "auto"); !strings.Contains(out, `"payout_mode": "auto"`) {
		t.Fatalf("merchant set --payout-mode auto: %s", out)
	}
	if out := cli(1, "bank-account", "set", "--merchant", "1", "--number", "12", "--holder", "Tea House Ltd"); !strings.Contains(out, "BANK_ACCOUNT_INVALID") {
		t.Fatalf("short account number: %s", out)
	}
	if out := cli(0, "bank-account", "set", "--merchant", "1", "--number", "6222020200112233", "--holder", "Tea House Ltd", "--bank", "ICBC"); !strings.Contains(out, `"number": "****2233"`) {
		t.Fatalf("bank-account set: %s", out)
	}

	// Yesterday's takings, posted as the ledger would have then.
	loc, _ := time.LoadLocation("Asia/Shanghai")
	yesterday := time.Now().In(loc).AddDate(0, 0, -1)
	m := NewMain(testConfig(dsn), os.Stderr)
	if err := m.Open(ctx); err != nil {
		t.Fatal(err)
	}
	merch, err := m.App.Merchants.Merchant(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	then := ledger.New(ledger.NewGormStore(m.DB), ledger.WithClock(func() time.Time { return yesterday.UTC() }))
	clearing, err := then.Platform(ctx, merch.Currency)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := then.Post(ctx, ledger.Transfer{Reference: "test:sale", Kind: "payment", Memo: "T-1",
		Postings: []ledger.Posting{{Source: clearing.Clearing, Destination: merch.Accounts.Pending, Amount: 12_345}}}, nil); err != nil {
		t.Fatal(err)
	}
	then.Close()
	// The merchant must exist before yesterday's business day for it to be cut.
	if _, err := m.DB.SQL().Exec("UPDATE merchants SET created_at = ?", yesterday.AddDate(0, 0, -1).UTC()); err != nil {
		t.Fatal(err)
	}
	m.Close()

	day := yesterday.Format(time.DateOnly)
	cli(2, "settle")
	if out := cli(1, "settle", "--date", time.Now().In(loc).Format(time.DateOnly)); !strings.Contains(out, "BUSINESS_DAY_NOT_ENDED") {
		t.Fatalf("settling today: %s", out)
	}
	var settled []struct {
		MerchantID int64          `json:"merchant_id"`
		Batch      map[string]any `json:"batch"`
	}
	out := cli(0, "settle", "--date", day)
	if err := json.Unmarshal([]byte(out), &settled); err != nil || len(settled) != 1 || settled[0].Batch["amount"] != float64(12_345) ||
		settled[0].Batch["state"] != "AWAITING_PAYMENT" {
		t.Fatalf("settle: %v\n%s", err, out)
	}
	again := cli(0, "settle", "--date", day, "--merchant", "1")
	if !strings.Contains(again, `"id": 1`) || strings.Contains(again, `"id": 2`) {
		t.Fatalf("settling again made another batch: %s", again)
	}

	// The finance team paid it by online banking (seed 004, FAQ 3).
	cli(2, "payout", "record", "--batch", "1", "--status", "sent")
	cli(1, "payout", "retry", "--batch", "1") // not FAILED
	if out := cli(0, "payout", "record", "--batch", "1", "--status", "paid", "--reason", "online banking voucher 8812"); !strings.Contains(out, `"state": "PAID"`) || !strings.Contains(out, `"offline": true`) {
		t.Fatalf("payout record: %s", out)
	}

	// Reconcile: the channel paid nothing, the bank's file is empty (or
	// missing): they agree. A file listing a payout paydesk never made
	// differs, and the command says so with status 1.
	today := time.Now().In(loc).Format(time.DateOnly)
	if out := cli(0, "reconcile", today); !strings.Contains(out, `"matched": 0`) {
		t.Fatalf("reconcile: %s", out)
	}
	file := filepath.Join(bankDir, "payouts-"+today+".csv")
	if err := os.WriteFile(file, []byte("reference,bank_reference,amount,currency,paid_at\nstl-77-1,P0000000077,500,CNY,"+time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := cli(1, "reconcile", today); !strings.Contains(out, `"kind": "EXTRA"`) || !strings.Contains(out, "stl-77-1") {
		t.Fatalf("reconcile with a stray payout: %s", out)
	}
	cli(2, "reconcile")
	cli(2, "reconcile", "yesterday")

	// The book is sound after all of it.
	m = NewMain(testConfig(dsn), os.Stderr)
	if err := m.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	r, err := m.App.Ledger.Check(ctx)
	if err != nil || !r.OK() {
		t.Fatalf("ledger check: %+v %v", r, err)
	}
	b, err := m.App.Settlement.Balance(ctx, 1)
	if err != nil || b.Book != 0 {
		t.Fatalf("balance after the offline payout: %+v %v", b, err)
	}
}

// TestServerPaysWithdrawalsThroughTheBank runs the server as `paydesk
// serve` does: an owner withdraws over HTTP, the simulated bank pays after
// its delay and calls back, signed, to the server's own
// /v1/bank/callbacks; the withdrawal ends PAID, the bank's daily file lists
// it, and `paydesk reconcile` finds nothing to report.
func TestServerPaysWithdrawalsThroughTheBank(t *testing.T) {
	ctx := context.Background()
	dsn := storagetest.DSN(t, "sqlite")
	bankDir := t.TempDir()
	cfg := testConfig(dsn)
	cfg.Settle.BankDelay, cfg.Settle.BankDir, cfg.Settle.BankSecret = "10ms", bankDir, "a-bank-secret-for-this-test-only-0123"
	m := NewMain(cfg, &syncBuffer{})
	base := startMain(t, m)
	opened, err := m.App.Merchants.CreateMerchant(ctx, merchant.NewMerchant{Name: "Tea", OwnerName: "Li", OwnerPhone: "13800000001", OwnerPassword: "owner-pass-1"})
	if err != nil {
		t.Fatal(err)
	}
	// Money in available, as after a failed settlement.
	plat, err := m.App.Ledger.Platform(ctx, opened.Merchant.Currency)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.App.Ledger.Post(ctx, ledger.Transfer{Reference: "test:funds", Kind: "test", Postings: []ledger.Posting{
		{Source: plat.Clearing, Destination: opened.Merchant.Accounts.Available, Amount: 50_000}}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := m.App.Settlement.SetBankAccount(ctx, opened.Merchant.ID, bank.BankAccount{Number: "6222020200112233", Holder: "Tea Ltd"}); err != nil {
		t.Fatal(err)
	}
	status, login := call(t, "POST", base+"/v1/auth/login", "", map[string]string{"phone": "13800000001", "password": "owner-pass-1"})
	if status != http.StatusOK {
		t.Fatalf("login: %d %v", status, login)
	}
	owner := login["access_token"].(string)
	status, wd := call(t, "POST", base+"/v1/withdrawals", owner, map[string]any{"request_no": "w-1", "amount": 10_000})
	// The bank answers after 10 ms, so on a busy machine the withdrawal can
	// already be PAID when its own answer is written.
	if status != http.StatusOK || (wd["state"] != "SUBMITTED" && wd["state"] != "PAID") {
		t.Fatalf("withdraw: %d %v", status, wd)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, list := call(t, "GET", base+"/v1/withdrawals", owner, nil)
		if items, _ := list["items"].([]any); len(items) == 1 && items[0].(map[string]any)["state"] == "PAID" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the withdrawal never got paid: %v", list)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, b := call(t, "GET", base+"/v1/balance", owner, nil); b["available"] != float64(40_000) || b["frozen"] != float64(0) {
		t.Fatalf("balance %v", b)
	}
	today := time.Now().In(m.Config.Location).Format(time.DateOnly)
	raw, err := os.ReadFile(filepath.Join(bankDir, "payouts-"+today+".csv"))
	if err != nil || !strings.Contains(string(raw), wd["reference"].(string)) {
		t.Fatalf("the bank's file: %v\n%s", err, raw)
	}
	status, out, errOut := runCLI(t, nil, "reconcile", today, "--db", dsn, "--bank-dir", bankDir)
	if status != 0 || !strings.Contains(out, `"matched": 1`) {
		t.Fatalf("reconcile: %d\n%s%s", status, out, errOut)
	}
}
