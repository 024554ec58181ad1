package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/wallet"
)

// voucherCmd is the operator's `paydesk voucher issue`: a voucher (代金券),
// optionally good at one merchant only, for a customer's wallet.
func voucherCmd(ctx context.Context, c *cli, args []string) error {
	return issueMarketing(ctx, c, "voucher", args)
}

// couponCmd is the operator's `paydesk coupon issue`: platform stored
// value (和包券) for a customer's wallet, paid from the platform's marketing
// account.
func couponCmd(ctx context.Context, c *cli, args []string) error {
	return issueMarketing(ctx, c, "coupon", args)
}

func issueMarketing(ctx context.Context, c *cli, kind string, args []string) error {
	usage := fmt.Sprintf("usage: paydesk %s issue --phone PHONE --amount 10.00 --reference REF [--valid-for 720h]", kind)
	if kind == "voucher" {
		usage += " [--merchant ID]"
	}
	if len(args) == 0 || args[0] != "issue" {
		err := errors.New(usage)
		fmt.Fprintln(c.stderr, err)
		return usageError{err}
	}
	fs := c.flagSet(kind + " issue")
	phone := fs.String("phone", "", "the customer's wallet `phone` (required)")
	amount := fs.String("amount", "", "value in major `units`, e.g. 10.00 (required)")
	reference := fs.String("reference", "", "your `reference` (e.g. campaign-7): issuing again with it gives the same one, never a second (required)")
	valid := fs.Duration("valid-for", 30*24*time.Hour, "how long it stays usable, a `duration`")
	var merchantID *int64
	if kind == "voucher" {
		merchantID = fs.Int64("merchant", 0, "good at this merchant `id` only (default: any merchant)")
	}
	if err := c.noMore(fs, args[1:]); err != nil {
		return err
	}
	value, err := paydesk.ParseAmount(*amount)
	if *phone == "" || *reference == "" || err != nil || value <= 0 || *valid <= 0 {
		return c.usageErr(fs, "--phone, --reference and a positive --amount in major units (10.00) are required; --valid-for must be positive")
	}
	m, err := c.openMain(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	ws := m.App.Wallets
	id, err := ws.FindByPhone(ctx, *phone)
	if err != nil {
		return fmt.Errorf("wallet %s: %w", *phone, err)
	}
	// The expiry is rounded to the hour so that running the same command
	// again within the hour is the same request, answered with the first.
	expires := time.Now().Add(*valid).Truncate(time.Hour)
	if kind == "voucher" {
		if *merchantID != 0 {
			if _, err := m.App.Merchants.Merchant(ctx, *merchantID); err != nil {
				return err
			}
		}
		v, err := ws.IssueVoucher(ctx, wallet.VoucherRequest{Wallet: id, Amount: value, MerchantID: *merchantID, ExpiresAt: expires, Reference: *reference})
		if err != nil {
			return err
		}
		var only any
		if v.MerchantID != 0 {
			only = v.MerchantID
		}
		return printJSON(c, map[string]any{"id": v.ID, "phone": *phone, "amount": v.Amount, "currency": v.Currency, "merchant_id": only,
			"expires_at": v.ExpiresAt, "status": v.Status, "reference": v.Reference})
	}
	cp, err := ws.IssueCoupon(ctx, wallet.CouponRequest{Wallet: id, Amount: value, ExpiresAt: expires, Reference: *reference})
	if err != nil {
		return err
	}
	return printJSON(c, map[string]any{"id": cp.ID, "phone": *phone, "amount": cp.Amount, "remaining": cp.Remaining, "currency": cp.Currency,
		"expires_at": cp.ExpiresAt, "reference": cp.Reference})
}
