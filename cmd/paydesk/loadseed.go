package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/ledger"
)

// seedWalletsCmd is `paydesk seed-wallets`: funded wallets in bulk for load
// tests, printed with the payment-code secrets a phone app would hold.
func seedWalletsCmd(ctx context.Context, c *cli, args []string) error {
	fs := c.flagSet("seed-wallets")
	count := fs.Int("count", 1000, "how many `wallets`")
	prefix := fs.String("prefix", "177", "phone number `prefix`; the rest is the wallet's index")
	cash := fs.Int64("cash", 10_000_000, "cash in minor `units` each wallet starts with")
	if _, err := c.parse(fs, args); err != nil {
		return err
	}
	if c.cfg.Env == EnvProduction {
		return errors.New("seed-wallets refuses production mode: its wallets share one published password")
	}
	if *count <= 0 || *count > 1_000_000 || *cash <= 0 || len(*prefix) > 8 || strings.Trim(*prefix, "0123456789") != "" {
		err := errors.New("--count must be 1 to 1,000,000, --cash positive, --prefix up to 8 digits")
		fmt.Fprintln(c.stderr, err)
		return usageError{err}
	}
	m := NewMain(c.cfg, c.stderr)
	defer m.Close()
	if err := m.Open(ctx); err != nil {
		return err
	}
	ws, err := m.App.Wallets.SeedLoadWallets(ctx, *prefix, *count, "load-test-pass", paydesk.Amount(*cash))
	if err != nil {
		return err
	}
	return printJSON(c, map[string]any{"password": "load-test-pass", "wallets": ws})
}

// booksCmd is `paydesk books`: the figures a load test checks its own
// bookkeeping against — whether the ledger balances, a merchant's
// balances, and the cash of every wallet whose phone has a prefix.
func booksCmd(ctx context.Context, c *cli, args []string) error {
	fs := c.flagSet("books")
	merchantID := fs.Int64("merchant", 0, "merchant `id` whose balances to print")
	prefix := fs.String("wallet-prefix", "", "print the cash of wallets whose phone starts with this `prefix`")
	if _, err := c.parse(fs, args); err != nil {
		return err
	}
	m := NewMain(c.cfg, c.stderr)
	defer m.Close()
	if err := m.Open(ctx); err != nil {
		return err
	}
	report, err := m.App.Ledger.Check(ctx)
	if err != nil {
		return err
	}
	out := map[string]any{"ledger_ok": report.OK(), "ledger": report}
	if *merchantID != 0 {
		mer, err := m.App.Merchants.Merchant(ctx, *merchantID)
		if err != nil {
			return err
		}
		bal := map[string]paydesk.Amount{}
		for _, a := range []struct {
			name string
			id   ledger.AccountID
		}{{"pending", mer.Accounts.Pending}, {"available", mer.Accounts.Available}, {"frozen", mer.Accounts.Frozen}, {"marketing", mer.Accounts.Marketing}} {
			if bal[a.name], err = m.App.Ledger.Balance(ctx, a.id); err != nil {
				return err
			}
		}
		out["merchant"] = bal
	}
	if *prefix != "" {
		cash, err := m.App.Wallets.CashByPhonePrefix(ctx, *prefix)
		if err != nil {
			return err
		}
		out["wallet_cash"] = cash
	}
	if err := printJSON(c, out); err != nil {
		return err
	}
	if !report.OK() {
		return errors.New("the ledger does not balance")
	}
	return nil
}
