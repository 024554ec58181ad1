package pos_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/internal/testkit"
	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/merchant"
	"github.com/paydesk/paydesk/pos"
	"github.com/paydesk/paydesk/rbac"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
	"github.com/paydesk/paydesk/wallet"
)

var cheap = paydesk.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}

// shop is a merchant with a cashier, wallets to pay with, and the POS.
type shop struct {
	db       *storage.DB
	ledger   *ledger.Ledger
	wallets  *wallet.Service
	pos      *pos.Service
	merchant merchant.Merchant
	cashier  cashier.Actor
	bank     *bank.Simulator
	// clk is the shop's clock, which the tests move.
	clk *testkit.Clock
}

func (s *shop) clock() time.Time { return s.clk.Now() }

func (s *shop) advance(d time.Duration) { s.clk.Advance(d) }

func newShop(t testing.TB, db *storage.DB) *shop {
	t.Helper()
	ctx := context.Background()
	s := &shop{db: db, clk: testkit.NewClock(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))}
	sim := bank.NewSimulator(bank.SimulatorConfig{Clock: s.clock})
	t.Cleanup(sim.Close)
	s.bank = sim
	in := s.instance(t)
	s.ledger, s.wallets, s.pos = in.ledger, in.wallets, in.pos
	merchants := in.merchants
	opened, err := merchants.CreateMerchant(ctx, merchant.NewMerchant{Name: "Lotus Tea", OwnerName: "Li", OwnerPhone: "13800000001", OwnerPassword: "owner-pass-1"})
	if err != nil {
		t.Fatal(err)
	}
	s.merchant = opened.Merchant
	cash, err := merchants.Staff().Add(ctx, cashier.Actor{StaffID: opened.Owner.ID, MerchantID: opened.Merchant.ID, Role: rbac.Owner},
		cashier.NewStaff{Name: "Wang", Phone: "13700000001", Password: "cashier-pass", Role: rbac.Cashier, StoreID: opened.Store.ID})
	if err != nil {
		t.Fatal(err)
	}
	s.cashier = cashier.Actor{StaffID: cash.ID, MerchantID: cash.MerchantID, StoreID: cash.StoreID, Role: rbac.Cashier}
	t.Cleanup(func() {
		r, err := s.ledger.Check(context.Background())
		if err != nil || !r.OK() {
			t.Errorf("the book is not sound: %+v %v", r, err)
		}
	})
	return s
}

// instance is one paydesk instance's services over the shop's database.
type instance struct {
	ledger    *ledger.Ledger
	wallets   *wallet.Service
	merchants *merchant.Service
	pos       *pos.Service
}

// instance starts the services of a paydesk instance over the shop's
// database, clock and bank: the shop's own, or a second one beside it.
func (s *shop) instance(t testing.TB) instance {
	t.Helper()
	in := instance{ledger: ledger.New(ledger.NewGormStore(s.db), ledger.WithClock(s.clock))}
	t.Cleanup(in.ledger.Close)
	attempts := storage.NewAttempts(s.db, s.clock)
	in.merchants = merchant.NewService(merchant.NewGormStorage(s.db), in.ledger,
		cashier.NewService(cashier.NewGormStorage(s.db), merchant.NewGormStorage(s.db), attempts, s.clock, cashier.WithPasswords(cheap)), s.clock)
	var err error
	in.wallets, err = wallet.New(context.Background(), wallet.Config{Store: wallet.NewGormStore(s.db, wallet.MustSealer(make([]byte, wallet.DataKeyLen))),
		Ledger: in.ledger, Bank: s.bank, Attempts: attempts, Clock: s.clock, Passwords: cheap})
	if err != nil {
		t.Fatal(err)
	}
	in.pos = pos.NewService(pos.NewGormStorage(s.db), in.ledger, in.wallets, in.merchants, s.clock, pos.Config{})
	return in
}

// customer registers a wallet with a card and tops it up with cash.
func (s *shop) customer(t testing.TB, phone string, cash paydesk.Amount) wallet.WalletID {
	t.Helper()
	ctx := context.Background()
	w, err := s.wallets.Register(ctx, phone, "customer-pass")
	if err != nil {
		t.Fatal(err)
	}
	if cash > 0 {
		if _, err := s.wallets.BindCard(ctx, w, bank.CardDetails{Number: bank.SimCardOK, Holder: "C", ExpiryMonth: 12, ExpiryYear: 2030}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.wallets.TopUp(ctx, w, cash, "topup-"+phone); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// code returns a fresh payment code of w: codes are per 10-second step and
// single-use, so the clock moves to the next step first.
func (s *shop) code(t testing.TB, w wallet.WalletID) string {
	t.Helper()
	s.advance(10 * time.Second)
	code, _, err := s.wallets.PaymentCode(context.Background(), w)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func (s *shop) cash(t testing.TB, w wallet.WalletID) paydesk.Amount {
	t.Helper()
	v, err := s.wallets.Wallet(context.Background(), w)
	if err != nil {
		t.Fatal(err)
	}
	return v.Cash
}

func (s *shop) pending(t testing.TB) paydesk.Amount {
	t.Helper()
	b, err := s.ledger.Balance(context.Background(), s.merchant.Accounts.Pending)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := paydesk.ErrorCode(err); got != code {
		t.Fatalf("error %v has code %q, want %q", err, got, code)
	}
}

func TestScanPayment(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		w := s.customer(t, "13900000001", 10000)

		o1code := s.code(t, w)
		o, err := s.pos.TakeScanPayment(ctx, s.cashier, pos.ScanPayment{OutTradeNo: "T1", Amount: 1250, PaymentCode: o1code})
		if err != nil || o.State != pos.Paid || o.Funding.Cash != 1250 || o.Fee != 5 {
			t.Fatalf("scan = %+v, %v", o, err)
		}
		if got := s.cash(t, w); got != 8750 {
			t.Errorf("wallet cash = %d, want 8750", got)
		}
		if got := s.pending(t); got != 1245 {
			t.Errorf("merchant pending = %d, want 1250 - fee 5", got)
		}
		// The same request again (the cashier's app retried after a
		// timeout): the same order, no second charge.
		again, err := s.pos.TakeScanPayment(ctx, s.cashier, pos.ScanPayment{OutTradeNo: "T1", Amount: 1250, PaymentCode: o1code})
		if err != nil || again.ID != o.ID || s.cash(t, w) != 8750 {
			t.Fatalf("retry = %+v, %v", again, err)
		}
		// Another code under the same number is another payment: refused,
		// and its payer is not charged.
		_, err = s.pos.TakeScanPayment(ctx, s.cashier, pos.ScanPayment{OutTradeNo: "T1", Amount: 1250, PaymentCode: s.code(t, w)})
		wantCode(t, err, "IDEMPOTENCY_CONFLICT")
		_, err = s.pos.TakeScanPayment(ctx, s.cashier, pos.ScanPayment{OutTradeNo: "T1", Amount: 1251, PaymentCode: o1code})
		wantCode(t, err, "IDEMPOTENCY_CONFLICT")
		if s.cash(t, w) != 8750 {
			t.Fatalf("a conflict charged the payer")
		}

		// Insufficient funds: the order closes with the refusal, nothing
		// moves, and the number is free for another attempt: refused again
		// while the money is missing.
		poor := s.customer(t, "13900000002", 0)
		o2, err := s.pos.TakeScanPayment(ctx, s.cashier, pos.ScanPayment{OutTradeNo: "T2", Amount: 500, PaymentCode: s.code(t, poor)})
		wantCode(t, err, "INSUFFICIENT_FUNDS")
		if o2.State != pos.Closed || o2.CloseReason != "INSUFFICIENT_FUNDS" {
			t.Errorf("refused order = %+v", o2)
		}
		_, err = s.pos.TakeScanPayment(ctx, s.cashier, pos.ScanPayment{OutTradeNo: "T2", Amount: 500, PaymentCode: s.code(t, poor)})
		wantCode(t, err, "INSUFFICIENT_FUNDS")

		// A used code is refused.
		code := s.code(t, w)
		if _, err := s.pos.TakeScanPayment(ctx, s.cashier, pos.ScanPayment{OutTradeNo: "T3", Amount: 100, PaymentCode: code}); err != nil {
			t.Fatal(err)
		}
		_, err = s.pos.TakeScanPayment(ctx, s.cashier, pos.ScanPayment{OutTradeNo: "T4", Amount: 100, PaymentCode: code})
		wantCode(t, err, "PAYMENT_CODE_USED")
		// ... and never reaches the card, even when the wallet would need it.
		code = s.code(t, w)
		if o, err := s.pos.TakeScanPayment(ctx, s.cashier, pos.ScanPayment{OutTradeNo: "T8", Amount: 9000, PaymentCode: code}); err != nil || o.Funding.Card == 0 {
			t.Fatalf("payment with a card shortfall = %+v, %v", o, err)
		}
		debits := len(s.bank.Debits())
		_, err = s.pos.TakeScanPayment(ctx, s.cashier, pos.ScanPayment{OutTradeNo: "T9", Amount: 9000, PaymentCode: code})
		wantCode(t, err, "PAYMENT_CODE_USED")
		if n := len(s.bank.Debits()); n != debits {
			t.Errorf("a used code charged the card: %d debits, want %d", n, debits)
		}
		for _, bad := range []pos.ScanPayment{{OutTradeNo: "T5", Amount: 0, PaymentCode: code}, {OutTradeNo: "T6", Amount: -1, PaymentCode: code}, {OutTradeNo: "T7", Amount: 100_000_001, PaymentCode: code}, {OutTradeNo: "bad no", Amount: 1, PaymentCode: code}} {
			if _, err := s.pos.TakeScanPayment(ctx, s.cashier, bad); paydesk.AsError(err).Kind != paydesk.KindInvalid {
				t.Errorf("%+v: err = %v, want an invalid-argument error", bad, err)
			}
		}
	})
}

func TestPayerConfirmation(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		w := s.customer(t, "13900000001", 500_000)
		big := paydesk.Amount(150_000) // above the 1,000.00 no-password limit
		o, err := s.pos.TakeScanPayment(ctx, s.cashier, pos.ScanPayment{OutTradeNo: "B1", Amount: big, PaymentCode: s.code(t, w)})
		if err != nil || o.State != pos.Paying {
			t.Fatalf("big scan = %+v, %v", o, err)
		}
		if s.cash(t, w) != 500_000 {
			t.Fatal("charged before confirmation")
		}
		paid, err := s.pos.ConfirmPayment(ctx, w, o.ID)
		if err != nil || paid.State != pos.Paid || s.cash(t, w) != 350_000 {
			t.Fatalf("confirm = %+v, %v", paid, err)
		}
		// Confirming again (the app lost the answer) answers the paid order
		// and charges nothing more.
		if again, err := s.pos.ConfirmPayment(ctx, w, o.ID); err != nil || again.State != pos.Paid || s.cash(t, w) != 350_000 {
			t.Errorf("second confirm: %+v, %v", again, err)
		}
		if _, err := s.pos.DeclinePayment(ctx, w, o.ID); !errors.Is(err, pos.ErrNotAwaitingPayer) {
			t.Errorf("declining a paid payment: %v", err)
		}

		o2, _ := s.pos.TakeScanPayment(ctx, s.cashier, pos.ScanPayment{OutTradeNo: "B2", Amount: big, PaymentCode: s.code(t, w)})
		if d, err := s.pos.DeclinePayment(ctx, w, o2.ID); err != nil || d.State != pos.Closed || d.CloseReason != pos.ReasonDeclined {
			t.Fatalf("decline = %+v, %v", d, err)
		}
		if d, err := s.pos.DeclinePayment(ctx, w, o2.ID); err != nil || d.State != pos.Closed || d.CloseReason != pos.ReasonDeclined {
			t.Fatalf("second decline = %+v, %v", d, err)
		}
		if _, err := s.pos.ConfirmPayment(ctx, w, o2.ID); !errors.Is(err, pos.ErrNotAwaitingPayer) {
			t.Fatalf("confirming a declined payment: %v", err)
		}
		if c, err := s.pos.CloseOrder(ctx, s.cashier, o2.ID); err != nil || c.State != pos.Closed || c.CloseReason != pos.ReasonDeclined {
			t.Fatalf("closing a closed order = %+v, %v", c, err)
		}

		o3, _ := s.pos.TakeScanPayment(ctx, s.cashier, pos.ScanPayment{OutTradeNo: "B3", Amount: big, PaymentCode: s.code(t, w)})
		s.advance(61 * time.Second)
		if n, err := s.pos.CloseExpired(ctx); err != nil || n != 1 {
			t.Fatalf("closer closed %d, %v", n, err)
		}
		if _, err := s.pos.ConfirmPayment(ctx, w, o3.ID); err == nil {
			t.Fatal("confirmed an expired payment")
		}
		if s.cash(t, w) != 350_000 {
			t.Errorf("cash = %d: a declined or expired payment charged", s.cash(t, w))
		}
	})
}

func TestCollectionQRAndLink(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		a := s.customer(t, "13900000001", 10000)
		b := s.customer(t, "13900000002", 10000)
		o, err := s.pos.CreateCollectionQR(ctx, s.cashier, pos.Collection{OutTradeNo: "Q1", Amount: 3000})
		if err != nil || o.State != pos.Created || o.PayToken == "" {
			t.Fatalf("qr = %+v, %v", o, err)
		}
		kind, token, err := pos.ParseQRPayload(s.pos.PayURL(o))
		if err != nil || kind != pos.PayloadOrder || token != o.PayToken {
			t.Fatalf("payload %q parses to %s %s %v", s.pos.PayURL(o), kind, token, err)
		}
		// Two wallets scan the same QR at once: one pays, the other is told.
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, w := range []wallet.WalletID{a, b} {
			wg.Go(func() { _, errs[i] = s.pos.PayOrder(ctx, w, token) })
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Fatalf("two payers of one QR: %v / %v; want exactly one success", errs[0], errs[1])
		}
		if s.cash(t, a)+s.cash(t, b) != 17000 {
			t.Errorf("cash %d + %d: the QR was paid twice or not at all", s.cash(t, a), s.cash(t, b))
		}

		// A link survives a failed payment and can be paid after.
		link, _ := s.pos.CreatePaymentLink(ctx, s.cashier, pos.Collection{OutTradeNo: "L1", Amount: 20000, Subject: "Tea set"})
		_, err = s.pos.PayOrder(ctx, s.customer(t, "13900000009", 0), link.PayToken)
		wantCode(t, err, "INSUFFICIENT_FUNDS")
		c := s.customer(t, "13900000003", 30000)
		if paid, err := s.pos.PayOrder(ctx, c, link.PayToken); err != nil || paid.State != pos.Paid {
			t.Fatalf("link retry = %+v, %v", paid, err)
		}

		// An unpaid QR expires and cannot be paid after.
		late, _ := s.pos.CreateCollectionQR(ctx, s.cashier, pos.Collection{OutTradeNo: "Q2", Amount: 100})
		s.advance(6 * time.Minute)
		_, err = s.pos.PayOrder(ctx, a, late.PayToken)
		wantCode(t, err, "ORDER_EXPIRED")
		s.pos.CloseExpired(ctx)
		_, err = s.pos.PayOrder(ctx, a, late.PayToken)
		wantCode(t, err, "ORDER_CLOSED")
	})
}

func TestStoreQRAndDynamicPassword(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		w := s.customer(t, "13900000001", 10000)
		st, err := s.merchantsStore(t)
		if err != nil {
			t.Fatal(err)
		}
		o, err := s.pos.PayStore(ctx, w, st.QRToken, 777)
		if err != nil || o.State != pos.Paid || o.CashierID != 0 || o.StoreID != st.ID || o.Method != pos.MethodStoreQR {
			t.Fatalf("store qr = %+v, %v", o, err)
		}
		pw, err := s.wallets.DynamicPassword(ctx, w)
		if err != nil {
			t.Fatal(err)
		}
		o2, err := s.pos.TakeDynamicPasswordPayment(ctx, s.cashier, pos.DynamicPasswordPayment{OutTradeNo: "D1", Amount: 223, Phone: "13900000001", Password: pw.Password})
		if err != nil || o2.State != pos.Paid {
			t.Fatalf("dynamic password = %+v, %v", o2, err)
		}
		_, err = s.pos.TakeDynamicPasswordPayment(ctx, s.cashier, pos.DynamicPasswordPayment{OutTradeNo: "D2", Amount: 1, Phone: "13900000001", Password: "000000"})
		if paydesk.ErrorCode(err) != "DYNAMIC_PASSWORD_WRONG" && paydesk.ErrorCode(err) != "DYNAMIC_PASSWORD_USED" {
			t.Fatalf("wrong password: %v", err)
		}
		if got := s.cash(t, w); got != 10000-777-223 {
			t.Errorf("cash = %d", got)
		}
	})
}

func (s *shop) merchantsStore(t *testing.T) (merchant.Store, error) {
	var st merchant.Store
	err := s.db.Reader(context.Background()).Raw("SELECT id, merchant_id, name, qr_token FROM stores WHERE merchant_id = ? LIMIT 1", s.merchant.ID).
		Row().Scan(&st.ID, &st.MerchantID, &st.Name, &st.QRToken)
	return st, err
}

// Many cashiers, many wallets, one merchant account: nothing lost, nothing doubled.
func TestConcurrentScanPayments(t *testing.T) {
	const cashiers, perCashier = 8, 25
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		// One wallet per payment: a wallet shows one code per 10-second step.
		codes := make([][]string, cashiers)
		for c := range codes {
			for i := range perCashier {
				w := s.customer(t, fmt.Sprintf("139%04d%04d", c, i), 5000)
				code, _, err := s.wallets.PaymentCode(ctx, w)
				if err != nil {
					t.Fatal(err)
				}
				codes[c] = append(codes[c], code)
			}
		}
		var wg sync.WaitGroup
		for c := range cashiers {
			wg.Go(func() {
				for i := range perCashier {
					_, err := s.pos.TakeScanPayment(ctx, s.cashier, pos.ScanPayment{OutTradeNo: fmt.Sprintf("C%d-%d", c, i), Amount: 1000, PaymentCode: codes[c][i]})
					if err != nil {
						t.Errorf("payment %d-%d: %v", c, i, err)
						return
					}
				}
			})
		}
		wg.Wait()
		want := paydesk.Amount(cashiers*perCashier) * (1000 - 4)
		if got := s.pending(t); got != want {
			t.Errorf("merchant pending = %d, want %d", got, want)
		}
	})
}
