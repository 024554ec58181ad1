package mobileapi

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/pos"
	"github.com/paydesk/paydesk/rbac"
	"github.com/paydesk/paydesk/storage/storagetest"
	"github.com/paydesk/paydesk/wallet"
)

// faultSize is how many wallets TestPaymentsWhenCommitsDie charges, each
// once by every cashier: 8 payments a wallet.
func faultSize() int {
	switch {
	case testing.Short():
		return 4
	case raceEnabled:
		return 12
	}
	return 30
}

// faultPayment is one payment of TestPaymentsWhenCommitsDie and the
// answers it got.
type faultPayment struct {
	path, token string
	body        map[string]any
	header      http.Header
	wallet      int
	amount      int64
	outTradeNo  string
	order       int64 // the collection QR's order; 0 for a scan-code payment
	first       *response
}

// TestPaymentsWhenCommitsDie takes payments through the HTTP server while
// the database connection dies at two COMMITs in five, half of them
// before the COMMIT reached the database and half after it had committed
// (storagetest.Faults: a driver wrapper on SQLite, a TCP proxy in front of
// MariaDB). Six cashiers scan payment codes (retried by out_trade_no),
// two show collection QRs that the wallets pay (retried by
// Idempotency-Key). Then, with the faults over:
//
//   - no payment answered with an error has happened: its order is not
//     PAID, nothing was charged (the cashier may believe the error);
//   - every error is 503 UNAVAILABLE with Retry-After, never a 500 or a
//     refusal, and sending the same request again pays it: the same
//     order (for a QR), and once;
//   - a payment answered PAID is PAID, and its retry answers the same
//     order;
//   - every wallet is charged exactly its payments, the merchant holds
//     them less the fees, and the ledger is sound.
func TestPaymentsWhenCommitsDie(t *testing.T) {
	nWallets := faultSize()
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			faults := storagetest.NewFaults(21)
			api := newTestAPI(t, d, onDB(storagetest.OpenWithFaults(t, d, faults)))
			m, store, owner := api.openMerchant(t, "Faults")
			cashiers := make([]*member, 8)
			for i := range cashiers {
				c := api.addStaff(t, owner, rbac.Cashier, store.ID)
				pair, err := api.Tokens.Issue(ctx, rbac.Principal{Kind: rbac.KindStaff, ID: c.ID, MerchantID: c.MerchantID, StoreID: c.StoreID, Role: rbac.Cashier})
				if err != nil {
					t.Fatal(err)
				}
				c.Access = pair.AccessToken
				cashiers[i] = c
			}
			const startCash = 100_000
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

			// The payments, per cashier: the first six scan a code of the
			// wallet's (each a different step back, so that all six are
			// valid at once), the last two open a QR order the wallet pays.
			payments := make([][]*faultPayment, len(cashiers))
			for j, c := range cashiers {
				for i := range nWallets {
					w := (i + 7*j) % nWallets
					p := &faultPayment{wallet: w, amount: int64(100 + (i*37+j*11)%900), outTradeNo: fmt.Sprintf("fault-%d-%d", j, i)}
					if j < scanCashiers {
						code, err := wallet.GeneratePaymentCode(wallets[w].secret, wallets[w].codeID, now.Add(-time.Duration(j)*wallet.PaymentCodeStep))
						if err != nil {
							t.Fatal(err)
						}
						p.path, p.token = "/v1/payments/scan", c.Access
						p.body = map[string]any{"out_trade_no": p.outTradeNo, "amount": p.amount, "payment_code": code}
					} else {
						o, err := api.POS.CreateCollectionQR(ctx, c.actor(), pos.Collection{OutTradeNo: p.outTradeNo, Amount: paydesk.Amount(p.amount)})
						if err != nil {
							t.Fatal(err)
						}
						p.path, p.token, p.order = "/v1/wallet/pay", wallets[w].token, o.ID
						p.body = map[string]any{"qr_payload": api.POS.PayURL(o)}
						p.header = idemKey("pay-" + p.outTradeNo)
					}
					payments[j] = append(payments[j], p)
				}
			}

			faults.SetRate(0.4)
			var wg sync.WaitGroup
			for j := range cashiers {
				wg.Go(func() {
					for _, p := range payments[j] {
						r, err := api.sendWith("POST", p.path, p.token, p.body, p.header)
						if err != nil {
							t.Errorf("%s: %v", p.outTradeNo, err)
							return
						}
						p.first = r
					}
				})
			}
			wg.Wait()
			faults.SetRate(0)
			before, after, commits := faults.Killed()
			if t.Failed() {
				return
			}
			if !testing.Short() && (before < 5 || after < 5) {
				t.Fatalf("only %d COMMITs killed before and %d after, of %d: too few to show anything", before, after, commits)
			}

			var answeredError, answeredPaid int
			spent := make([]int64, nWallets)
			var paid, fees int64
			for _, list := range payments {
				for _, p := range list {
					order := api.orderState(t, m.ID, p.outTradeNo)
					switch {
					case paidStatus(p.first.Status):
						answeredPaid++
						if got := paidOrder(p.first); got.state != "PAID" || order.State != pos.Paid || got.id != order.ID {
							t.Errorf("%s answered %s; the order is %+v", p.outTradeNo, p.first.Raw, order)
						}
					case p.first.Status != http.StatusServiceUnavailable || p.first.errorCode(t) != "UNAVAILABLE" || p.first.Header.Get("Retry-After") == "":
						t.Errorf("%s answered %d %s (Retry-After %q): want 201 (scan) or 200 (wallet pay) PAID, or 503 UNAVAILABLE with Retry-After",
							p.outTradeNo, p.first.Status, p.first.Raw, p.first.Header.Get("Retry-After"))
						continue
					default:
						answeredError++
						if order.State == pos.Paid {
							t.Errorf("%s answered %s, but it was paid: order %d is PAID", p.outTradeNo, p.first.Raw, order.ID)
						}
					}
					// The same request again: paid, once, as the same order.
					r, err := api.sendWith("POST", p.path, p.token, p.body, p.header)
					if err != nil {
						t.Fatal(err)
					}
					got := paidOrder(r)
					want := p.order
					if paidStatus(p.first.Status) {
						want = paidOrder(p.first).id
					}
					if !paidStatus(r.Status) || got.state != "PAID" || (want != 0 && got.id != want) {
						t.Errorf("%s sent again (first answered %d): %d %s, want PAID order %d", p.outTradeNo, p.first.Status, r.Status, r.Raw, want)
						continue
					}
					spent[p.wallet] += p.amount
					paid += p.amount
					fees += fee(p.amount)
				}
			}
			t.Logf("%s: %d COMMITs, %d killed before and %d after reaching the database; %d payments answered PAID, %d answered 503 and paid when sent again",
				d, commits, before, after, answeredPaid, answeredError)
			if answeredError == 0 && !testing.Short() {
				t.Error("no payment was answered with an error: the faults did not reach the answers")
			}

			var n int64
			if err := api.DB.Reader(ctx).Raw("SELECT COUNT(*) FROM orders WHERE merchant_id = ? AND state = 'PAID'", m.ID).Row().Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != int64(len(cashiers)*nWallets) {
				t.Errorf("%d orders PAID, want %d", n, len(cashiers)*nWallets)
			}
			for w, lw := range wallets {
				v, err := api.Wallets.Wallet(ctx, lw.id)
				if err != nil {
					t.Fatal(err)
				}
				if int64(v.Cash) != startCash-spent[w] {
					t.Errorf("wallet %d holds %d, want %d less its payments %d", w, v.Cash, startCash, spent[w])
				}
			}
			if got := int64(api.pending(t, m)); got != paid-fees {
				t.Errorf("merchant pending %d, want payments %d less fees %d", got, paid, fees)
			}
			if got := int64(api.balance(t, ledger.FeeAccount) - fees0); got != fees {
				t.Errorf("platform fees grew by %d, want %d", got, fees)
			}
			api.mustBeSound(t)
		})
	}
}

// orderState reads the order of outTradeNo, a zero Order when there is none.
func (api *testAPI) orderState(t *testing.T, merchantID int64, outTradeNo string) pos.Order {
	t.Helper()
	var row struct {
		ID    int64
		State string
	}
	err := api.DB.Reader(context.Background()).Raw("SELECT id, state FROM orders WHERE merchant_id = ? AND out_trade_no = ?", merchantID, outTradeNo).
		Row().Scan(&row.ID, &row.State)
	if errors.Is(err, sql.ErrNoRows) {
		return pos.Order{}
	}
	if err != nil {
		t.Fatalf("read order %s: %v", outTradeNo, err)
	}
	return pos.Order{ID: row.ID, State: pos.State(row.State)}
}

// paidOrder reads the order of a payment's answer (a scan answers the
// order, the wallet's pay an object holding it).
func paidOrder(r *response) struct {
	id    int64
	state string
} {
	o := r.JSON
	if inner, ok := o["order"].(map[string]any); ok {
		o = inner
	}
	id, _ := o["id"].(float64)
	s, _ := o["state"].(string)
	return struct {
		id    int64
		state string
	}{int64(id), s}
}

// paidStatus is the status of a payment that happened: 201 for the
// cashier's creations (a new order), 200 for the wallet paying one.
func paidStatus(status int) bool { return status == http.StatusCreated || status == http.StatusOK }
