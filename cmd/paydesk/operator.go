package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/internal/view"
	"github.com/paydesk/paydesk/merchant"
	"github.com/paydesk/paydesk/settlement"
)

// merchantUsage is what `paydesk merchant` takes.
const merchantUsage = `usage:
  paydesk merchant create --name NAME --owner-phone PHONE [--owner-name NAME] [--store NAME] [--fee-rate PPM] [--settlement-days N] [--merchant-tz ZONE]
      (the owner's password is read from PAYDESK_OWNER_PASSWORD)
  paydesk merchant list [--after ID] [--limit N]
  paydesk merchant set --id ID [--fee-rate PPM] [--settlement-days N] [--payout-mode auto|manual]`

// merchantCmd is the platform operator's `paydesk merchant create|list|set`.
func merchantCmd(ctx context.Context, c *cli, args []string) error {
	verbs := map[string]func(context.Context, *cli, []string) error{"create": merchantCreate, "list": merchantList, "set": merchantSet}
	if len(args) == 0 || verbs[args[0]] == nil {
		err := errors.New(merchantUsage)
		fmt.Fprintln(c.stderr, err)
		return usageError{err}
	}
	return verbs[args[0]](ctx, c, args[1:])
}

// merchantCreate is `paydesk merchant create`.
func merchantCreate(ctx context.Context, c *cli, args []string) error {
	fs := c.flagSet("merchant create")
	name := fs.String("name", "", "merchant `name` (required)")
	ownerPhone := fs.String("owner-phone", "", "first owner's `phone` number, their login (required)")
	ownerName := fs.String("owner-name", "Owner", "first owner's `name`")
	store := fs.String("store", "", "first store's `name` (default: the merchant's name)")
	feeRate := fs.Int64("fee-rate", int64(paydesk.DefaultFeeRate), "fee rate in parts per `million` (3800 = 0.38%)")
	days := fs.Int("settlement-days", 1, "settlement cycle T+`N` (0 for T+0)")
	tz := fs.String("merchant-tz", "", "the merchant's business-day time `zone` (default: --tz)")
	if err := c.noMore(fs, args); err != nil {
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
	opened, err := m.App.Merchants.CreateMerchant(ctx, merchant.NewMerchant{Name: *name, OwnerPhone: *ownerPhone, OwnerName: *ownerName,
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

// merchantList is `paydesk merchant list`: merchants in id order, a page
// at a time ({"items", "next_cursor"}, the cursor being the --after of the
// next page).
func merchantList(ctx context.Context, c *cli, args []string) error {
	fs := c.flagSet("merchant list")
	after := fs.Int64("after", 0, "list merchants with an id above this `id`")
	limit := fs.Int("limit", 100, "at most this many `merchants` (1 to 500)")
	if err := c.noMore(fs, args); err != nil {
		return err
	}
	if *limit < 1 || *limit > 500 {
		return c.usageErr(fs, "--limit must be 1 to 500")
	}
	m, err := c.openMain(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	list, err := m.App.Merchants.Merchants(ctx, *after, *limit+1)
	if err != nil {
		return err
	}
	var next any
	if len(list) > *limit {
		list = list[:*limit]
		next = list[len(list)-1].ID
	}
	items := make([]view.Merchant, len(list))
	for i, mer := range list {
		items[i] = view.MerchantOf(mer)
	}
	return printJSON(c, map[string]any{"items": items, "next_cursor": next})
}

// merchantSet is `paydesk merchant set --id N [--fee-rate] [--settlement-days]`:
// only the flags given change. A new term is a flag here and a field of
// merchant.Terms.
func merchantSet(ctx context.Context, c *cli, args []string) error {
	fs := c.flagSet("merchant set")
	id := fs.Int64("id", 0, "merchant `id` (required)")
	feeRate := fs.Int64("fee-rate", 0, "fee rate in parts per `million` (3800 = 0.38%)")
	days := fs.Int("settlement-days", 0, "settlement cycle T+`N` (0 for T+0)")
	mode := fs.String("payout-mode", "", "`auto` (batches paid to the bank at their due date) or manual (batches settle into available; the owner withdraws)")
	if err := c.noMore(fs, args); err != nil {
		return err
	}
	if *id <= 0 {
		return c.usageErr(fs, "--id is required")
	}
	if *mode != "" && *mode != string(settlement.PayoutAuto) && *mode != string(settlement.PayoutManual) {
		return c.usageErr(fs, "--payout-mode must be auto or manual")
	}
	var t merchant.Terms
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "fee-rate":
			t.FeeRate = ptr(paydesk.Rate(*feeRate))
		case "settlement-days":
			t.SettlementDays = days
		}
	})
	if t == (merchant.Terms{}) && *mode == "" {
		return c.usageErr(fs, "nothing to set: give --fee-rate, --settlement-days or --payout-mode")
	}
	m, err := c.openMain(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	mer, err := m.App.Merchants.Merchant(ctx, *id)
	if t != (merchant.Terms{}) && err == nil {
		mer, err = m.App.Merchants.SetTerms(ctx, *id, t)
	}
	if err != nil {
		return err
	}
	if *mode != "" {
		if err := m.App.Settlement.SetPayoutMode(ctx, *id, settlement.PayoutMode(*mode)); err != nil {
			return err
		}
	}
	out := view.MerchantOf(mer)
	if out.PayoutMode, err = m.App.Settlement.PayoutMode(ctx, *id); err != nil {
		return err
	}
	return printJSON(c, out)
}

// storeCmd is the operator's `paydesk store add --merchant ID --name NAME [--address TEXT]`.
func storeCmd(ctx context.Context, c *cli, args []string) error {
	if len(args) == 0 || args[0] != "add" {
		err := errors.New("usage: paydesk store add --merchant ID --name NAME [--address TEXT]")
		fmt.Fprintln(c.stderr, err)
		return usageError{err}
	}
	fs := c.flagSet("store add")
	merchantID := fs.Int64("merchant", 0, "merchant `id` (required)")
	name := fs.String("name", "", "the store's `name` (required)")
	address := fs.String("address", "", "the store's `address`")
	if err := c.noMore(fs, args[1:]); err != nil {
		return err
	}
	if *merchantID <= 0 || *name == "" {
		return c.usageErr(fs, "--merchant and --name are required")
	}
	m, err := c.openMain(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	if _, err := m.App.Merchants.Merchant(ctx, *merchantID); err != nil {
		return err
	}
	st, err := m.App.Merchants.OpenStore(ctx, cashier.OperatorActor(*merchantID), merchant.NewStore{Name: *name, Address: *address})
	if err != nil {
		return err
	}
	return printJSON(c, struct {
		MerchantID int64 `json:"merchant_id"`
		view.Store
	}{st.MerchantID, view.StoreOf(st)})
}
