package mobileapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/merchant"
	"github.com/paydesk/paydesk/pos"
	"github.com/paydesk/paydesk/wallet"
)

// The wallet and payment half of the end-to-end harness: customers who
// register, fund and pay over HTTP, and the checks of where the money went.

// customer is a wallet user the harness registered over HTTP.
type customer struct {
	ID       wallet.WalletID
	Phone    string
	Password string
	Access   string
	Refresh  string
}

// nextCustomerPhone returns a phone number no wallet of this database has.
func (api *testAPI) nextCustomerPhone() string {
	return fmt.Sprintf("1370000%04d", api.customers.Add(1))
}

// newCustomer registers a wallet through POST /v1/wallet/register.
func (api *testAPI) newCustomer(t testing.TB) *customer {
	t.Helper()
	c := &customer{Phone: api.nextCustomerPhone(), Password: "wallet-pass-1"}
	r, err := api.send("POST", "/v1/wallet/register", "", map[string]string{"phone": c.Phone, "password": c.Password, "code": api.registerCode(t, c.Phone)})
	if err != nil || r.Status != http.StatusCreated {
		t.Fatalf("register %s: %v %+v", c.Phone, err, r)
	}
	c.Access, c.Refresh = r.JSON["access_token"].(string), r.JSON["refresh_token"].(string)
	c.ID = wallet.WalletID(r.JSON["wallet"].(map[string]any)["id"].(float64))
	return c
}

// registerCode asks POST /v1/wallet/register/code for a code for phone
// and reads it from the dev SMS channel, as the customer reads the SMS.
func (api *testAPI) registerCode(t testing.TB, phone string) string {
	t.Helper()
	r, err := api.send("POST", "/v1/wallet/register/code", "", map[string]string{"phone": phone})
	if err != nil || r.Status != http.StatusAccepted {
		t.Fatalf("register code for %s: %v %+v", phone, err, r)
	}
	norm, _ := paydesk.NormalizePhone(phone)
	code := api.SMS.LastCode(norm)
	if code == "" {
		t.Fatalf("no code sent to %s", phone)
	}
	if _, ok := r.JSON["dev_code"]; ok {
		t.Fatalf("dev_code answered without Config.DevCodes: %s", r.Raw)
	}
	return code
}

// fund binds a card to the wallet and tops it up with amount, over HTTP.
func (api *testAPI) fund(t testing.TB, c *customer, amount int64) {
	t.Helper()
	r, err := api.send("POST", "/v1/wallet/cards", c.Access, map[string]any{"number": bank.SimCardOK, "holder": "Chen Jing",
		"expiry_month": 12, "expiry_year": 2030})
	if err != nil || r.Status != http.StatusCreated {
		t.Fatalf("bind card of %s: %v %+v", c.Phone, err, r)
	}
	r, err = api.send("POST", "/v1/wallet/topups", c.Access, map[string]any{"amount": amount, "request_no": "fund-" + c.Phone + "-" + fmt.Sprint(amount)})
	if err != nil || r.Status != http.StatusOK {
		t.Fatalf("top up %s: %v %+v", c.Phone, err, r)
	}
}

// cash is the wallet's cash balance as GET /v1/wallet shows it.
func (api *testAPI) cash(t *testing.T, c *customer) int64 {
	t.Helper()
	r := api.request(t, "GET", "/v1/wallet", c.Access, nil)
	wantStatus(t, r, http.StatusOK)
	return num(t, r.JSON, "cash")
}

// freshCode moves the clock to the next payment-code step and returns the
// wallet's code then, from GET /v1/wallet/payment-code: a code is single
// use per step.
func (api *testAPI) freshCode(t *testing.T, c *customer) string {
	t.Helper()
	api.Clock.Advance(wallet.PaymentCodeStep)
	r := api.request(t, "GET", "/v1/wallet/payment-code", c.Access, nil)
	wantStatus(t, r, http.StatusOK)
	return str(t, r.JSON, "code")
}

// freshPassword moves the clock to the next dynamic-password step and
// returns the wallet's password then, from GET /v1/wallet/dynamic-password.
func (api *testAPI) freshPassword(t *testing.T, c *customer) string {
	t.Helper()
	api.Clock.Advance(wallet.DynamicPasswordStep)
	r := api.request(t, "GET", "/v1/wallet/dynamic-password", c.Access, nil)
	wantStatus(t, r, http.StatusOK)
	return str(t, r.JSON, "password")
}

// codeNow is the wallet's current payment code from the service, for
// callers that cannot fail a test (the access matrix's samples): "" on error.
func (api *testAPI) codeNow(c *customer) string {
	code, _, _ := api.Wallets.PaymentCode(context.Background(), c.ID)
	return code
}

// balance is the ledger balance of the account named code.
func (api *testAPI) balance(t testing.TB, code string) paydesk.Amount {
	t.Helper()
	a, err := api.Ledger.AccountByCode(context.Background(), code)
	if err != nil {
		t.Fatalf("account %s: %v", code, err)
	}
	return a.Balance
}

// pending is the merchant's pending (collected, unsettled) balance.
func (api *testAPI) pending(t testing.TB, m merchant.Merchant) paydesk.Amount {
	t.Helper()
	b, err := api.Ledger.Balance(context.Background(), m.Accounts.Pending)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mustBeSound fails t unless the ledger's integrity check passes.
func (api *testAPI) mustBeSound(t testing.TB) {
	t.Helper()
	r, err := api.Ledger.Check(context.Background())
	if err != nil {
		t.Fatalf("ledger check: %v", err)
	}
	if !r.OK() {
		t.Fatalf("the book is not sound: %+v", r)
	}
}

// fee is the default 0.38% of amount, rounded half up: what the merchant
// pays on money the customer paid in cash or by card.
func fee(amount int64) int64 { return int64(paydesk.DefaultFeeRate.Of(paydesk.Amount(amount))) }

// order decodes an order answer (view.Order) of the merchant API.
func order(t *testing.T, r *response) map[string]any {
	t.Helper()
	if r.Status != http.StatusCreated {
		wantStatus(t, r, http.StatusOK)
	}
	for _, k := range []string{"id", "out_trade_no", "state", "method", "kind", "amount", "currency", "fee", "refunded", "funding",
		"cashier_id", "store_id", "close_reason", "paid_at", "expires_at", "created_at"} {
		if _, ok := r.JSON[k]; !ok {
			t.Fatalf("order lacks %q: %s", k, r.Raw)
		}
	}
	return r.JSON
}

// funding returns an order's funding breakdown.
func funding(t *testing.T, o map[string]any) map[string]any {
	t.Helper()
	f, ok := o["funding"].(map[string]any)
	if !ok {
		t.Fatalf("order has no funding object: %v", o)
	}
	return f
}

// outTradeNo returns a fresh out_trade_no.
func (api *testAPI) outTradeNo(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, api.orders.Add(1))
}

// newQROrder opens a collection QR order as cashier m, through the service
// (for samples that cannot fail a test): its payload, or "" on error.
func (api *testAPI) newQROrder(m *member, amount int64) (pos.Order, string) {
	o, err := api.POS.CreateCollectionQR(context.Background(), m.actor(), pos.Collection{OutTradeNo: api.outTradeNo("qr"), Amount: paydesk.Amount(amount)})
	if err != nil {
		return pos.Order{}, ""
	}
	return o, api.POS.PayURL(o)
}

// payingOrder makes a scan-code payment above the customer's no-password
// limit, which waits in PAYING for the payer, through the service; its id,
// or 0 on error.
func (api *testAPI) payingOrder(m *member, c *customer) int64 {
	api.Clock.Advance(wallet.PaymentCodeStep)
	o, err := api.POS.TakeScanPayment(context.Background(), m.actor(), pos.ScanPayment{OutTradeNo: api.outTradeNo("big"),
		Amount: wallet.DefaultNoPasswordLimit + 1, PaymentCode: api.codeNow(c)})
	if err != nil || o.State != pos.Paying {
		return 0
	}
	return o.ID
}

// idemKey is a header with an Idempotency-Key.
func idemKey(key string) http.Header { return http.Header{IdempotencyKeyHeader: []string{key}} }

// pathOf returns the path of a pay URL (https://host/p/o/TOKEN -> /p/o/TOKEN).
func pathOf(t *testing.T, url string) string {
	t.Helper()
	_, path, ok := strings.Cut(strings.TrimPrefix(url, testPublicURL), "/p/")
	if !ok || !strings.HasPrefix(url, testPublicURL+"/p/") {
		t.Fatalf("%q is not a pay URL on %s", url, testPublicURL)
	}
	return "/p/" + path
}
