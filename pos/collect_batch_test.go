package pos_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/merchant"
	"github.com/paydesk/paydesk/pos"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
	"github.com/paydesk/paydesk/wallet"
)

// watchedStorage tells the test when a payer has read its order, and
// counts the updates of each order.
type watchedStorage struct {
	pos.Storage
	read chan struct{}

	mu      sync.Mutex
	updates map[int64]int
}

func (w *watchedStorage) OrderByPayToken(ctx context.Context, token string) (pos.Order, error) {
	o, err := w.Storage.OrderByPayToken(ctx, token)
	w.read <- struct{}{}
	return o, err
}

func (w *watchedStorage) UpdateOrder(ctx context.Context, o pos.Order, from ...pos.State) (bool, error) {
	w.mu.Lock()
	w.updates[o.ID]++
	w.mu.Unlock()
	return w.Storage.UpdateOrder(ctx, o, from...)
}

// gate holds the payment of one order inside its ledger batch until
// released, then runs then in that batch's transaction, so that the
// payments queued meanwhile meet what then did in one later batch.
type gate struct {
	order   int64
	entered chan struct{}
	release chan struct{}
	once    sync.Once
	then    func(ctx context.Context) error
}

func (g *gate) OrderChanged(ctx context.Context, o pos.Order, c pos.Change) error {
	if o.ID != g.order || c != pos.ChangePaid {
		return nil
	}
	g.once.Do(func() {
		close(g.entered)
		<-g.release
	})
	return g.then(ctx)
}

// Many collection QRs of one merchant paid at once, by different wallets,
// are written in one batch with the right payment on each order; an order
// the cashier closed after its payer read it fails that payment alone.
func TestConcurrentCollectionQRPayments(t *testing.T) {
	const payers = 30
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		watched := &watchedStorage{Storage: pos.NewGormStorage(db), read: make(chan struct{}, payers+2), updates: map[int64]int{}}
		merchants := merchant.NewService(merchant.NewGormStorage(db), s.ledger,
			cashier.NewService(cashier.NewGormStorage(db), merchant.NewGormStorage(db), storage.NewAttempts(db, s.clock), s.clock, cashier.WithPasswords(cheap)), s.clock)
		g := &gate{entered: make(chan struct{}), release: make(chan struct{})}
		p := pos.NewService(watched, s.ledger, s.wallets, merchants, s.clock, pos.Config{}, g)

		qr := func(name string) pos.Order {
			o, err := p.CreateCollectionQR(ctx, s.cashier, pos.Collection{OutTradeNo: name, Amount: 1000})
			if err != nil {
				t.Fatal(err)
			}
			return o
		}
		first, victim := qr("GATE"), qr("CLOSED")
		g.order = first.ID
		g.then = func(ctx context.Context) error {
			_, err := p.CloseOrder(ctx, s.cashier, victim.ID)
			return err
		}
		orders := make([]pos.Order, payers)
		wallets := make([]wallet.WalletID, payers)
		for i := range orders {
			orders[i] = qr(fmt.Sprintf("QR-%d", i))
			wallets[i] = s.customer(t, fmt.Sprintf("1390000%04d", i), 5000)
		}
		gatePayer, victimPayer := s.customer(t, "13800009998", 5000), s.customer(t, "13800009999", 5000)

		var wg sync.WaitGroup
		var gateErr error
		wg.Go(func() { _, gateErr = p.PayOrder(ctx, gatePayer, first.PayToken) })
		<-g.entered
		<-watched.read // the gate's own read
		paid := make([]pos.Order, payers)
		errs := make([]error, payers)
		var victimErr error
		wg.Go(func() { _, victimErr = p.PayOrder(ctx, victimPayer, victim.PayToken) })
		for i := range orders {
			wg.Go(func() { paid[i], errs[i] = p.PayOrder(ctx, wallets[i], orders[i].PayToken) })
		}
		// Every payer saw its order open before the cashier closed one.
		for range payers + 1 {
			<-watched.read
		}
		close(g.release)
		wg.Wait()

		if gateErr != nil {
			t.Fatalf("gate payment: %v", gateErr)
		}
		wantCode(t, victimErr, "ORDER_CLOSED")
		fee := s.merchant.FeeRate.Of(1000)
		for i, o := range orders {
			if errs[i] != nil {
				t.Errorf("payment of %s: %v", o.OutTradeNo, errs[i])
				continue
			}
			stored, err := watched.Order(ctx, o.MerchantID, o.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, got := range []pos.Order{paid[i], stored} {
				if got.State != pos.Paid || got.WalletID != wallets[i] || got.Funding.Cash != 1000 || got.Funding.Card != 0 ||
					got.Fee != fee || !got.PaidAt.Equal(s.clock()) {
					t.Errorf("order %s = %+v; want paid by wallet %d with 1000 cash, fee %d, at %v", o.OutTradeNo, got, wallets[i], fee, s.clock())
				}
			}
			if c := s.cash(t, wallets[i]); c != 4000 {
				t.Errorf("wallet %d has %d; want 4000", wallets[i], c)
			}
		}
		if now, err := watched.Order(ctx, victim.MerchantID, victim.ID); err != nil || now.State != pos.Closed || now.WalletID != 0 {
			t.Errorf("closed order = %+v, %v", now, err)
		}
		if c := s.cash(t, victimPayer); c != 5000 {
			t.Errorf("the payer of the closed order has %d; want 5000", c)
		}
		if got, want := s.pending(t), (payers+1)*(1000-fee); got != want {
			t.Errorf("merchant pending = %d, want %d", got, want)
		}
		// The closed order's payment was gathered with others and refused
		// when its batch wrote, then again alone; if it came alone, the
		// batch path was not exercised this run.
		watched.mu.Lock()
		t.Logf("the closed order was updated %d times", watched.updates[victim.ID])
		watched.mu.Unlock()
	})
}
