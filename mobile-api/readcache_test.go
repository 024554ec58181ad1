package mobileapi

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/merchant"
	"github.com/paydesk/paydesk/storage/storagetest"
	"github.com/paydesk/paydesk/wallet"
)

// scanAs sends a scan payment of amount from c at cashier m and returns the
// answer as is (scan insists on a 201).
func (api *testAPI) scanAs(t *testing.T, m *member, c *customer, amount int64) *response {
	t.Helper()
	api.Clock.Advance(wallet.PaymentCodeStep) // a code is single use per step
	return api.request(t, "POST", "/v1/payments/scan", m.Access, map[string]any{"out_trade_no": api.outTradeNo("cache"),
		"amount": amount, "payment_code": api.codeNow(c)})
}

// setFee changes the merchant's fee rate as the operator's command does.
func (api *testAPI) setFee(t *testing.T, merchantID int64, rate paydesk.Rate) {
	t.Helper()
	if _, err := api.Merchants.SetTerms(context.Background(), merchantID, merchant.Terms{FeeRate: &rate}); err != nil {
		t.Fatalf("set fee rate %d: %v", rate, err)
	}
}

// The staff row and the merchant a payment reads are cached (here for five
// minutes, so no entry expires), but a change made through the instance is
// honoured by its very next request: a disabled cashier is refused, a new
// fee is charged.
func TestCachedRowsChangeAtOnceOnTheSameInstance(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		w := api.newWorld(t)
		c := w.Cashiers[0]
		for range 2 { // the second is served from the caches
			if o := api.scan(t, c, w.Customer, 10_000); num(t, o, "fee") != int64(paydesk.DefaultFeeRate.Of(10_000)) {
				t.Fatalf("fee %v at the default rate", o["fee"])
			}
		}

		api.setFee(t, w.Merchant.ID, 6_000) // 0.6%
		if o := api.scan(t, c, w.Customer, 10_000); num(t, o, "fee") != 60 {
			t.Fatalf("the payment after the change was charged %v, want the new fee 60", o["fee"])
		}

		wantStatus(t, api.request(t, "POST", staffPath(c.ID, "disable"), w.Owner.Access, nil), http.StatusOK)
		wantError(t, api.scanAs(t, c, w.Customer, 10_000), http.StatusUnauthorized, "STAFF_DISABLED")
		wantStatus(t, api.request(t, "POST", staffPath(c.ID, "enable"), w.Owner.Access, nil), http.StatusOK)
		wantStatus(t, api.scanAs(t, c, w.Customer, 10_000), http.StatusCreated)
	}, withCacheTTL(5*time.Minute))
}

// Two instances on one database: what A changes, B honours within the
// bound. The staff.disabled and merchant.updated events reach B's hub
// (polling, without Redis) and drop its cached rows; enabling a cashier
// has no event, and B honours it once its CacheTTL has passed. B caches
// for five minutes of its clock, which moves only when the test says, so what
// B honours before that is the events' doing.
func TestCachedRowsChangeOnTheOtherInstance(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			a := newTestAPI(t, d)
			b := newTestAPI(t, d, onDB(a.DB), withCacheTTL(5*time.Minute))
			w := a.newWorld(t)
			c := w.Cashiers[0]
			b.scan(t, c, w.Customer, 10_000) // B caches the cashier and the merchant

			wantStatus(t, a.request(t, "POST", staffPath(c.ID, "disable"), w.Owner.Access, nil), http.StatusOK)
			// GET /v1/me is authenticated as the payment is, without
			// spending a payment code.
			took := eventually(t, "B refuses the cashier A disabled", func() bool {
				r := b.request(t, "GET", "/v1/me", c.Access, nil)
				if r.Status != http.StatusUnauthorized && r.Status != http.StatusOK {
					t.Fatalf("B answered %d %s", r.Status, r.Raw)
				}
				return r.Status == http.StatusUnauthorized
			})
			t.Logf("B refused the disabled cashier %v after A disabled them", took)
			wantError(t, b.scanAs(t, c, w.Customer, 10_000), http.StatusUnauthorized, "STAFF_DISABLED")

			wantStatus(t, a.request(t, "POST", staffPath(c.ID, "enable"), w.Owner.Access, nil), http.StatusOK)
			// No event says so: B's cached row stands until its TTL is up.
			wantError(t, b.request(t, "GET", "/v1/me", c.Access, nil), http.StatusUnauthorized, "STAFF_DISABLED")
			b.Clock.Advance(5 * time.Minute)
			wantStatus(t, b.request(t, "GET", "/v1/me", c.Access, nil), http.StatusOK)
			wantStatus(t, b.scanAs(t, c, w.Customer, 10_000), http.StatusCreated)

			b.scan(t, w.Cashiers[1], w.Customer, 10_000) // the merchant is cached on B again
			// The dispatcher looks back 15 s from its own clock for events
			// (push.Config.Lookback): the instances' clocks must agree.
			a.Clock.Set(b.Clock.Now())
			a.setFee(t, w.Merchant.ID, 6_000)
			took = eventually(t, "B reads the fee A set", func() bool {
				m, err := b.Merchants.Merchant(context.Background(), w.Merchant.ID)
				if err != nil {
					t.Fatal(err)
				}
				return m.FeeRate == 6_000
			})
			t.Logf("B read the new fee %v after A set it", took)
			if o := b.scan(t, w.Cashiers[1], w.Customer, 10_000); num(t, o, "fee") != 60 {
				t.Fatalf("B charged %v after the change, want the new fee 60", o["fee"])
			}
		})
	}
}

// eventually polls ok until it holds, for at most 5 s (the hubs poll the
// outbox every 250 ms), and returns how long it took.
func eventually(t *testing.T, what string, ok func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !ok() {
		if time.Since(start) > 5*time.Second {
			t.Fatalf("%s: not after %v", what, time.Since(start))
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}
