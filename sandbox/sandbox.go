// Package sandbox is test mode: what a merchant's test API key acts on.
//
// Every live merchant gets, on first use of a test key, a paired sandbox
// merchant: a merchants row of its own (marker "sandbox:<live id>", name
// "<live name> (test)") with its own store and its own ledger accounts,
// and a test wallet that pays it. A test key is authenticated as the
// sandbox merchant, so everything it does goes through the same services,
// policy and storage as a live key, and is kept apart by the one rule every
// route already keeps: a merchant sees only its own orders. A test key can
// therefore never touch a live order, and a live key never sees a test one.
//
// Test money can never become live money:
//   - the test wallet is funded from the sandbox mint (ledger account
//     "sandbox:mint", allowed below zero), never from the bank, and only
//     with the amount of the test order it is about to pay;
//   - a sandbox merchant is paid only by its own test wallet (Payable, which
//     pos asks before every wallet payment), so no customer's real money
//     reaches it from a scanned QR or a payment link;
//   - the sandbox pays no fee (fee rate 0), so nothing reaches the platform's
//     fee account;
//   - it has no bank account and no staff anyone can log in as (its owner
//     and its test wallet have random passwords nobody is told), so nothing
//     withdraws its balance; API keys have no scope for withdrawals;
//   - its settlements and statements are its own merchant's, never the live
//     merchant's.
//
// The test wallet's and owner's phone numbers are "+999" followed by the
// live merchant's id: +999 is a country code the ITU keeps unassigned, so
// no real customer or staff member can hold one.
package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/merchant"
	"github.com/paydesk/paydesk/wallet"
)

// MarkerPrefix starts the marker of every sandbox merchant.
const MarkerPrefix = "sandbox:"

// MintAccount is the ledger account test money comes from.
const MintAccount = "sandbox:mint"

// IsTest reports whether m is a sandbox merchant.
func IsTest(m merchant.Merchant) bool { return strings.HasPrefix(m.Marker, MarkerPrefix) }

// Errors with stable codes.
var (
	// ErrLiveMerchant refuses a test-only action on a live merchant's order.
	ErrLiveMerchant = &paydesk.Error{Kind: paydesk.KindForbidden, Code: "TEST_MODE_ONLY",
		Message: "this is a test-mode action: use a test key (pdk_test_...), which acts on the merchant's sandbox"}
	// ErrTestPayer refuses a wallet that may not pay the merchant: a real
	// wallet paying a sandbox merchant.
	ErrTestPayer = &paydesk.Error{Kind: paydesk.KindForbidden, Code: "TEST_MODE_ORDER",
		Message: "this is a test-mode order: it can only be paid with the test wallet, never with real money"}
)

// Merchants is what the sandbox needs of merchant.Service.
type Merchants interface {
	Merchant(ctx context.Context, id int64) (merchant.Merchant, error)
	MerchantByMarker(ctx context.Context, marker string) (merchant.Merchant, error)
	CreateMerchant(ctx context.Context, nm merchant.NewMerchant) (merchant.Opened, error)
	SetTerms(ctx context.Context, id int64, t merchant.Terms) (merchant.Merchant, error)
}

// Wallets is what the sandbox needs of wallet.Service.
type Wallets interface {
	FindByPhone(ctx context.Context, phone string) (wallet.WalletID, error)
	Register(ctx context.Context, phone, password string) (wallet.WalletID, error)
}

// Service pairs live merchants with their sandboxes and funds test payments.
type Service struct {
	merchants Merchants
	wallets   Wallets
	ledger    *ledger.Ledger
	// sandboxes caches live id → sandbox id, and wallets sandbox id →
	// test wallet: pairs never change once made.
	sandboxes sync.Map
	payers    sync.Map
}

// NewService returns a Service.
func NewService(m Merchants, w Wallets, l *ledger.Ledger) *Service {
	return &Service{merchants: m, wallets: w, ledger: l}
}

func marker(liveID int64) string { return MarkerPrefix + strconv.FormatInt(liveID, 10) }

// phone is the test wallet's and the sandbox owner's number.
func phone(liveID int64) string { return fmt.Sprintf("+999%011d", liveID) }

func secret() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// liveOf returns the live merchant id a sandbox's marker names.
func liveOf(m merchant.Merchant) (int64, bool) {
	rest, ok := strings.CutPrefix(m.Marker, MarkerPrefix)
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	return id, err == nil && id > 0
}

// For returns the sandbox merchant of live merchant liveID, opening it
// (and its test wallet) on first use. Two first uses at once open one:
// the marker is unique, and the loser reads the winner's.
func (s *Service) For(ctx context.Context, liveID int64) (merchant.Merchant, error) {
	if id, ok := s.sandboxes.Load(liveID); ok {
		return s.merchants.Merchant(ctx, id.(int64))
	}
	m, err := s.merchants.MerchantByMarker(ctx, marker(liveID))
	if errors.Is(err, merchant.ErrMerchantNotFound) {
		m, err = s.open(ctx, liveID)
	}
	if err != nil {
		return merchant.Merchant{}, fmt.Errorf("sandbox of merchant %d: %w", liveID, err)
	}
	if _, err := s.payer(ctx, m); err != nil {
		return merchant.Merchant{}, err
	}
	s.sandboxes.Store(liveID, m.ID)
	return m, nil
}

func (s *Service) open(ctx context.Context, liveID int64) (merchant.Merchant, error) {
	live, err := s.merchants.Merchant(ctx, liveID)
	if err != nil {
		return merchant.Merchant{}, err
	}
	if IsTest(live) {
		return merchant.Merchant{}, paydesk.ErrInvalid.WithMessage("merchant %d is itself a sandbox", liveID)
	}
	name := live.Name
	if len(name) > 40 {
		name = name[:40]
	}
	op, err := s.merchants.CreateMerchant(ctx, merchant.NewMerchant{Name: name + " (test)", Currency: live.Currency, TimeZone: live.TimeZone,
		SettlementDays: live.SettlementDays, SettleSameDay: live.SettlementDays == 0, StoreName: "Test store",
		OwnerName: "Test mode", OwnerPhone: phone(liveID), OwnerPassword: secret(), Marker: marker(liveID)})
	if err != nil {
		// Another request opened it first (MARKER_TAKEN or, if its
		// owner's insert came first, PHONE_TAKEN).
		if m, rerr := s.merchants.MerchantByMarker(ctx, marker(liveID)); rerr == nil {
			return m, nil
		}
		return merchant.Merchant{}, err
	}
	zero := paydesk.Rate(0)
	return s.merchants.SetTerms(ctx, op.Merchant.ID, merchant.Terms{FeeRate: &zero})
}

// payer returns the sandbox's test wallet, registering it on first use.
func (s *Service) payer(ctx context.Context, sandbox merchant.Merchant) (wallet.WalletID, error) {
	if id, ok := s.payers.Load(sandbox.ID); ok {
		return id.(wallet.WalletID), nil
	}
	liveID, ok := liveOf(sandbox)
	if !ok {
		return 0, ErrLiveMerchant
	}
	id, err := s.wallets.FindByPhone(ctx, phone(liveID))
	if errors.Is(err, wallet.ErrWalletNotFound) {
		id, err = s.wallets.Register(ctx, phone(liveID), secret())
		if errors.Is(err, wallet.ErrPhoneTaken) {
			id, err = s.wallets.FindByPhone(ctx, phone(liveID))
		}
	}
	if err != nil {
		return 0, fmt.Errorf("test wallet of sandbox %d: %w", sandbox.ID, err)
	}
	s.payers.Store(sandbox.ID, id)
	return id, nil
}

// Payable says whether wallet w may pay merchant m: a sandbox merchant
// only by its own test wallet. pos asks it before every wallet payment.
func (s *Service) Payable(ctx context.Context, m merchant.Merchant, w wallet.WalletID) error {
	if !IsTest(m) {
		return nil
	}
	payer, err := s.payer(ctx, m)
	if err != nil {
		return err
	}
	if w != payer {
		return ErrTestPayer
	}
	return nil
}

// FundTestPayment mints amount into the test wallet of sandbox merchant
// merchantID, once per reference, and returns the wallet to pay with: the
// simulator's customer, who always has the money.
func (s *Service) FundTestPayment(ctx context.Context, merchantID int64, amount paydesk.Amount, reference string) (wallet.WalletID, error) {
	m, err := s.merchants.Merchant(ctx, merchantID)
	if err != nil {
		return 0, err
	}
	if !IsTest(m) {
		return 0, ErrLiveMerchant
	}
	w, err := s.payer(ctx, m)
	if err != nil {
		return 0, err
	}
	mint, err := s.ledger.CreateAccount(ctx, ledger.Account{Code: MintAccount, Type: "sandbox_mint", Currency: m.Currency, AllowNegative: true})
	if err != nil {
		return 0, fmt.Errorf("sandbox mint: %w", err)
	}
	cash, err := s.ledger.AccountByCode(ctx, wallet.CashAccountCode(w))
	if err != nil {
		return 0, fmt.Errorf("test wallet cash: %w", err)
	}
	_, err = s.ledger.Post(ctx, ledger.Transfer{Reference: fmt.Sprintf("sandbox:%d:fund:%s", m.ID, reference), Kind: "sandbox_fund",
		Memo: "test mode", Postings: []ledger.Posting{{Source: mint.ID, Destination: cash.ID, Amount: amount}}}, nil)
	if err != nil {
		return 0, fmt.Errorf("fund test payment %s: %w", reference, err)
	}
	return w, nil
}
