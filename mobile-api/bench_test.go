package mobileapi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/pos"
	"github.com/paydesk/paydesk/rbac"
)

// memSessions keeps the refresh sessions the benchmark's login issues; only
// Create is called.
type memSessions struct{ rbac.SessionStore }

func (memSessions) Create(_ context.Context, s *rbac.RefreshSession) error { s.ID = 1; return nil }

// benchStaff is the staff row every request re-reads, without a database.
type benchStaff struct{ st cashier.Staff }

func (b benchStaff) ByID(context.Context, int64) (cashier.Staff, error) { return b.st, nil }

// benchPOS answers a scan payment as the real service does once the
// database said yes: a paid order with its fee.
type benchPOS struct{ now time.Time }

func (b benchPOS) TakeScanPayment(_ context.Context, c cashier.Actor, req pos.ScanPayment) (pos.Order, error) {
	return pos.Order{ID: 1234567, MerchantID: c.MerchantID, StoreID: c.StoreID, CashierID: c.StaffID, OutTradeNo: req.OutTradeNo,
		Kind: "SCAN", Method: "WALLET", Amount: req.Amount, Currency: paydesk.DefaultCurrency, State: pos.Paid, WalletID: 42,
		Fee: paydesk.DefaultFeeRate.Of(req.Amount), ExpiresAt: b.now.Add(time.Hour), PaidAt: b.now, CreatedAt: b.now, UpdatedAt: b.now}, nil
}

// BenchmarkScanPaymentHandler is the per-payment CPU of POST
// /v1/payments/scan above the database: gin and every middleware of the
// route (request id, access log, metrics, recovery, JWT verification and
// the staff check, casbin, the rate-limit and idempotency wrappers), the
// JSON request decoded and the paid order encoded. The services behind it
// are fakes that answer at once, so a regression here is the HTTP layer's.
//
//	PAYDESK_TEST_MYSQL=skip go test -run '^$' -bench ScanPaymentHandler -benchmem ./mobile-api/
func BenchmarkScanPaymentHandler(b *testing.B) {
	now := time.Now().UTC()
	enforcer, err := rbac.NewEnforcer("")
	if err != nil {
		b.Fatal(err)
	}
	tokens, err := rbac.NewTokens(memSessions{}, []byte(strings.Repeat("k", 32)), nil, rbac.TokenOptions{})
	if err != nil {
		b.Fatal(err)
	}
	s := New(Config{Tokens: tokens, Enforcer: enforcer})
	staff := cashier.Staff{ID: 7, MerchantID: 3, StoreID: 5, Role: "cashier", Name: "Cashier", Phone: "13800000000", Status: cashier.Active}
	s.scanPayments, s.staff = benchPOS{now: now}, benchStaff{st: staff}
	pair, err := tokens.Issue(context.Background(), rbac.Principal{Kind: rbac.KindStaff, ID: staff.ID, MerchantID: staff.MerchantID, StoreID: staff.StoreID, Role: staff.Role})
	if err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	auth := "Bearer " + pair.AccessToken
	body := func(i int) string {
		return fmt.Sprintf(`{"out_trade_no":"L1600-12-%d","amount":1000,"payment_code":"28%016d"}`, i, 1234567890123456+i)
	}
	// One request to check that the route answers as a payment would.
	w := httptest.NewRecorder()
	r := httptest.NewRequest("POST", "/v1/payments/scan", strings.NewReader(body(0)))
	r.Header.Set("Authorization", auth)
	r.Header.Set("Content-Type", "application/json")
	h.ServeHTTP(w, r)
	if w.Code != http.StatusCreated || !strings.Contains(w.Body.String(), `"state":"PAID"`) {
		b.Fatalf("scan payment answered %d %s", w.Code, w.Body)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("POST", "/v1/payments/scan", strings.NewReader(body(i)))
		r.Header.Set("Authorization", auth)
		r.Header.Set("Content-Type", "application/json")
		h.ServeHTTP(w, r)
		if w.Code != http.StatusCreated {
			b.Fatalf("scan payment answered %d %s", w.Code, w.Body)
		}
	}
}
