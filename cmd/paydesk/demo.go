package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/merchant"
	"github.com/paydesk/paydesk/rbac"
	"github.com/paydesk/paydesk/wallet"
)

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
	// demoMarker is how the demo finds its merchant again: by a marker on
	// the merchant row, not by logging in (which is throttled, and fails
	// once the owner changes the password).
	demoMarker = "paydesk-demo"
	// demoBankAccount is the demo merchant's settlement account at the
	// simulated bank, which pays every payout to it.
	demoBankAccount = "6222020200000001"
)

// The demo's customer wallets: phones 13900000000, 13900000001 and
// 13900000002, one password.
const (
	demoCustomerPrefix   = "1390000000"
	demoCustomerPassword = "demo-customer-pass"
)

// demoFunds is what the demo gives one customer wallet (minor units).
type demoFunds struct {
	Cash paydesk.Amount `json:"cash"`
	// Card is the simulated card bound to the wallet (bank.SimCardOK),
	// which pays any shortfall and top-ups; null for none.
	Card *string `json:"card"`
	// Voucher is a voucher good at the demo merchant only; null for none.
	Voucher *paydesk.Amount `json:"voucher"`
	// Coupon is platform stored value good anywhere; null for none.
	Coupon *paydesk.Amount `json:"coupon"`
}

var demoCustomerFunds = []demoFunds{
	{Cash: 50000},
	{Cash: 20000, Card: ptr(bank.SimCardOK)},
	{Cash: 5000, Card: ptr(bank.SimCardOK), Voucher: ptr(paydesk.Amount(1000)), Coupon: ptr(paydesk.Amount(2000))},
}

func ptr[T any](v T) *T { return &v }

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

// customerInfo is a demo wallet's login and what the demo funded it with
// (not its balance now, so that a second run prints the same).
type customerInfo struct {
	Phone    string           `json:"phone"`
	Password string           `json:"password"`
	Currency paydesk.Currency `json:"currency"`
	Funds    demoFunds        `json:"funds"`
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
	mer, err := demoMerchant(ctx, m)
	if err != nil {
		return demoOutput{}, err
	}
	svc := m.App.Merchants
	operator := cashier.OperatorActor(mer.ID)
	out := demoOutput{MerchantID: mer.ID}
	stores, err := svc.Stores(ctx, operator)
	if err != nil {
		return demoOutput{}, err
	}
	for _, st := range stores {
		out.Stores = append(out.Stores, demoStore{ID: st.ID, Name: st.Name})
	}
	staff, err := m.App.Staff.List(ctx, operator)
	if err != nil {
		return demoOutput{}, err
	}
	var owner cashier.Actor
	// The passwords printed are the ones the demo gave; whoever changed
	// theirs since knows the new one.
	password := map[rbac.Role]string{rbac.Owner: demoOwner.Password, rbac.Manager: demoManagerPassword, rbac.Cashier: demoCashierPassword}
	for _, st := range staff {
		if st.Role == rbac.Owner && owner.StaffID == 0 {
			owner = cashier.Actor{StaffID: st.ID, MerchantID: st.MerchantID, Role: rbac.Owner, IP: "demo"}
		}
		out.Staff = append(out.Staff, demoLogin{string(st.Role), st.Phone, password[st.Role], st.StoreID})
	}
	if owner.StaffID == 0 {
		return demoOutput{}, errors.New("the demo merchant has no owner")
	}
	if err := seedDemoInstallment(ctx, m, owner); err != nil {
		return demoOutput{}, err
	}
	if _, err := m.App.Settlement.SetBankAccount(ctx, mer.ID, bank.BankAccount{Number: demoBankAccount, Holder: demoMerchantName, BankName: "Simulated Bank"}); err != nil {
		return demoOutput{}, fmt.Errorf("bind the demo's bank account: %w", err)
	}
	if out.Customers, err = seedDemoCustomers(ctx, m, mer); err != nil {
		return demoOutput{}, err
	}
	return out, nil
}

// demoMerchant finds the demo merchant by its marker, or opens it, and
// sees that it has its second store, managers and cashiers: a run that
// stopped half-way is finished by the next.
func demoMerchant(ctx context.Context, m *Main) (merchant.Merchant, error) {
	svc := m.App.Merchants
	mer, err := svc.MerchantByMarker(ctx, demoMarker)
	if errors.Is(err, merchant.ErrMerchantNotFound) {
		var opened merchant.Opened
		opened, err = svc.CreateMerchant(ctx, merchant.NewMerchant{Name: demoMerchantName, StoreName: demoStores[0], Marker: demoMarker,
			OwnerName: "Demo Owner", OwnerPhone: demoOwner.Phone, OwnerPassword: demoOwner.Password, TimeZone: m.Config.TZ})
		mer = opened.Merchant
		switch {
		case errors.Is(err, merchant.ErrMarkerTaken): // another demo run at the same moment
			mer, err = svc.MerchantByMarker(ctx, demoMarker)
		case errors.Is(err, cashier.ErrPhoneTaken):
			return merchant.Merchant{}, fmt.Errorf("the demo owner's phone %s belongs to a merchant that is not the demo's", demoOwner.Phone)
		}
	}
	if err != nil {
		return merchant.Merchant{}, err
	}
	operator := cashier.OperatorActor(mer.ID)
	stores, err := svc.Stores(ctx, operator)
	if err != nil {
		return merchant.Merchant{}, err
	}
	if len(stores) < len(demoStores) {
		st, err := svc.AddStore(ctx, operator, demoStores[1])
		if err != nil {
			return merchant.Merchant{}, err
		}
		stores = append(stores, st)
	}
	staff, err := m.App.Staff.List(ctx, operator)
	if err != nil {
		return merchant.Merchant{}, err
	}
	has := map[string]bool{}
	for _, st := range staff {
		has[st.Phone] = true
	}
	add := func(ns cashier.NewStaff) error {
		if has[ns.Phone] {
			return nil
		}
		_, err := m.App.Staff.Add(ctx, operator, ns)
		return err
	}
	for i := range demoStores {
		storeID := stores[i].ID
		if err := add(cashier.NewStaff{Name: fmt.Sprintf("Manager %d", i+1), Phone: demoManagers[i], Password: demoManagerPassword, Role: rbac.Manager, StoreID: storeID}); err != nil {
			return merchant.Merchant{}, err
		}
		for j, phone := range demoCashiers[i] {
			if err := add(cashier.NewStaff{Name: fmt.Sprintf("Cashier %d-%d", i+1, j+1), Phone: phone, Password: demoCashierPassword, Role: rbac.Cashier, StoreID: storeID}); err != nil {
				return merchant.Merchant{}, err
			}
		}
	}
	return mer, nil
}

// seedDemoCustomers opens the demo's three wallets and funds them as
// demoCustomerFunds says: cash only; cash and a bound card; and cash, a
// card, a voucher for the demo merchant and a platform coupon, so that one
// payment can draw on every source. Cash comes from the bank's clearing
// account under a reference per wallet, vouchers and coupons under fixed
// references, so a second run funds nothing twice.
func seedDemoCustomers(ctx context.Context, m *Main, mer merchant.Merchant) ([]customerInfo, error) {
	ws := m.App.Wallets
	// The vouchers' and coupons' expiry is fixed by the merchant's
	// creation, so that issuing again is the same request.
	expires := mer.CreatedAt.UTC().Truncate(time.Second).AddDate(3, 0, 0)
	out := make([]customerInfo, len(demoCustomerFunds))
	for i, f := range demoCustomerFunds {
		phone := demoCustomerPrefix + fmt.Sprint(i)
		id, err := ws.SeedWallet(ctx, phone, demoCustomerPassword, f.Cash)
		if err != nil {
			return nil, err
		}
		w := struct {
			ID    wallet.WalletID
			Phone string
		}{id, phone}
		out[i] = customerInfo{Phone: phone, Password: demoCustomerPassword, Currency: mer.Currency, Funds: f}
		if f.Card != nil {
			view, err := ws.Wallet(ctx, w.ID)
			if err != nil {
				return nil, err
			}
			if view.Card == nil {
				if _, err := ws.BindCard(ctx, w.ID, bank.CardDetails{Number: *f.Card, Holder: "Demo Customer", ExpiryMonth: 12, ExpiryYear: time.Now().Year() + 5}); err != nil {
					return nil, fmt.Errorf("bind the demo card of %s: %w", w.Phone, err)
				}
			}
		}
		if f.Voucher != nil {
			if _, err := ws.IssueVoucher(ctx, wallet.VoucherRequest{Wallet: w.ID, Amount: *f.Voucher, MerchantID: mer.ID, ExpiresAt: expires, Reference: "demo-voucher"}); err != nil {
				return nil, fmt.Errorf("the demo voucher of %s: %w", w.Phone, err)
			}
		}
		if f.Coupon != nil {
			if _, err := ws.IssueCoupon(ctx, wallet.CouponRequest{Wallet: w.ID, Amount: *f.Coupon, ExpiresAt: expires, Reference: "demo-coupon"}); err != nil {
				return nil, fmt.Errorf("the demo coupon of %s: %w", w.Phone, err)
			}
		}
	}
	return out, nil
}
