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
	if len(args) > 0 && args[0] == "set" {
		return merchantSetPayoutModeCmd(ctx, c, args[1:])
	}
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

// The demo merchant's logins. Fixed on purpose: a newcomer copies them from
// the README. The demo command refuses production mode.
var (
	demoOwner    = demoLogin{"owner", "13800000000", "demo-owner-pass", 0}
	demoStores   = []string{"Demo Tea House · Nanjing Rd", "Demo Tea House · Huaihai Rd"}
	demoManagers = []string{"13810000001", "13810000002"}
	demoCashiers = [][]string{{"13820000011", "13820000012"}, {"13820000021"}}
)

const (
	demoMerchantName    = "Demo Tea House"
	demoManagerPassword = "demo-manager-pass"
	demoCashierPassword = "demo-cashier-pass"
)

type demoLogin struct {
	Role     string `json:"role"`
	Phone    string `json:"phone"`
	Password string `json:"password"`
	StoreID  int64  `json:"store_id"`
}

type demoStore struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

type demoOutput struct {
	MerchantID int64          `json:"merchant_id"`
	Stores     []demoStore    `json:"stores"`
	Staff      []demoLogin    `json:"staff"`
	Customers  []customerInfo `json:"customers"`
}

type customerInfo struct {
	Phone    string `json:"phone"`
	Password string `json:"password"`
}

// demoCmd creates the demo merchant, its staff and funded customer wallets
// once, and prints their logins as JSON. Run again, it creates nothing and
// prints the same logins.
func demoCmd(ctx context.Context, c *cli, args []string) error {
	if err := c.noArgs("demo", args); err != nil {
		return err
	}
	if c.cfg.Env == EnvProduction {
		return errors.New("demo refuses production mode: its passwords are published")
	}
	m := NewMain(c.cfg, c.stderr)
	defer m.Close()
	if err := m.Open(ctx); err != nil {
		return err
	}
	out, err := seedDemo(ctx, m)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return printJSON(c, out)
}

func seedDemo(ctx context.Context, m *Main) (demoOutput, error) {
	svc := m.Services.Merchants
	owner, err := svc.Login(ctx, demoOwner.Phone, demoOwner.Password, "demo")
	if err != nil && !errors.Is(err, merchant.ErrInvalidCredentials) {
		return demoOutput{}, err
	}
	if err != nil { // not there yet
		opened, err := svc.CreateMerchant(ctx, merchant.NewMerchant{Name: demoMerchantName, StoreName: demoStores[0],
			OwnerName: "Demo Owner", OwnerPhone: demoOwner.Phone, OwnerPassword: demoOwner.Password, TimeZone: m.Config.TZ})
		if err != nil {
			if errors.Is(err, merchant.ErrPhoneTaken) {
				return demoOutput{}, errors.New("the demo owner's phone is taken but the demo password does not match: was the demo changed by hand?")
			}
			return demoOutput{}, err
		}
		owner = opened.Owner
		ownerActor := merchant.Actor{StaffID: owner.ID, MerchantID: owner.MerchantID, Role: merchant.Owner, IP: "demo"}
		second, err := svc.AddStore(ctx, ownerActor, demoStores[1])
		if err != nil {
			return demoOutput{}, err
		}
		for i, storeID := range []int64{opened.Store.ID, second.ID} {
			if _, err := svc.AddStaff(ctx, ownerActor, merchant.NewStaff{Name: fmt.Sprintf("Manager %d", i+1), Phone: demoManagers[i], Password: demoManagerPassword, Role: merchant.Manager, StoreID: storeID}); err != nil {
				return demoOutput{}, err
			}
			for j, phone := range demoCashiers[i] {
				if _, err := svc.AddStaff(ctx, ownerActor, merchant.NewStaff{Name: fmt.Sprintf("Cashier %d-%d", i+1, j+1), Phone: phone, Password: demoCashierPassword, Role: merchant.Cashier, StoreID: storeID}); err != nil {
					return demoOutput{}, err
				}
			}
		}
	}
	ownerActor := merchant.Actor{StaffID: owner.ID, MerchantID: owner.MerchantID, Role: merchant.Owner, IP: "demo"}
	out := demoOutput{MerchantID: owner.MerchantID, Staff: []demoLogin{demoOwner}}
	stores, err := svc.Stores(ctx, ownerActor)
	if err != nil {
		return demoOutput{}, err
	}
	for _, st := range stores {
		out.Stores = append(out.Stores, demoStore{ID: st.ID, Name: st.Name})
	}
	staff, err := svc.ListStaff(ctx, ownerActor)
	if err != nil {
		return demoOutput{}, err
	}
	for _, st := range staff {
		switch st.Role {
		case merchant.Manager:
			out.Staff = append(out.Staff, demoLogin{"manager", st.Phone, demoManagerPassword, st.StoreID})
		case merchant.Cashier:
			out.Staff = append(out.Staff, demoLogin{"cashier", st.Phone, demoCashierPassword, st.StoreID})
		}
	}
	if err := seedDemoInstallment(ctx, m, ownerActor); err != nil {
		return demoOutput{}, err
	}
	customers, err := seedDemoCustomers(ctx, m)
	if err != nil {
		return demoOutput{}, err
	}
	out.Customers = customers
	return out, nil
}

// seedDemoCustomers creates the funded demo wallets. The wallet arrives
// with the payments issue; until then there are none.
func seedDemoCustomers(ctx context.Context, m *Main) ([]customerInfo, error) {
	return []customerInfo{}, nil
}
