package settlement_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/internal/app/apptest"
	"github.com/paydesk/paydesk/internal/testkit"
	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/merchant"
	"github.com/paydesk/paydesk/pos"
	"github.com/paydesk/paydesk/rbac"
	"github.com/paydesk/paydesk/settlement"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/wallet"
)

// shanghai is where the test merchants do business.
var shanghai, _ = time.LoadLocation("Asia/Shanghai")

// testStart is 09:00 on Wednesday 25 November 2026 in Shanghai.
var testStart = time.Date(2026, 11, 25, 1, 0, 0, 0, time.UTC)

const callbackSecret = "bank-callback-secret"

// events records what the service emits, in order.
type events struct {
	mu  sync.Mutex
	all []settlement.Event
}

func (e *events) Emit(_ context.Context, ev settlement.Event) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, ev)
	return nil
}

// states returns the states the events of one batch or withdrawal went
// through, in order.
func (e *events) states(typ string, id int64) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range e.all {
		if ev.Type != typ {
			continue
		}
		switch d := ev.Data.(type) {
		case settlement.Batch:
			if d.ID == id {
				out = append(out, string(d.State))
			}
		case settlement.Withdrawal:
			if d.ID == id {
				out = append(out, string(d.State))
			}
		}
	}
	return out
}

// world is paydesk's money side on one real database: the ledger,
// merchants, wallets, the POS, the simulated bank and settlement.
type world struct {
	db        *storage.DB
	clock     *testkit.Clock
	ledger    *ledger.Ledger
	merchants *merchant.Service
	wallets   *wallet.Service
	pos       *pos.Service
	bank      *bank.Simulator
	svc       *settlement.Service
	events    *events
	phones    int
}

// setup is what options may change before a world is built.
type setup struct {
	bank     bank.SimulatorConfig
	cfg      settlement.Config
	wrapBank func(bank.Channel) bank.Channel
}

type worldOption func(*setup)

// noCallbacks makes the bank send no callbacks: the test delivers them.
func noCallbacks(s *setup) { s.bank.Deliver = nil }

// newWorld builds the services on db as cmd/paydesk does (internal/app),
// but for the clock, the cheap passwords and the bank, and the settlement
// service under test beside them: on the same ledger and merchants, with
// the bank channel opts may wrap and its events recorded.
func newWorld(t testing.TB, db *storage.DB, opts ...worldOption) *world {
	t.Helper()
	w := &world{db: db, clock: testkit.NewClock(testStart), events: &events{}}
	su := setup{bank: bank.SimulatorConfig{ManualPayouts: true, CallbackSecret: []byte(callbackSecret),
		Deliver: func(ctx context.Context, body []byte, sig string) error {
			_, err := w.svc.HandleCallback(ctx, body, sig)
			return err
		}}, cfg: settlement.Config{CallbackSecret: []byte(callbackSecret)}}
	for _, o := range opts {
		o(&su)
	}
	s := apptest.Settings()
	s.Bank, s.Settlement = su.bank, su.cfg
	a := apptest.Build(t, db, s, w.clock.Now)
	w.ledger, w.merchants, w.wallets, w.pos, w.bank = a.Ledger, a.Merchants, a.Wallets, a.POS, a.Bank
	var channel bank.Channel = w.bank
	if su.wrapBank != nil {
		channel = su.wrapBank(w.bank)
	}
	w.svc = settlement.New(settlement.Deps{DB: db, Ledger: w.ledger, Merchants: w.merchants, Bank: channel, Events: w.events, Clock: w.clock.Now}, su.cfg)
	t.Cleanup(func() {
		r, err := w.ledger.Check(context.Background())
		if err != nil || !r.OK() {
			t.Errorf("the book is not sound: %+v %v", r, err)
		}
	})
	return w
}

// shop is a merchant with a cashier (and an owner, who withdraws).
type shop struct {
	merchant.Merchant
	owner   cashier.Actor
	cashier cashier.Actor
}

func (w *world) nextPhone() string {
	w.phones++
	return fmt.Sprintf("1380000%04d", w.phones)
}

// openShop opens a merchant with settlement cycle T+days and binds account.
func (w *world) openShop(t testing.TB, name string, days int, account string) *shop {
	t.Helper()
	ctx := context.Background()
	opened, err := w.merchants.CreateMerchant(ctx, merchant.NewMerchant{Name: name, OwnerName: "Owner", OwnerPhone: w.nextPhone(),
		OwnerPassword: "owner-pass-1", SettlementDays: days, SettleSameDay: days == 0})
	if err != nil {
		t.Fatal(err)
	}
	owner := cashier.Actor{StaffID: opened.Owner.ID, MerchantID: opened.Merchant.ID, Role: rbac.Owner}
	c, err := w.merchants.Staff().Add(ctx, owner, cashier.NewStaff{Name: "Cashier", Phone: w.nextPhone(), Password: "cashier-pass", Role: rbac.Cashier, StoreID: opened.Store.ID})
	if err != nil {
		t.Fatal(err)
	}
	if account != "" {
		if _, err := w.svc.SetBankAccount(ctx, opened.Merchant.ID, bank.BankAccount{Number: account, Holder: name + " Ltd", BankName: "ICBC"}); err != nil {
			t.Fatal(err)
		}
	}
	return &shop{Merchant: opened.Merchant, owner: owner,
		cashier: cashier.Actor{StaffID: c.ID, MerchantID: c.MerchantID, StoreID: c.StoreID, Role: rbac.Cashier}}
}

// customer registers a wallet with a card and tops it up.
func (w *world) customer(t testing.TB, cash paydesk.Amount) wallet.WalletID {
	t.Helper()
	ctx := context.Background()
	phone := w.nextPhone()
	id, err := w.wallets.Register(ctx, phone, "customer-pass")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.wallets.BindCard(ctx, id, bank.CardDetails{Number: bank.SimCardOK, Holder: "C", ExpiryMonth: 12, ExpiryYear: 2030}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.wallets.TopUp(ctx, id, cash, "topup-"+phone); err != nil {
		t.Fatal(err)
	}
	return id
}

// pay takes a scan-code payment of amount at s from wallet c.
func (w *world) pay(t testing.TB, s *shop, c wallet.WalletID, outTradeNo string, amount paydesk.Amount) pos.Order {
	t.Helper()
	ctx := context.Background()
	w.clock.Advance(10 * time.Second) // payment codes are per 10-second step
	code, _, err := w.wallets.PaymentCode(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	o, err := w.pos.TakeScanPayment(ctx, s.cashier, pos.ScanPayment{OutTradeNo: outTradeNo, Amount: amount, PaymentCode: code})
	if err != nil || o.State != pos.Paid {
		t.Fatalf("pay %s at %s: %+v %v", amount, s.Name, o, err)
	}
	return o
}

// refund gives amount of order o back through the POS.
func (w *world) refund(t testing.TB, s *shop, o pos.Order, refundNo string, amount paydesk.Amount) pos.Refund {
	t.Helper()
	manager := cashier.Actor{StaffID: s.owner.StaffID, MerchantID: s.ID, Role: rbac.Owner}
	r, _, err := w.pos.RefundOrder(context.Background(), manager, o.ID, pos.RefundRequest{RefundNo: refundNo, Amount: amount, Reason: "customer changed mind"})
	if err != nil {
		t.Fatalf("refund %s of order %d: %v", amount, o.ID, err)
	}
	return r
}

// balance returns s's balances, checked against the ledger's accounts.
func (w *world) balance(t testing.TB, s *shop) settlement.Balance {
	t.Helper()
	ctx := context.Background()
	b, err := w.svc.Balance(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []struct {
		id  ledger.AccountID
		got paydesk.Amount
	}{{s.Accounts.Pending, b.Pending}, {s.Accounts.Available, b.Available}, {s.Accounts.Frozen, b.Frozen}} {
		if want, err := w.ledger.Balance(ctx, a.id); err != nil || want != a.got {
			t.Fatalf("balance of account %d = %s, the ledger says %s (%v)", a.id, a.got, want, err)
		}
	}
	if b.Book != b.Pending+b.Available+b.Frozen {
		t.Fatalf("book %s is not pending + available + frozen: %+v", b.Book, b)
	}
	return b
}

// agree checks, at this moment, that s's balances are what its batches
// and payouts account for, and that a statement up to today agrees with
// the balances to the cent. It returns the balances.
func (w *world) agree(t testing.TB, s *shop) settlement.Balance {
	t.Helper()
	ctx := context.Background()
	b := w.balance(t, s)
	r, err := w.svc.Check(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() {
		t.Fatalf("%s: balances disagree with the batches: %s", s.Name, r)
	}
	today := settlement.DayOf(w.clock.Now().In(shanghai))
	st := w.statement(t, s, settlement.DayOf(testStart.In(shanghai)).AddDays(-1), today)
	for acc, want := range map[string]paydesk.Amount{"pending": b.Pending, "available": b.Available, "frozen": b.Frozen} {
		if got := st[acc].closing; got != want {
			t.Fatalf("%s: statement closes %s at %s, the balance is %s", s.Name, acc, got, want)
		}
	}
	return b
}

// section is one account's part of a statement.
type section struct {
	opening, credits, debits, closing paydesk.Amount
	entries                           [][]string
}

// statement downloads s's statement for from..to and checks its arithmetic:
// every row's balance follows from the one before, and opening + credits −
// debits = closing, the closing row's totals included.
func (w *world) statement(t testing.TB, s *shop, from, to settlement.Day) map[string]*section {
	t.Helper()
	st, err := w.svc.OpenStatement(context.Background(), s.ID, from, to)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := st.WriteCSV(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	return parseStatement(t, buf.Bytes())
}

func parseStatement(t testing.TB, raw []byte) map[string]*section {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil {
		t.Fatalf("statement is not CSV: %v", err)
	}
	if strings.Join(rows[0], ",") != strings.Join(settlement.StatementHeader, ",") {
		t.Fatalf("statement header %v", rows[0])
	}
	out := map[string]*section{}
	var cur *section
	var running paydesk.Amount
	for i, r := range rows[1:] {
		amt := func(col int) paydesk.Amount {
			if r[col] == "" {
				return 0
			}
			f, err := parseMoney(r[col])
			if err != nil {
				t.Fatalf("row %d column %d: %v", i+2, col, err)
			}
			return f
		}
		switch r[1] {
		case "opening":
			cur = &section{opening: amt(9)}
			out[r[0]] = cur
			running = cur.opening
		case "entry":
			cur.debits += amt(7)
			cur.credits += amt(8)
			running += amt(8) - amt(7)
			if running != amt(9) {
				t.Fatalf("row %d: balance %s, but the rows before add up to %s", i+2, amt(9), running)
			}
			cur.entries = append(cur.entries, r)
		case "closing":
			cur.closing = amt(9)
			if cur.opening+cur.credits-cur.debits != cur.closing || amt(7) != cur.debits || amt(8) != cur.credits {
				t.Fatalf("%s: opening %s + credits %s - debits %s != closing %s (closing row totals %s %s)", r[0],
					cur.opening, cur.credits, cur.debits, cur.closing, amt(8), amt(7))
			}
		default:
			t.Fatalf("row %d: unknown row type %q", i+2, r[1])
		}
	}
	if len(out) != 3 || out["pending"] == nil || out["available"] == nil || out["frozen"] == nil {
		t.Fatalf("statement sections: %v", out)
	}
	return out
}

func parseMoney(s string) (paydesk.Amount, error) {
	neg := strings.HasPrefix(s, "-")
	whole, frac, _ := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || len(frac) != 2 {
		return 0, fmt.Errorf("amount %q", s)
	}
	f, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("amount %q", s)
	}
	a := paydesk.Amount(w*100 + f)
	if neg {
		a = -a
	}
	return a, nil
}

// tick runs the scheduler once, failing the test on an error.
func (w *world) tick(t testing.TB) {
	t.Helper()
	if err := w.svc.Tick(context.Background()); err != nil {
		t.Fatalf("tick: %v", err)
	}
}

// batchOf returns the batch of s for day.
func (w *world) batchOf(t testing.TB, s *shop, day settlement.Day) settlement.Batch {
	t.Helper()
	bs, _, err := w.svc.Batches(context.Background(), s.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		if b.BusinessDay == day {
			return b
		}
	}
	t.Fatalf("%s has no batch for %s (has %d)", s.Name, day, len(bs))
	return settlement.Batch{}
}

func wantState(t testing.TB, what string, got, want settlement.State) {
	t.Helper()
	if got != want {
		t.Fatalf("%s is %s, want %s", what, got, want)
	}
}

func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if got := paydesk.ErrorCode(err); got != code {
		t.Fatalf("error %v has code %q, want %q", err, got, code)
	}
}
