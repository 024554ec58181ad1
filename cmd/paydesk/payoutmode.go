package main

import (
	"context"

	"github.com/paydesk/paydesk/settlement"
)

// merchantSetPayoutModeCmd is the operator's `paydesk merchant set --id N
// --payout-mode auto|manual`: auto pays each settlement batch to the bound
// bank account at its due date, manual settles it into the available
// balance for the owner to withdraw.
func merchantSetPayoutModeCmd(ctx context.Context, c *cli, args []string) error {
	fs := c.flagSet("merchant set")
	id := fs.Int64("id", 0, "merchant `id` (required)")
	mode := fs.String("payout-mode", "", "`auto` (batches paid to the bank at their due date) or manual (batches settle into available; the owner withdraws)")
	if err := c.noMore(fs, args); err != nil {
		return err
	}
	if *id <= 0 || *mode == "" {
		return c.usageErr(fs, "--id and --payout-mode are required")
	}
	if *mode != string(settlement.PayoutAuto) && *mode != string(settlement.PayoutManual) {
		return c.usageErr(fs, "--payout-mode must be auto or manual")
	}
	m, err := c.openMain(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	if err := m.Services.Settlement.SetPayoutMode(ctx, *id, settlement.PayoutMode(*mode)); err != nil {
		return err
	}
	got, err := m.Services.Settlement.PayoutMode(ctx, *id)
	if err != nil {
		return err
	}
	return printJSON(c, map[string]any{"merchant_id": *id, "payout_mode": got})
}
