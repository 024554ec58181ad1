package mobileapi

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/rbac"
	"github.com/paydesk/paydesk/wallet"
)

// loadSize is how big TestConcurrentCashiers is: issue 4's 32 cashiers
// taking 200 payments each from 200 wallets (6,400 payments, about 35 s on
// both databases at once), unless the run is under the race detector,
// which makes that take minutes: then 32 cashiers take 12 payments each
// from 32 wallets, still every cashier charging every wallet it meets at
// once. -short takes a token load.
func loadSize(t *testing.T) (cashiers, payments, wallets int) {
	switch {
	case testing.Short():
		return 32, 4, 8
	case raceEnabled:
		return 32, 12, 32
	}
	return 32, 200, 200
}

// scanCashiers of the load take payment codes; the others collection QRs.
// A wallet's codes are accepted for the current step and the five before
// it, and each pays once, so six cashiers can each present one of every
// wallet's codes at the same clock reading.
const scanCashiers = 6

// loadWallet is a wallet of the load: its token and its offline
// payment-code key, from POST /v1/wallet/payment-code/key.
type loadWallet struct {
	id     wallet.WalletID
	token  string
	codeID string
	secret []byte
}

// TestConcurrentCashiers has many cashiers take payments at once through
// the HTTP server, by payment code (derived offline on the "phone") and by
// collection QR, from wallets that every cashier charges, and then checks
// the books: every payment PAID once, the merchant's pending balance equal
// to the payments less their fees, the wallets debited exactly, the ledger
// sound.
func TestConcurrentCashiers(t *testing.T) {
	nCashiers, nPayments, nWallets := loadSize(t)
	eachAPI(t, func(t *testing.T, api *testAPI) {
		ctx := context.Background()
		m, store, owner := api.openMerchant(t, "Load")
		// The staff and wallets are made eight at a time: one by one, each
		// waiting for its commits, they would take longer than the load.
		cashiers := make([]string, nCashiers)
		inParallel(t, nCashiers, func(i int) error {
			c, err := api.Staff.Add(ctx, owner.actor(), cashier.NewStaff{Name: "cashier", Phone: api.nextPhone(),
				Password: "cashier-pass-1", Role: rbac.Cashier, StoreID: store.ID})
			if err != nil {
				return err
			}
			// Tokens straight from the issuer: logging in is not under test.
			pair, err := api.Tokens.Issue(ctx, rbac.Principal{Kind: rbac.KindStaff, ID: c.ID, MerchantID: c.MerchantID, StoreID: c.StoreID, Role: rbac.Cashier})
			cashiers[i] = pair.AccessToken
			return err
		})
		const startCash = 50_000
		wallets := make([]loadWallet, nWallets)
		inParallel(t, nWallets, func(i int) (err error) {
			wallets[i], err = api.newLoadWallet(ctx, i, startCash)
			return err
		})
		if t.Failed() {
			return
		}
		fees0 := api.balance(t, ledger.FeeAccount)
		now := api.Clock.Now()

		type sums struct{ count, amount, fee int64 }
		totals := make([]sums, nCashiers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		began := time.Now()
		for j := range nCashiers {
			wg.Go(func() {
				<-start
				for i := range nPayments {
					lw := wallets[(i+7*j)%nWallets]
					amount := int64(100 + (i*37+j*11)%900)
					otn := fmt.Sprintf("load-%d-%d", j, i)
					o, err := api.takeLoadPayment(cashiers[j], lw, otn, amount, j, now)
					if err != nil {
						t.Errorf("cashier %d payment %d: %v", j, i, err)
						return
					}
					if o.state != "PAID" || o.amount != amount || o.fee != fee(amount) {
						t.Errorf("cashier %d payment %d: %+v, want PAID %d with fee %d", j, i, o, amount, fee(amount))
						return
					}
					totals[j].count++
					totals[j].amount += amount
					totals[j].fee += o.fee
				}
			})
		}
		close(start)
		wg.Wait()
		took := time.Since(began)
		if t.Failed() {
			return
		}
		var want sums
		for _, s := range totals {
			want.count += s.count
			want.amount += s.amount
			want.fee += s.fee
		}
		t.Logf("%s: %d cashiers took %d payments from %d wallets in %v (%.0f payments/s)", api.Dialect, nCashiers, want.count, nWallets, took,
			float64(want.count)/took.Seconds())

		var got sums
		err := api.DB.Reader(ctx).Raw("SELECT COUNT(*), COALESCE(SUM(amount), 0), COALESCE(SUM(fee), 0) FROM orders WHERE merchant_id = ? AND state = 'PAID'", m.ID).
			Row().Scan(&got.count, &got.amount, &got.fee)
		if err != nil {
			t.Fatal(err)
		}
		if got != want || want.count != int64(nCashiers*nPayments) {
			t.Fatalf("paid orders %+v, want %+v (%d payments)", got, want, nCashiers*nPayments)
		}
		if p := int64(api.pending(t, m)); p != want.amount-want.fee {
			t.Fatalf("merchant pending %d, want payments %d less fees %d", p, want.amount, want.fee)
		}
		if f := int64(api.balance(t, ledger.FeeAccount) - fees0); f != want.fee {
			t.Fatalf("platform fees grew by %d, want %d", f, want.fee)
		}
		var cash paydesk.Amount
		for _, lw := range wallets {
			v, err := api.Wallets.Wallet(ctx, lw.id)
			if err != nil {
				t.Fatal(err)
			}
			cash += v.Cash
		}
		if int64(cash) != int64(nWallets)*startCash-want.amount {
			t.Fatalf("wallets hold %d, want %d less the payments %d", cash, int64(nWallets)*startCash, want.amount)
		}
		api.mustBeSound(t)
	})
}

// inParallel runs fn(0) to fn(n-1), eight at a time, failing t for every error.
func inParallel(t *testing.T, n int, fn func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := fn(i); err != nil {
				t.Errorf("%d: %v", i, err)
			}
		})
	}
	wg.Wait()
}

// newLoadWallet registers wallet i of the load, with a card, cash and a
// token, and provisions its payment-code key over HTTP, as the phone does.
func (api *testAPI) newLoadWallet(ctx context.Context, i int, cash paydesk.Amount) (loadWallet, error) {
	id, err := api.Wallets.Register(ctx, api.nextCustomerPhone(), "wallet-pass-1")
	if err != nil {
		return loadWallet{}, err
	}
	if _, err := api.Wallets.BindCard(ctx, id, bank.CardDetails{Number: bank.SimCardOK, Holder: "L", ExpiryMonth: 12, ExpiryYear: 2030}); err != nil {
		return loadWallet{}, err
	}
	if _, err := api.Wallets.TopUp(ctx, id, cash, fmt.Sprintf("load-%d", i)); err != nil {
		return loadWallet{}, err
	}
	pair, err := api.Tokens.Issue(ctx, rbac.Principal{Kind: rbac.KindCustomer, ID: int64(id), Role: rbac.Customer})
	if err != nil {
		return loadWallet{}, err
	}
	r, err := api.send("POST", "/v1/wallet/payment-code/key", pair.AccessToken, nil)
	if err != nil {
		return loadWallet{}, err
	}
	codeID, _ := r.JSON["code_id"].(string)
	b64, _ := r.JSON["secret"].(string)
	secret, err := base64.StdEncoding.DecodeString(b64)
	if r.Status != http.StatusCreated || err != nil || codeID == "" {
		return loadWallet{}, fmt.Errorf("payment-code key: %d %s", r.Status, r.Raw)
	}
	return loadWallet{id: id, token: pair.AccessToken, codeID: codeID, secret: secret}, nil
}

type loadOrder struct {
	state       string
	amount, fee int64
}

// takeLoadPayment has cashier take amount from lw: cashiers below
// scanCashiers scan the code the wallet's phone derives offline for the
// step `cashier` steps back; the others show a collection QR that the
// wallet pays. It runs in the load's goroutines, so it returns errors.
func (api *testAPI) takeLoadPayment(cashier string, lw loadWallet, otn string, amount int64, j int, now time.Time) (loadOrder, error) {
	decode := func(r *response, err error) (loadOrder, error) {
		if err != nil {
			return loadOrder{}, err
		}
		if r.Status/100 != 2 || r.JSON == nil {
			return loadOrder{}, fmt.Errorf("%s: %d %s", otn, r.Status, r.Raw)
		}
		o := r.JSON
		if inner, ok := o["order"].(map[string]any); ok {
			o = inner
		}
		s, _ := o["state"].(string)
		a, _ := o["amount"].(float64)
		f, _ := o["fee"].(float64)
		return loadOrder{state: s, amount: int64(a), fee: int64(f)}, nil
	}
	if j < scanCashiers {
		code, err := wallet.GeneratePaymentCode(lw.secret, lw.codeID, now.Add(-time.Duration(j)*wallet.PaymentCodeStep))
		if err != nil {
			return loadOrder{}, err
		}
		return decode(api.send("POST", "/v1/payments/scan", cashier, map[string]any{"out_trade_no": otn, "amount": amount, "payment_code": code}))
	}
	r, err := api.send("POST", "/v1/payments/qr", cashier, map[string]any{"out_trade_no": otn, "amount": amount})
	if err != nil {
		return loadOrder{}, err
	}
	payload, _ := r.JSON["qr_payload"].(string)
	if r.Status != http.StatusCreated || payload == "" {
		return loadOrder{}, fmt.Errorf("%s: QR: %d %s", otn, r.Status, r.Raw)
	}
	if _, err := decode(api.send("POST", "/v1/wallet/pay", lw.token, map[string]any{"qr_payload": payload})); err != nil {
		return loadOrder{}, err
	}
	// The cashier's view of the order, with its fee.
	id, _ := r.JSON["order"].(map[string]any)["id"].(float64)
	return decode(api.send("GET", fmt.Sprintf("/v1/orders/%d", int64(id)), cashier, nil))
}
