package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/apikey"
	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/checkout"
	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/merchant"
	mobileapi "github.com/paydesk/paydesk/mobile-api"
	"github.com/paydesk/paydesk/pos"
	"github.com/paydesk/paydesk/push"
	"github.com/paydesk/paydesk/rbac"
	"github.com/paydesk/paydesk/sandbox"
	"github.com/paydesk/paydesk/settlement"
	"github.com/paydesk/paydesk/sms"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/wallet"
	"github.com/paydesk/paydesk/webhook"
)

// Services are the domain services every command shares, built on the
// opened database.
type Services struct {
	Ledger    *ledger.Ledger
	Merchants *merchant.Service
	Staff     *cashier.Service
	Tokens    *rbac.Tokens
	Enforcer  *rbac.Enforcer
	// Bank is the built-in bank simulator: the only bank channel so far.
	Bank        *bank.Simulator
	Wallets     *wallet.Service
	POS         *pos.Service
	Idempotency *storage.IdempotencyKeys
	// Outbox receives the push events of order and staff changes.
	Outbox *push.Outbox
	// Settlement cuts business days, pays batches and withdrawals (settle.go).
	Settlement *settlement.Service
	// Stats (today's data), Members and Tickets come after the payment;
	// Stats and Members observe the POS.
	Stats   *pos.Stats
	Members *pos.Members
	Tickets *pos.Tickets
	// Phones confirms customers' phones by SMS code; devSMS is its channel
	// with PAYDESK_SMS=log, nil otherwise.
	Phones *sms.Confirmer
	devSMS *sms.Dev
	// APIKeys are the keys of merchants' own systems.
	APIKeys *apikey.Service
	// Webhooks manages the merchants' endpoints; Dispatcher sends their
	// deliveries (started by Run).
	Webhooks   *webhook.Service
	Dispatcher *webhook.Dispatcher
	// Checkout is the hosted checkout.
	Checkout *checkout.Service
	// Sandbox is test mode, what test API keys act on.
	Sandbox *sandbox.Service
}

// wire builds the services. The ledger's poster goroutine and the bank
// simulator run until Close.
func (m *Main) wire(ctx context.Context) error {
	c := &m.Config
	if c.Env == EnvDev && (c.Secret == "" || c.Secret == DevSecret) {
		c.Secret = DevSecret
		m.Logger.Warn("dev mode: signing tokens with the built-in development secret; anyone can forge them. Set PAYDESK_SECRET for any shared deployment.")
	}
	clock := paydesk.SystemClock
	enf, err := rbac.NewEnforcer(c.Policy)
	if err != nil {
		return fmt.Errorf("load access policy: %w", err)
	}
	// A logout closes the login's websockets, through the hub that Run
	// starts later.
	ended := mobileapi.SessionEnded(func() *push.Hub { return m.Push })
	tokens, err := rbac.NewTokens(rbac.NewGormSessionStore(m.DB), []byte(c.Secret), clock, rbac.TokenOptions{SessionEnded: ended})
	if err != nil {
		return fmt.Errorf("tokens: %w", err)
	}
	l := ledger.New(ledger.NewGormStore(m.DB), ledger.WithClock(clock))
	// From here on Close has something to stop.
	m.Services = Services{Ledger: l, Tokens: tokens, Enforcer: enf, Bank: bank.NewSimulator(m.bankConfig(clock))}
	attempts := storage.NewAttempts(m.DB, clock)
	outbox := push.NewOutbox(m.DB, clock)
	merchantStore := merchant.NewGormStorage(m.DB)
	staff := cashier.NewService(cashier.NewGormStorage(m.DB), merchantStore, attempts, clock, cashier.WithObserver(outbox))
	merchants := merchant.NewService(merchantStore, l, staff, clock)
	walletStore, err := m.walletStore(ctx)
	if err != nil {
		return err
	}
	wallets, err := wallet.New(ctx, wallet.Config{Store: walletStore, Ledger: l, Bank: m.Services.Bank, Attempts: attempts, Clock: clock})
	if err != nil {
		return fmt.Errorf("wallets: %w", err)
	}
	m.Services.Merchants = merchants
	m.Services.Staff = staff
	m.Services.Wallets = wallets
	// Test mode (issue 19): a sandbox merchant is paid only by its test wallet.
	m.Services.Sandbox = sandbox.NewService(merchants, wallets, l)
	m.Services.POS = pos.NewService(pos.NewGormStorage(m.DB), l, wallets, merchants, clock, pos.Config{PublicURL: c.PublicURL,
		Payable: m.Services.Sandbox.Payable})
	m.Services.POS.Observe(outbox)
	m.Services.Stats = pos.NewStats(pos.NewGormStats(m.DB), merchants, clock)
	m.Services.Members = pos.NewMembers(pos.NewGormMembers(m.DB), wallets)
	m.Services.Tickets = pos.NewTickets(pos.NewGormTickets(m.DB), wallets, merchants, clock)
	m.Services.POS.Observe(m.Services.Stats)
	m.Services.POS.Observe(m.Services.Members)
	m.Services.Outbox = outbox
	m.Services.Idempotency = storage.NewIdempotencyKeys(m.DB, clock)
	var channel sms.Channel // none: registration answers SMS_UNAVAILABLE
	if c.SMS == "log" {
		m.Services.devSMS = sms.NewDev(m.Logger)
		channel = m.Services.devSMS
		m.Logger.Warn("dev mode: SMS codes are logged and answered as dev_code, not sent (PAYDESK_SMS=log)")
	} else {
		m.Logger.Warn("no SMS channel (PAYDESK_SMS=none): wallet registration answers 503 SMS_UNAVAILABLE")
	}
	m.Services.Phones = sms.NewConfirmer(sms.NewGormStore(m.DB), channel, clock)
	m.Services.Settlement = m.newSettlement(clock, outbox)
	keyHasher, err := apikey.NewHasher(apiKeyPepper(c.dataKey))
	if err != nil {
		return fmt.Errorf("API keys: %w", err)
	}
	m.Services.APIKeys = apikey.NewService(apikey.NewGormStorage(m.DB), keyHasher, merchants, clock)
	m.Services.Checkout = checkout.NewService(checkout.NewGormStorage(m.DB), m.Services.POS, clock, c.PublicURL)
	hooks := webhook.NewGormStorage(m.DB)
	m.Services.Webhooks = webhook.NewService(hooks, outbox, clock)
	m.Services.Dispatcher = webhook.NewDispatcher(hooks, outbox, clock, webhook.Config{AllowPrivate: c.WebhookAllowPrivate == "true",
		Logger: m.Logger.With("job", "webhooks")}, m.Services.Webhooks)
	// notify_url goes out as the webhooks do, under their rules.
	m.Services.Checkout.NotifyWith(m.Services.Webhooks, c.WebhookAllowPrivate == "true")
	// A payment whose business day is cut is settled: it can no longer be
	// voided, only refunded.
	m.Services.POS.CheckSettlementWith(func(ctx context.Context, o pos.Order) (bool, error) {
		return m.Services.Settlement.Settled(ctx, o.MerchantID, o.PaidAt)
	})
	return nil
}

// apiKeyPepper derives the key API keys are hashed under from the data key,
// the one secret meant to stay the same for the life of the database (the
// token secret may rotate, logging everyone out; keys must outlive that).
// The label keeps it apart from the data key's other use.
func apiKeyPepper(dataKey string) []byte {
	h := hmac.New(sha256.New, []byte(dataKey))
	h.Write([]byte("paydesk api key pepper v1"))
	return h.Sum(nil)
}

// walletStore returns the wallets' store, sealing their secrets under the
// data key, after sealing any left in plain form by an older version.
func (m *Main) walletStore(ctx context.Context) (*wallet.GormStore, error) {
	c := &m.Config
	if c.devDataKeyInForce {
		m.Logger.Warn("dev mode: wallet secrets are sealed with the built-in development data key; anyone with the database can mint payment codes. Set PAYDESK_DATA_KEY for any shared deployment.")
	}
	sealer, err := wallet.NewSealer([]byte(c.dataKey))
	if err != nil {
		return nil, fmt.Errorf("wallet data key: %w", err)
	}
	store := wallet.NewGormStore(m.DB, sealer)
	// Before sealing: rows sealed under a wrong key would be lost to the right one.
	if err := store.CheckDataKey(ctx); errors.Is(err, wallet.ErrDataKeyWrong) {
		return nil, fmt.Errorf("PAYDESK_DATA_KEY (--data-key) is not the key the wallets' secrets were sealed with; every payment code and dynamic password would be refused: %w", err)
	} else if err != nil {
		return nil, err
	}
	n, unreadable, err := store.SealPlaintextSecrets(ctx)
	if n > 0 {
		m.Logger.Info("sealed wallet secrets stored in plain form", slog.Int("wallets", n))
	}
	if len(unreadable) > 0 {
		// Such a row refuses its payment codes; the others are served.
		m.Logger.Error("wallet secrets that do not open under PAYDESK_DATA_KEY (wrong key, or copied between rows)",
			slog.Int("wallets", len(unreadable)), slog.Any("first", unreadable[:min(len(unreadable), 10)]))
	}
	if err != nil {
		return nil, err
	}
	return store, nil
}

// devCodes answers the last SMS code per phone in dev mode, for the
// apps' tests (dev_code); nil otherwise.
func (m *Main) devCodes() func(string) string {
	if m.Config.Env != EnvDev || m.Services.devSMS == nil {
		return nil
	}
	return m.Services.devSMS.LastCode
}
