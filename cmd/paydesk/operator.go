package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/merchant"
)

// merchantCmd is the platform operator's: `paydesk merchant create ...`.
func merchantCmd(ctx context.Context, c *cli, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		err := errors.New("usage: paydesk merchant create --name NAME --owner-phone PHONE [--owner-name NAME] [--store NAME] [--fee-rate PPM] [--settlement-days N] [--merchant-tz ZONE]; the owner's password is read from PAYDESK_OWNER_PASSWORD")
		fmt.Fprintln(c.stderr, err)
		return usageError{err}
	}
	fs := c.flagSet("merchant create")
	name := fs.String("name", "", "merchant `name` (required)")
	ownerPhone := fs.String("owner-phone", "", "first owner's `phone` number, their login (required)")
	ownerName := fs.String("owner-name", "Owner", "first owner's `name`")
	store := fs.String("store", "", "first store's `name` (default: the merchant's name)")
	feeRate := fs.Int64("fee-rate", int64(paydesk.DefaultFeeRate), "fee rate in parts per `million` (3800 = 0.38%)")
	days := fs.Int("settlement-days", 1, "settlement cycle T+`N` (0 for T+0)")
	tz := fs.String("merchant-tz", "", "the merchant's business-day time `zone` (default: --tz)")
	if _, err := c.parse(fs, args[1:]); err != nil {
		return err
	}
	password := c.getenv("PAYDESK_OWNER_PASSWORD")
	if *name == "" || *ownerPhone == "" || password == "" {
		err := errors.New("--name, --owner-phone and the environment variable PAYDESK_OWNER_PASSWORD are required (the password is not a flag so it stays out of shell history and process lists)")
		fmt.Fprintln(c.stderr, err)
		return usageError{err}
	}
	if *tz == "" {
		*tz = c.cfg.TZ
	}
	m := NewMain(c.cfg, c.stderr)
	defer m.Close()
	if err := m.Open(ctx); err != nil {
		return err
	}
	opened, err := m.Services.Merchants.CreateMerchant(ctx, merchant.NewMerchant{Name: *name, OwnerPhone: *ownerPhone, OwnerName: *ownerName,
		OwnerPassword: password, StoreName: *store, FeeRate: paydesk.Rate(*feeRate), SettlementDays: *days, SettleSameDay: *days == 0, TimeZone: *tz})
	if err != nil {
		return fmt.Errorf("create merchant: %w", err)
	}
	return printJSON(c, map[string]any{
		"merchant_id": opened.Merchant.ID,
		"store":       map[string]any{"id": opened.Store.ID, "name": opened.Store.Name},
		"owner":       map[string]any{"id": opened.Owner.ID, "phone": opened.Owner.Phone},
	})
}

func printJSON(c *cli, v any) error {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

