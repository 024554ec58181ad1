package main

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/bank/banktest"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// An operator command and the server act through one bank channel: what a
// command's process submitted before it exited (as `paydesk payout retry`
// does) is settled by the running server's bank, and a card bound by one
// process debits in the next. Nothing waits SUBMITTED on a process that is gone.
func TestOperatorCommandsShareTheServersBank(t *testing.T) {
	ctx := context.Background()
	dsn := storagetest.DSN(t, "sqlite")
	cfg := testConfig(dsn)
	cfg.Settle.BankDelay = "1h" // the command's process would take an hour: it exits first
	cfg.Settle.BankDir = t.TempDir()

	cmd := NewMain(cfg, os.Stderr)
	if err := cmd.Open(ctx); err != nil {
		t.Fatal(err)
	}
	card := banktest.MustBind(t, cmd.App.Bank, bank.SimCardOK)
	req := bank.PayoutRequest{Reference: "stl-1-2", Account: bank.BankAccount{Number: "6222020200112233", Holder: "Tea House Ltd"}, Amount: 12_345, Currency: "CNY"}
	p, err := cmd.App.Bank.Payout(ctx, req)
	if err != nil || p.Status != bank.PayoutSubmitted {
		t.Fatalf("payout from the command = %+v, %v", p, err)
	}
	cmd.Close()

	scfg := testConfig(dsn)
	scfg.Settle.BankDelay = "10ms"
	scfg.Settle.BankDir = t.TempDir() // the bank's daily file goes nowhere shared
	server := NewMain(scfg, os.Stderr)
	startMain(t, server)
	// The server's bank sweeps at start; the payout settles within its delay.
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := server.App.Bank.PayoutStatus(ctx, req.Reference)
		if err != nil {
			t.Fatalf("status of the command's payout on the server: %v", err)
		}
		if st.Status == bank.PayoutPaid && st.BankReference == p.BankReference {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the command's payout is still %s on the server", st.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
	again, err := server.App.Bank.Payout(ctx, req)
	if err != nil || again.BankReference != p.BankReference {
		t.Fatalf("the same payout again on the server = %+v, %v; want the first", again, err)
	}
	if _, err := server.App.Bank.Debit(ctx, bank.DebitRequest{Reference: "t-1", CardToken: card.Token, Amount: 100, Currency: "CNY"}); err != nil {
		t.Fatalf("a card bound by the command does not debit on the server: %v", err)
	}
}
