package wallet_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/bank/banktest"
	"github.com/paydesk/paydesk/internal/testkit"
	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/wallet"
)

// start is step-aligned for payment codes (10 s) and dynamic passwords (30 s),
// so tests can reason about exactly when a code expires.
var start = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// testDataKey seals the wallets' secrets in tests.
// testMerchant and testIP are where the tests' dynamic passwords and
// log-ins come from, for the per-(phone, place) lock-outs.
const (
	testMerchant = int64(1)
	testIP       = "192.0.2.1"
)

var testDataKey = []byte("paydesk-wallet-tests-data-key-32")

// fixture is a wallet service over a real database, with a clock tests move.
type fixture struct {
	db     *storage.DB
	ledger *ledger.Ledger
	bank   *bank.Simulator
	svc    *wallet.Service

	clk *testkit.Clock

	// merchant 1's accounts, which payments pay into.
	merchant wallet.MerchantAccounts
}

func newFixture(t *testing.T, db *storage.DB, bankCfg ...bank.SimulatorConfig) *fixture {
	t.Helper()
	f := &fixture{db: db, clk: testkit.NewClock(start)}
	var cfg bank.SimulatorConfig
	if len(bankCfg) > 0 {
		cfg = bankCfg[0]
	}
	cfg.Clock = f.clock
	f.bank = bank.NewSimulator(cfg)
	t.Cleanup(f.bank.Close)
	f.ledger = ledger.New(ledger.NewGormStore(db), ledger.WithClock(f.clock))
	t.Cleanup(f.ledger.Close)
	f.svc = f.newService(t)
	f.merchant = wallet.MerchantAccounts{
		Pending:   f.account(t, "merchant:1:pending", "merchant_pending").ID,
		Marketing: f.account(t, "merchant:1:marketing", "merchant_marketing").ID,
	}
	// Every test ends with a sound book, whatever it did.
	t.Cleanup(func() { f.mustBeSound(t) })
	return f
}

// newService starts another service over the same database, as a second
// instance or a restart would.
func (f *fixture) newService(t *testing.T) *wallet.Service {
	t.Helper()
	return f.serviceOn(t, f.ledger)
}

// serviceOn is newService posting through l, another instance's ledger.
func (f *fixture) serviceOn(t *testing.T, l *ledger.Ledger) *wallet.Service {
	t.Helper()
	svc, err := wallet.New(context.Background(), wallet.Config{
		Store: wallet.NewGormStore(f.db, wallet.MustSealer(testDataKey)), Ledger: l, Bank: f.bank, Attempts: storage.NewAttempts(f.db, f.clock), Clock: f.clock,
		Passwords: paydesk.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}, // cheap hashing keeps tests fast
	})
	if err != nil {
		t.Fatalf("new wallet service: %v", err)
	}
	return svc
}

func (f *fixture) clock() time.Time { return f.clk.Now() }

func (f *fixture) advance(d time.Duration) { f.clk.Advance(d) }

func (f *fixture) account(t *testing.T, code, typ string) ledger.Account {
	t.Helper()
	a, err := f.ledger.CreateAccount(context.Background(), ledger.Account{Code: code, Type: typ, Currency: "CNY"})
	if err != nil {
		t.Fatalf("create account %s: %v", code, err)
	}
	return a
}

func (f *fixture) balance(t *testing.T, code string) paydesk.Amount {
	t.Helper()
	a, err := f.ledger.AccountByCode(context.Background(), code)
	if err != nil {
		t.Fatalf("account %s: %v", code, err)
	}
	return a.Balance
}

func (f *fixture) mustBeSound(t *testing.T) ledger.CheckReport {
	t.Helper()
	r, err := f.ledger.Check(context.Background())
	if err != nil {
		t.Fatalf("ledger check: %v", err)
	}
	if !r.OK() {
		t.Fatalf("the book is not sound: %+v", r)
	}
	return r
}

func (f *fixture) register(t *testing.T, phone string) wallet.WalletID {
	t.Helper()
	id, err := f.svc.Register(context.Background(), phone, "correct horse")
	if err != nil {
		t.Fatalf("register %s: %v", phone, err)
	}
	return id
}

func (f *fixture) bindCard(t *testing.T, id wallet.WalletID, number string) bank.Card {
	t.Helper()
	c, err := f.svc.BindCard(context.Background(), id, banktest.Card(number))
	if err != nil {
		t.Fatalf("bind card %s: %v", number, err)
	}
	return c
}

// fund gives a wallet cash through a card top-up (binding a card if needed).
func (f *fixture) fund(t *testing.T, id wallet.WalletID, amount paydesk.Amount, ref string) {
	t.Helper()
	if _, err := f.svc.TopUp(context.Background(), id, amount, ref); errors.Is(err, wallet.ErrNoCard) {
		f.bindCard(t, id, bank.SimCardOK)
		_, err = f.svc.TopUp(context.Background(), id, amount, ref)
		if err != nil {
			t.Fatalf("top up: %v", err)
		}
	} else if err != nil {
		t.Fatalf("top up: %v", err)
	}
}

func (f *fixture) cash(t *testing.T, id wallet.WalletID) paydesk.Amount {
	t.Helper()
	return f.balance(t, wallet.CashAccountCode(id))
}

// pay prepares and posts a payment the way the POS does.
func (f *fixture) pay(ctx context.Context, id wallet.WalletID, merchant int64, amount paydesk.Amount, ref string) (wallet.Funding, error) {
	p, err := f.svc.PreparePayment(ctx, wallet.PaymentRequest{Wallet: id, Merchant: merchant, Amount: amount, Reference: ref, To: f.merchant})
	if err != nil {
		return wallet.Funding{}, err
	}
	_, err = f.ledger.Post(ctx, ledger.Transfer{Reference: ref, Kind: "payment", Postings: p.Postings}, p.Work)
	return p.Funding, p.Explain(err)
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := paydesk.ErrorCode(err); got != code {
		t.Fatalf("%s: error %v (code %q), want %s", what, err, got, code)
	}
}

func paydeskAmount(n int64) paydesk.Amount { return paydesk.Amount(n) }

func bankCard(number string) bank.CardDetails { return banktest.Card(number) }
