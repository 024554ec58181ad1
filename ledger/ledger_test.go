package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// book is a ledger over a fresh database with a few accounts.
type book struct {
	*ledger.Ledger
	db       *storage.DB
	world    ledger.Account // the outside world: may go negative
	merchant ledger.Account
	customer ledger.Account
}

func newBook(t testing.TB, db *storage.DB) *book {
	t.Helper()
	l := ledger.New(ledger.NewGormStore(db))
	t.Cleanup(l.Close)
	b := &book{Ledger: l, db: db}
	b.world = b.account(t, "bank:clearing", "bank_clearing", true)
	b.merchant = b.account(t, "merchant:1:pending", "merchant_pending", false)
	b.customer = b.account(t, "wallet:1:cash", "wallet_cash", false)
	return b
}

func (b *book) account(t testing.TB, code, typ string, allowNegative bool) ledger.Account {
	t.Helper()
	a, err := b.CreateAccount(context.Background(), ledger.Account{Code: code, Type: typ, Currency: "CNY", AllowNegative: allowNegative})
	if err != nil {
		t.Fatalf("create account %s: %v", code, err)
	}
	return a
}

func (b *book) balance(t testing.TB, a ledger.Account) paydesk.Amount {
	t.Helper()
	bal, err := b.Balance(context.Background(), a.ID)
	if err != nil {
		t.Fatalf("balance of %s: %v", a.Code, err)
	}
	return bal
}

// mustBeSound fails the test unless the whole book checks out.
func (b *book) mustBeSound(t testing.TB) ledger.CheckReport {
	t.Helper()
	r, err := b.Check(context.Background())
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	if !r.OK() {
		t.Fatalf("the book is not sound: %+v", r)
	}
	return r
}

func move(ref string, from, to ledger.Account, amt paydesk.Amount) ledger.Transfer {
	return ledger.Transfer{Reference: ref, Kind: "test", Postings: []ledger.Posting{{Source: from.ID, Destination: to.ID, Amount: amt}}}
}

func TestPostMovesMoneyAndKeepsEntries(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		b := newBook(t, db)
		if _, err := b.Post(ctx, move("topup-1", b.world, b.customer, 10000), nil); err != nil {
			t.Fatal(err)
		}
		tr, err := b.Post(ctx, ledger.Transfer{Reference: "pay-1", Kind: "payment", Postings: []ledger.Posting{
			{Source: b.customer.ID, Destination: b.merchant.ID, Amount: 1250},
			{Source: b.customer.ID, Destination: b.merchant.ID, Amount: 50},
		}}, nil)
		if err != nil || tr.ID == 0 || tr.Replayed {
			t.Fatalf("post = %+v, %v", tr, err)
		}
		if got := b.balance(t, b.customer); got != 8700 {
			t.Errorf("customer balance = %d, want 8700", got)
		}
		if got := b.balance(t, b.merchant); got != 1300 {
			t.Errorf("merchant balance = %d, want 1300", got)
		}
		es, err := b.Entries(ctx, ledger.EntryFilter{AccountID: b.customer.ID})
		if err != nil {
			t.Fatal(err)
		}
		want := []struct{ amt, after paydesk.Amount }{{10000, 10000}, {-1250, 8750}, {-50, 8700}}
		if len(es) != len(want) {
			t.Fatalf("%d entries, want %d", len(es), len(want))
		}
		for i, w := range want {
			if es[i].Amount != w.amt || es[i].BalanceAfter != w.after || es[i].Seq != int64(i+1) {
				t.Errorf("entry %d = %+v, want amount %d after %d seq %d", i, es[i], w.amt, w.after, i+1)
			}
		}
		if st := b.Stats(); st.Transfers != 2 || st.Batches != 2 || st.Busy <= 0 {
			t.Errorf("stats after two posts = %+v", st)
		}
		bal, err := b.Balances(ctx, b.customer.ID, b.merchant.ID)
		if err != nil || len(bal) != 2 || bal[b.customer.ID] != 8700 || bal[b.merchant.ID] != 1300 {
			t.Errorf("balances = %v, %v", bal, err)
		}
		if _, err := b.Balances(ctx, b.customer.ID, 987654321); !errors.Is(err, ledger.ErrAccountNotFound) {
			t.Errorf("balances with an unknown account: %v", err)
		}
		got, err := b.TransferByReference(ctx, "pay-1")
		if err != nil || len(got.Postings) != 2 || got.Postings[0].Amount != 1250 || got.Postings[1].Source != b.customer.ID {
			t.Fatalf("transfer read back = %+v, %v", got, err)
		}
		b.mustBeSound(t)
	})
}

func TestOverdraftIsRefusedAndWritesNothing(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		b := newBook(t, db)
		if _, err := b.Post(ctx, move("topup", b.world, b.customer, 500), nil); err != nil {
			t.Fatal(err)
		}
		ran := false
		_, err := b.Post(ctx, ledger.Transfer{Reference: "too-much", Kind: "payment", Postings: []ledger.Posting{
			{Source: b.customer.ID, Destination: b.merchant.ID, Amount: 400},
			// The second posting overdraws; the first must not stay behind.
			{Source: b.customer.ID, Destination: b.merchant.ID, Amount: 101},
		}}, func(ctx context.Context) error { ran = true; return nil })
		var insufficient *ledger.InsufficientFunds
		if !errors.As(err, &insufficient) || !errors.Is(err, ledger.ErrInsufficientFunds) || insufficient.Balance != 100 || insufficient.Requested != 101 {
			t.Fatalf("overdraft: err = %v, want InsufficientFunds with balance 100, requested 101", err)
		}
		if ran {
			t.Error("the work of a refused transfer ran")
		}
		if got := b.balance(t, b.customer); got != 500 {
			t.Errorf("customer balance = %d after a refused transfer, want 500", got)
		}
		if _, err := b.TransferByReference(ctx, "too-much"); !errors.Is(err, paydesk.ErrNotFound) {
			t.Errorf("a refused transfer was recorded: %v", err)
		}
		// The same reference may be used again once it can be covered.
		if _, err := b.Post(ctx, move("too-much", b.customer, b.merchant, 500), nil); err != nil {
			t.Fatalf("retry after refusal: %v", err)
		}
		b.mustBeSound(t)
	})
}

func TestRetriedReferencePostsOnce(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		b := newBook(t, db)
		first, err := b.Post(ctx, move("ref-1", b.world, b.customer, 700), nil)
		if err != nil {
			t.Fatal(err)
		}
		again, err := b.Post(ctx, move("ref-1", b.world, b.customer, 700), nil)
		if err != nil || !again.Replayed || again.ID != first.ID {
			t.Fatalf("retry = %+v, %v; want a replay of transfer %d", again, err, first.ID)
		}
		if _, err := b.Post(ctx, move("ref-1", b.world, b.customer, 701), nil); !errors.Is(err, paydesk.ErrIdempotencyConflict) {
			t.Fatalf("same reference, other amount: err = %v, want IDEMPOTENCY_CONFLICT", err)
		}

		// Sixteen goroutines race the same reference: exactly one records it.
		var wg sync.WaitGroup
		var fresh, replayed atomic.Int32
		for range 16 {
			wg.Go(func() {
				tr, err := b.Post(ctx, move("ref-2", b.world, b.customer, 300), nil)
				switch {
				case err != nil:
					t.Errorf("concurrent retry: %v", err)
				case tr.Replayed:
					replayed.Add(1)
				default:
					fresh.Add(1)
				}
			})
		}
		wg.Wait()
		if fresh.Load() != 1 || replayed.Load() != 15 {
			t.Errorf("%d fresh and %d replayed posts, want 1 and 15", fresh.Load(), replayed.Load())
		}
		if got := b.balance(t, b.customer); got != 1000 {
			t.Errorf("customer balance = %d, want 1000", got)
		}
		b.mustBeSound(t)
	})
}

func TestWorkCommitsOrRollsBackWithTheTransfer(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		b := newBook(t, db)
		mark := func(code string) ledger.Work {
			return func(ctx context.Context) error {
				return db.Writer(ctx).Exec("INSERT INTO ledger_accounts (code, type, currency, created_at, updated_at) VALUES (?, 'marker', 'CNY', ?, ?)",
					code, "2026-01-01 00:00:00", "2026-01-01 00:00:00").Error
			}
		}
		boom := errors.New("boom")
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				work := mark(fmt.Sprintf("marker:%d", i))
				if i%5 == 0 {
					work = func(context.Context) error { return boom }
				}
				_, err := b.Post(ctx, move(fmt.Sprintf("w-%d", i), b.world, b.merchant, 10), work)
				if (i%5 == 0) != errors.Is(err, boom) {
					t.Errorf("post %d: err = %v", i, err)
				}
			})
		}
		wg.Wait()
		if got := b.balance(t, b.merchant); got != 160 {
			t.Errorf("merchant balance = %d, want 160 (16 transfers whose work succeeded)", got)
		}
		var markers int64
		db.Reader(ctx).Raw("SELECT COUNT(*) FROM ledger_accounts WHERE type = 'marker'").Scan(&markers)
		if markers != 16 {
			t.Errorf("%d markers written, want 16", markers)
		}
		// A transfer's work may not post another transfer.
		_, err := b.Post(ctx, move("outer", b.world, b.merchant, 1), func(ctx context.Context) error {
			_, err := b.Post(ctx, move("inner", b.world, b.merchant, 1), nil)
			return err
		})
		if !errors.Is(err, ledger.ErrNestedPost) {
			t.Errorf("nested post: err = %v, want LEDGER_NESTED_POST", err)
		}
		b.mustBeSound(t)
	})
}

func TestPostJoinsTheCallersTransaction(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		b := newBook(t, db)
		boom := errors.New("boom")
		err := db.InTx(ctx, func(ctx context.Context) error {
			if _, err := b.Post(ctx, move("inline", b.world, b.merchant, 99), nil); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if got := b.balance(t, b.merchant); got != 0 {
			t.Errorf("merchant balance = %d after the caller rolled back, want 0", got)
		}
		b.mustBeSound(t)
	})
}

func TestRefusesMalformedTransfers(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		b := newBook(t, db)
		usd, err := b.CreateAccount(ctx, ledger.Account{Code: "wallet:2:usd", Type: "wallet_cash", Currency: "USD"})
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name string
			t    ledger.Transfer
			want error
		}{
			{"no reference", ledger.Transfer{Kind: "x", Postings: []ledger.Posting{{b.world.ID, b.merchant.ID, 1}}}, ledger.ErrInvalidTransfer},
			{"no postings", ledger.Transfer{Reference: "r", Kind: "x"}, ledger.ErrInvalidTransfer},
			{"zero amount", move("r", b.world, b.merchant, 0), ledger.ErrInvalidTransfer},
			{"negative amount", move("r", b.world, b.merchant, -5), ledger.ErrInvalidTransfer},
			{"same account", move("r", b.merchant, b.merchant, 5), ledger.ErrInvalidTransfer},
			{"unknown account", move("r", b.world, ledger.Account{ID: 999999}, 5), ledger.ErrAccountNotFound},
			{"currency mismatch", move("r", b.world, usd, 5), paydesk.ErrCurrencyMismatch},
		}
		for _, tt := range tests {
			if _, err := b.Post(ctx, tt.t, nil); !errors.Is(err, tt.want) {
				t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
			}
		}
		if r := b.mustBeSound(t); r.Entries != 0 {
			t.Errorf("%d entries written by refused transfers", r.Entries)
		}
	})
}

func TestCreateAccountIsIdempotent(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		b := newBook(t, db)
		again, err := b.CreateAccount(ctx, ledger.Account{Code: "merchant:1:pending", Type: "merchant_pending", Currency: "CNY"})
		if err != nil || again.ID != b.merchant.ID {
			t.Fatalf("ensure existing = %+v, %v", again, err)
		}
		if _, err := b.CreateAccount(ctx, ledger.Account{Code: "merchant:1:pending", Type: "other", Currency: "CNY"}); !errors.Is(err, ledger.ErrAccountConflict) {
			t.Fatalf("conflicting account: %v", err)
		}
	})
}
