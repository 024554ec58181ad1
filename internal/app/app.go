// Package app is paydesk's composition root: Build wires the domain
// services on one opened database, and Jobs are the background work every
// instance runs beside the API. cmd/paydesk and the end-to-end tests build
// the same graph through it, so what the tests exercise is what runs.
//
// It knows no HTTP: mobile-api builds its server from an App
// (mobileapi.NewServer), and the push hub, listeners and Redis stay with
// the program that serves.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/apikey"
	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/checkout"
	"github.com/paydesk/paydesk/internal/seal"
	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/merchant"
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

// Settings are what the wiring needs beyond the database and the clock:
// secrets, the outside world's adapters and the knobs the operator sets.
// The zero value of a field is its default where one is named.
type Settings struct {
	// Secret signs access tokens (at least rbac.MinSecretLen bytes).
	Secret []byte
	// Tokens tune the tokens; their SessionEnded closes a login's sockets.
	Tokens rbac.TokenOptions
	// Policy is the casbin policy file; empty for the built-in one.
	Policy string
	// DataKey seals the secrets paydesk must read back at rest (seal.KeyLen
	// bytes): the wallets' code and TOTP secrets, the webhook endpoints'
	// signing secrets, the checkout sessions' return secrets.
	DataKey []byte
	// APIKeyPepper is the key merchants' API keys are hashed under.
	APIKeyPepper []byte
	// PublicURL is where customers reach paydesk: QR payloads, links and
	// checkout pages are built on it.
	PublicURL string
	// Passwords tunes password hashing; zero is the production setting.
	Passwords paydesk.PasswordParams
	// Bank configures the bank simulator, the only bank channel so far;
	// its Clock defaults to the app's.
	Bank bank.SimulatorConfig
	// SMS is the channel of phone confirmation codes; nil answers
	// registration with SMS_UNAVAILABLE.
	SMS sms.Channel
	// WebhookAllowPrivate lets webhook deliveries and notify_url reach
	// loopback and private addresses.
	WebhookAllowPrivate bool
	// Settlement holds cut-off, withdrawal limits and the bank's callback secret.
	Settlement settlement.Config
	// Jobs is the schedule of the background jobs.
	Jobs Schedule
	// Logger receives the services' and jobs' logs; discarding if nil.
	Logger *slog.Logger
	// CacheTTL bounds how long a staff row or a merchant read for one
	// request is reused for the next ones (default DefaultCacheTTL;
	// negative: never). It is how late this instance can honour a change
	// made through another one that has no outbox event (enabling staff)
	// or whose event the push hub has not delivered yet (Seen).
	CacheTTL time.Duration
}

// DefaultCacheTTL is Settings.CacheTTL's default: a scan payment's staff
// and merchant reads are served from memory all but once a second, and
// no change lags longer than that on any instance.
const DefaultCacheTTL = time.Second

// cacheSize bounds each read cache, in rows (a staff row or a merchant
// is a few hundred bytes): more than one instance's active cashiers.
const cacheSize = 10_000

// App is the wired service graph. Build returns it; Close stops what it
// runs (the ledger's poster, the bank simulator) but not the database,
// which the caller opened.
type App struct {
	DB    *storage.DB
	Clock paydesk.Clock

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
	// Outbox receives the push events of every change, in its transaction.
	Outbox *push.Outbox
	// Settlement cuts business days, pays batches and withdrawals.
	Settlement *settlement.Service
	// Stats (today's data) and Members observe the POS; Tickets come
	// after the payment.
	Stats   *pos.Stats
	Members *pos.Members
	Tickets *pos.Tickets
	// Phones confirms customers' phones by SMS code.
	Phones *sms.Confirmer
	// APIKeys are the keys of merchants' own systems.
	APIKeys *apikey.Service
	// Webhooks manages merchants' endpoints; Dispatcher sends their
	// deliveries (one of the Jobs).
	Webhooks   *webhook.Service
	Dispatcher *webhook.Dispatcher
	// Checkout is the hosted checkout.
	Checkout *checkout.Service
	// Sandbox is test mode, what test API keys act on.
	Sandbox *sandbox.Service

	// Jobs run beside the API once started; the caller starts and stops them.
	Jobs *Jobs
}

// Build wires the services on db, telling the time by clock (the system
// clock if nil). It opens the platform's and the wallets' accounts and
// seals any wallet secrets an older version left in plain form, so it
// needs a migrated database. On an error what was started is stopped.
func Build(ctx context.Context, db *storage.DB, s Settings, clock paydesk.Clock) (_ *App, err error) {
	if clock == nil {
		clock = paydesk.SystemClock
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	a := &App{DB: db, Clock: clock}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	if a.Enforcer, err = rbac.NewEnforcer(s.Policy); err != nil {
		return nil, fmt.Errorf("load access policy: %w", err)
	}
	if a.Tokens, err = rbac.NewTokens(rbac.NewGormSessionStore(db), s.Secret, clock, s.Tokens); err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	a.Ledger = ledger.New(ledger.NewGormStore(db), ledger.WithClock(clock))
	if s.Bank.Clock == nil {
		s.Bank.Clock = clock
	}
	a.Bank = bank.NewSimulator(s.Bank)
	attempts := storage.NewAttempts(db, clock)
	a.Outbox = push.NewOutbox(db, clock)
	merchantStore := merchant.NewGormStorage(db)
	staffOpts := []cashier.Option{cashier.WithPasswords(s.Passwords), cashier.WithObserver(a.Outbox), cashier.WithSessions(a.Tokens)}
	merchantOpts := []merchant.Option{merchant.WithObserver(a.Outbox)}
	if s.CacheTTL == 0 {
		s.CacheTTL = DefaultCacheTTL
	}
	if s.CacheTTL > 0 {
		// Every authenticated request reads its staff row and every payment
		// its merchant; both services forget a row they change once its
		// transaction ends, and Seen forgets what other instances changed.
		staffOpts = append(staffOpts, cashier.WithCache(s.CacheTTL, cacheSize))
		merchantOpts = append(merchantOpts, merchant.WithCache(s.CacheTTL, cacheSize))
	}
	a.Staff = cashier.NewService(cashier.NewGormStorage(db), merchantStore, attempts, clock, staffOpts...)
	a.Merchants = merchant.NewService(merchantStore, a.Ledger, a.Staff, clock, merchantOpts...)
	walletStore, err := openWalletStore(ctx, db, s.DataKey, s.Logger)
	if err != nil {
		return nil, err
	}
	// The wallet's platform accounts are opened here, at the start, so
	// every database numbers its accounts alike.
	if a.Wallets, err = wallet.New(ctx, wallet.Config{Store: walletStore, Ledger: a.Ledger, Bank: a.Bank, Attempts: attempts,
		Clock: clock, Passwords: s.Passwords}); err != nil {
		return nil, fmt.Errorf("wallets: %w", err)
	}
	// Test mode (issue 19): a sandbox merchant is paid only by its test wallet.
	a.Sandbox = sandbox.NewService(a.Merchants, a.Wallets, a.Ledger)
	a.POS = pos.NewService(pos.NewGormStorage(db), a.Ledger, a.Wallets, a.Merchants, clock,
		pos.Config{PublicURL: s.PublicURL, Payable: a.Sandbox.Payable})
	a.Stats = pos.NewStats(pos.NewGormStats(db), a.Merchants, clock)
	a.Members = pos.NewMembers(pos.NewGormMembers(db), a.Wallets)
	a.Tickets = pos.NewTickets(pos.NewGormTickets(db), a.Wallets, a.Merchants, clock)
	a.POS.Observe(a.Outbox)
	a.POS.Observe(a.Stats)
	a.POS.Observe(a.Members)
	a.Idempotency = storage.NewIdempotencyKeys(db, clock)
	a.Phones = sms.NewConfirmer(sms.NewGormStore(db), s.SMS, clock)
	a.Settlement = settlement.New(settlement.Deps{DB: db, Ledger: a.Ledger, Merchants: a.Merchants, Bank: a.Bank,
		Events: a.Outbox.SettlementEvents(), Clock: clock, Logger: s.Logger}, s.Settlement)
	hasher, err := apikey.NewHasher(s.APIKeyPepper)
	if err != nil {
		return nil, fmt.Errorf("API keys: %w", err)
	}
	a.APIKeys = apikey.NewService(apikey.NewGormStorage(db), hasher, a.Merchants, clock)
	hooks, err := openWebhookStore(ctx, db, s.DataKey, s.Logger)
	if err != nil {
		return nil, err
	}
	a.Webhooks = webhook.NewService(hooks, a.Outbox, clock)
	a.Dispatcher = webhook.NewDispatcher(hooks, a.Outbox, clock, webhook.Config{AllowPrivate: s.WebhookAllowPrivate,
		Logger: s.Logger.With("job", "webhooks")}, a.Webhooks)
	a.Checkout = checkout.NewService(checkout.NewGormStorage(db, seal.Must(s.DataKey)), a.POS, clock, s.PublicURL)
	// notify_url goes out as the webhooks do, under their rules.
	a.Checkout.NotifyWith(a.Webhooks, s.WebhookAllowPrivate)
	// A payment whose business day is cut is settled: it can no longer be
	// voided, only refunded.
	a.POS.CheckSettlementWith(func(ctx context.Context, o pos.Order) (bool, error) {
		return a.Settlement.Settled(ctx, o.MerchantID, o.PaidAt)
	})
	a.Jobs = newJobs(a, s.Jobs, s.Logger)
	return a, nil
}

// Seen is told of every outbox event by the push hub (push.Config.Seen),
// whichever instance wrote it: the changes other instances made reach the
// read caches here, at the hub's delay (its PollInterval, or at once when
// Redis wakes it) rather than the CacheTTL's.
func (a *App) Seen(e push.Event) {
	switch e.Type {
	case push.StaffDisabled:
		a.Staff.Forget(e.CashierID)
	case push.MerchantUpdated:
		a.Merchants.Forget(e.MerchantID)
	}
}

// Close stops the jobs, then the bank simulator, then the ledger, which
// finishes the transfers already queued. The database stays open. It is
// safe on a partly built App.
func (a *App) Close() {
	if a == nil {
		return
	}
	if a.Jobs != nil {
		a.Jobs.Stop()
	}
	if a.Bank != nil {
		a.Bank.Close()
	}
	if a.Ledger != nil {
		a.Ledger.Close()
	}
}

// openWebhookStore returns the webhooks' store, sealing the endpoints'
// secrets under dataKey (checked by openWalletStore before), after sealing
// any left in plain form by an older version.
func openWebhookStore(ctx context.Context, db *storage.DB, dataKey []byte, log *slog.Logger) (*webhook.GormStorage, error) {
	store := webhook.NewGormStorage(db, seal.Must(dataKey))
	n, unreadable, err := store.SealPlaintextSecrets(ctx)
	if n > 0 {
		log.Info("sealed webhook secrets stored in plain form", slog.Int("endpoints", n))
	}
	if len(unreadable) > 0 {
		// Their deliveries fail until the secret is rotated; the others go.
		log.Error("webhook secrets that do not open under PAYDESK_DATA_KEY (wrong key, or copied between merchants)",
			slog.Int("endpoints", len(unreadable)), slog.Any("first", unreadable[:min(len(unreadable), 10)]))
	}
	if err != nil {
		return nil, err
	}
	return store, nil
}

// openWalletStore returns the wallets' store, sealing their secrets under
// dataKey, after sealing any left in plain form by an older version.
func openWalletStore(ctx context.Context, db *storage.DB, dataKey []byte, log *slog.Logger) (*wallet.GormStore, error) {
	sealer, err := wallet.NewSealer(dataKey)
	if err != nil {
		return nil, fmt.Errorf("wallet data key: %w", err)
	}
	store := wallet.NewGormStore(db, sealer)
	// Before sealing: rows sealed under a wrong key would be lost to the right one.
	if err := store.CheckDataKey(ctx); errors.Is(err, wallet.ErrDataKeyWrong) {
		return nil, fmt.Errorf("PAYDESK_DATA_KEY (--data-key) is not the key the wallets' secrets were sealed with; every payment code and dynamic password would be refused: %w", err)
	} else if err != nil {
		return nil, err
	}
	n, unreadable, err := store.SealPlaintextSecrets(ctx)
	if n > 0 {
		log.Info("sealed wallet secrets stored in plain form", slog.Int("wallets", n))
	}
	if len(unreadable) > 0 {
		// Such a row refuses its payment codes; the others are served.
		log.Error("wallet secrets that do not open under PAYDESK_DATA_KEY (wrong key, or copied between rows)",
			slog.Int("wallets", len(unreadable)), slog.Any("first", unreadable[:min(len(unreadable), 10)]))
	}
	if err != nil {
		return nil, err
	}
	return store, nil
}
