package mobileapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/mobile-api/codepng"
	"github.com/paydesk/paydesk/wallet"
)

// TestWalletAccount walks the wallet app's account routes: register, log
// in (throttled), refresh and log out, the home screen with a card,
// vouchers and coupons, top-ups and the paged history.
func TestWalletAccount(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		ctx := context.Background()
		c := api.newCustomer(t)
		api.Clock.Advance(time.Minute) // the next code for c's phone may go
		wantError(t, api.request(t, "POST", "/v1/wallet/register", "", map[string]string{"phone": "+86 " + c.Phone, "password": "another-pass", "code": api.registerCode(t, c.Phone)}),
			http.StatusConflict, "PHONE_TAKEN")
		weak := api.nextCustomerPhone()
		wantError(t, api.request(t, "POST", "/v1/wallet/register", "", map[string]string{"phone": weak, "password": "short", "code": api.registerCode(t, weak)}),
			http.StatusBadRequest, "WEAK_PASSWORD")
		wantError(t, api.request(t, "POST", "/v1/wallet/register/code", "", map[string]string{"phone": "call me"}),
			http.StatusBadRequest, "INVALID_PHONE")

		t.Run("the phone is confirmed by its code", func(t *testing.T) {
			p := api.nextCustomerPhone()
			wantError(t, api.request(t, "POST", "/v1/wallet/register", "", map[string]string{"phone": p, "password": "long-enough"}),
				http.StatusBadRequest, "INVALID_PHONE_CODE")
			wantError(t, api.request(t, "POST", "/v1/wallet/register", "", map[string]string{"phone": p, "password": "long-enough", "code": "123456"}),
				http.StatusUnprocessableEntity, "PHONE_CODE_WRONG") // none was sent
			code := api.registerCode(t, p)
			r := api.request(t, "POST", "/v1/wallet/register/code", "", map[string]string{"phone": p})
			wantError(t, r, http.StatusTooManyRequests, "PHONE_CODE_TOO_SOON")
			if r.Header.Get("Retry-After") == "" {
				t.Fatal("PHONE_CODE_TOO_SOON without Retry-After")
			}
			wrong := fmt.Sprintf("%06d", (atoi(code)+1)%1_000_000)
			wantError(t, api.request(t, "POST", "/v1/wallet/register", "", map[string]string{"phone": p, "password": "long-enough", "code": wrong}),
				http.StatusUnprocessableEntity, "PHONE_CODE_WRONG")
			wantStatus(t, api.request(t, "POST", "/v1/wallet/register", "", map[string]string{"phone": p, "password": "long-enough", "code": code}), http.StatusCreated)
		})

		r := api.request(t, "POST", "/v1/wallet/login", "", map[string]string{"phone": c.Phone, "password": c.Password})
		wantStatus(t, r, http.StatusOK)
		if id := num(t, r.JSON["wallet"].(map[string]any), "id"); id != int64(c.ID) || r.JSON["staff"] != nil {
			t.Fatalf("login answered %s", r.Raw)
		}
		// A customer refreshes and logs out like staff do.
		r = api.request(t, "POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": str(t, r.JSON, "refresh_token")})
		wantStatus(t, r, http.StatusOK)
		access, refresh := str(t, r.JSON, "access_token"), str(t, r.JSON, "refresh_token")
		wantStatus(t, api.request(t, "GET", "/v1/wallet", access, nil), http.StatusOK)
		wantStatus(t, api.request(t, "POST", "/v1/wallet/logout", access, map[string]string{"refresh_token": refresh}), http.StatusNoContent)
		wantError(t, api.request(t, "POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": refresh}), http.StatusUnauthorized, "REFRESH_TOKEN_INVALID")
		// Staff routes are closed to customers.
		wantError(t, api.request(t, "POST", "/v1/payments/qr", c.Access, map[string]any{"out_trade_no": "x", "amount": 1}), http.StatusForbidden, "FORBIDDEN")

		// Log-in is throttled per phone.
		for range 4 {
			wantError(t, api.request(t, "POST", "/v1/wallet/login", "", map[string]string{"phone": c.Phone, "password": "wrong-pass"}),
				http.StatusUnauthorized, "INVALID_CREDENTIALS")
		}
		r = api.request(t, "POST", "/v1/wallet/login", "", map[string]string{"phone": c.Phone, "password": "wrong-pass"})
		wantError(t, r, http.StatusTooManyRequests, "TOO_MANY_ATTEMPTS")
		wantError(t, api.request(t, "POST", "/v1/wallet/login", "", map[string]string{"phone": c.Phone, "password": c.Password}),
			http.StatusTooManyRequests, "TOO_MANY_ATTEMPTS")

		// The home screen of a new wallet, then with a card, money, a voucher and a coupon.
		r = api.request(t, "GET", "/v1/wallet", c.Access, nil)
		wantStatus(t, r, http.StatusOK)
		if num(t, r.JSON, "cash") != 0 || r.JSON["card"] != nil || num(t, r.JSON, "no_password_limit") != int64(wallet.DefaultNoPasswordLimit) {
			t.Fatalf("new wallet %s", r.Raw)
		}
		wantError(t, api.request(t, "POST", "/v1/wallet/topups", c.Access, map[string]any{"amount": 100, "request_no": "no-card"}),
			http.StatusUnprocessableEntity, "CARD_NOT_BOUND")
		wantError(t, api.request(t, "POST", "/v1/wallet/cards", c.Access, map[string]any{"number": "4242424242424241", "holder": "C", "expiry_month": 1, "expiry_year": 2030}),
			http.StatusBadRequest, "CARD_INVALID")
		wantError(t, api.request(t, "POST", "/v1/wallet/cards", c.Access, map[string]any{"number": bank.SimCardBlocked, "holder": "C", "expiry_month": 1, "expiry_year": 2030}),
			http.StatusUnprocessableEntity, "CARD_DECLINED")
		r = api.request(t, "POST", "/v1/wallet/cards", c.Access, map[string]any{"number": "4242-4242-4242-4242", "holder": "Chen", "expiry_month": 1, "expiry_year": 2030})
		wantStatus(t, r, http.StatusCreated)
		if r.JSON["last4"] != "4242" || bytes.Contains(r.Raw, []byte("token")) {
			t.Fatalf("bound card %s", r.Raw)
		}
		for i := range 3 {
			r = api.request(t, "POST", "/v1/wallet/topups", c.Access, map[string]any{"amount": 1000 * (i + 1), "request_no": fmt.Sprintf("t-%d", i)})
			wantStatus(t, r, http.StatusOK)
		}
		if num(t, r.JSON, "amount") != 3000 || r.JSON["request_no"] != "t-2" || str(t, r.JSON, "bank_reference") == "" {
			t.Fatalf("top-up %s", r.Raw)
		}
		wantError(t, api.request(t, "POST", "/v1/wallet/topups", c.Access, map[string]any{"amount": 100, "request_no": "has space"}),
			http.StatusBadRequest, "INVALID_ARGUMENT")
		expires := api.Clock.Now().Add(24 * time.Hour)
		if _, err := api.Wallets.IssueVoucher(ctx, wallet.VoucherRequest{Wallet: c.ID, Amount: 500, ExpiresAt: expires, Reference: "welcome"}); err != nil {
			t.Fatal(err)
		}
		if _, err := api.Wallets.IssueCoupon(ctx, wallet.CouponRequest{Wallet: c.ID, Amount: 800, ExpiresAt: expires, Reference: "promo"}); err != nil {
			t.Fatal(err)
		}
		r = api.request(t, "GET", "/v1/wallet", c.Access, nil)
		wantStatus(t, r, http.StatusOK)
		card, _ := r.JSON["card"].(map[string]any)
		vouchers, _ := r.JSON["vouchers"].([]any)
		coupons, _ := r.JSON["coupon_list"].([]any)
		if num(t, r.JSON, "cash") != 6000 || num(t, r.JSON, "coupons") != 800 || card["last4"] != "4242" || len(vouchers) != 1 || len(coupons) != 1 {
			t.Fatalf("wallet %s", r.Raw)
		}

		// A payment draws the voucher, then the coupon, then cash: the
		// order records it, and marketing money carries no fee.
		w := api.newWorld(t)
		before := api.books(t, w.Merchant)
		o := order(t, api.request(t, "POST", "/v1/payments/scan", w.Cashiers[0].Access,
			map[string]any{"out_trade_no": "mixed-1", "amount": 2000, "payment_code": api.freshCode(t, c)}))
		f := funding(t, o)
		if num(t, f, "voucher") != 500 || num(t, f, "coupon") != 800 || num(t, f, "cash") != 700 || num(t, f, "card") != 0 || num(t, o, "fee") != fee(700) {
			t.Fatalf("mixed payment %v", o)
		}
		if after := api.books(t, w.Merchant); after.pending-before.pending != 700-fee(700) {
			t.Fatalf("pending grew by %d, want the cash part 700 less its fee", after.pending-before.pending)
		}
		api.mustBeSound(t)

		// History: newest first, paged by cursor.
		var kinds []string
		cursor := ""
		for pages := 0; ; pages++ {
			r = api.request(t, "GET", "/v1/wallet/transactions?limit=2"+cursor, c.Access, nil)
			wantStatus(t, r, http.StatusOK)
			for _, it := range r.JSON["items"].([]any) {
				kinds = append(kinds, it.(map[string]any)["kind"].(string))
			}
			next, ok := r.JSON["next_cursor"].(float64)
			if !ok {
				break
			}
			if pages > 10 {
				t.Fatal("the history does not end")
			}
			cursor = fmt.Sprintf("&cursor=%d", int64(next))
		}
		if len(kinds) != 5 || kinds[0] != "payment" || kinds[4] != "topup" {
			t.Fatalf("history %v, want the payment, the coupon and three top-ups, newest first", kinds)
		}
		for _, q := range []string{"limit=0", "limit=101", "limit=x", "cursor=-1", "cursor=01", "limit=99999999999999999999"} {
			wantError(t, api.request(t, "GET", "/v1/wallet/transactions?"+q, c.Access, nil), http.StatusBadRequest, "INVALID_QUERY")
		}
	})
}

// TestPaymentCodes: the payment code and its pictures are always the
// current one and never cached; a provisioned key derives the same codes
// offline; the dynamic password pays once.
func TestPaymentCodes(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		c := api.newCustomer(t)
		api.fund(t, c, 10_000)
		code := func() (string, *response) {
			r := api.request(t, "GET", "/v1/wallet/payment-code", c.Access, nil)
			wantStatus(t, r, http.StatusOK)
			if r.Header.Get("Cache-Control") != "no-store" {
				t.Fatal("the payment code may be cached")
			}
			return str(t, r.JSON, "code"), r
		}
		first, r := code()
		expires, err := time.Parse(time.RFC3339, str(t, r.JSON, "expires_at"))
		if err != nil || !expires.After(api.Clock.Now()) || expires.Sub(api.Clock.Now()) > wallet.PaymentCodeLifetime {
			t.Fatalf("expires_at %v at %v", expires, api.Clock.Now())
		}
		barcode := api.request(t, "GET", "/v1/wallet/payment-code/barcode.png", c.Access, nil)
		qr := api.request(t, "GET", "/v1/wallet/payment-code/qr.png?size=256", c.Access, nil)
		if wantPNG(t, barcode); wantPNG(t, qr) != 256 {
			t.Fatal("qr.png ignores size")
		}
		// The pictures are of the current code, drawn when asked.
		if want, _ := codepng.Barcode(first, defaultImageSize); !bytes.Equal(barcode.Raw, want) {
			t.Fatal("barcode.png is not the current code")
		}
		if want, _ := codepng.QR(first, 256); !bytes.Equal(qr.Raw, want) {
			t.Fatal("qr.png is not the current code")
		}
		api.Clock.Advance(wallet.PaymentCodeStep)
		next, _ := code()
		barcode2 := api.request(t, "GET", "/v1/wallet/payment-code/barcode.png", c.Access, nil)
		if next == first || bytes.Equal(barcode2.Raw, barcode.Raw) {
			t.Fatal("the code or its barcode did not change with the step")
		}
		for _, size := range []string{"127", "1025", "abc", "-1"} {
			wantError(t, api.request(t, "GET", "/v1/wallet/payment-code/qr.png?size="+size, c.Access, nil), http.StatusBadRequest, "INVALID_QUERY")
		}

		// Provisioning retires the server-held secret: the phone derives codes offline.
		r = api.request(t, "POST", "/v1/wallet/payment-code/key", c.Access, nil)
		wantStatus(t, r, http.StatusCreated)
		secret, err := base64.StdEncoding.DecodeString(str(t, r.JSON, "secret"))
		if err != nil || len(secret) < 16 || r.Header.Get("Cache-Control") != "no-store" || num(t, r.JSON, "step_seconds") != 10 {
			t.Fatalf("key %s", r.Raw)
		}
		offline, err := wallet.GeneratePaymentCode(secret, str(t, r.JSON, "code_id"), api.Clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if now, _ := code(); now != offline {
			t.Fatalf("offline code %s, server says %s", offline, now)
		}
		w := api.newWorld(t)
		o := order(t, api.request(t, "POST", "/v1/payments/scan", w.Cashiers[0].Access, map[string]any{"out_trade_no": "off-1", "amount": 100, "payment_code": offline}))
		if o["state"] != "PAID" {
			t.Fatalf("offline code: %v", o)
		}
		wantError(t, api.request(t, "POST", "/v1/payments/scan", w.Cashiers[0].Access, map[string]any{"out_trade_no": "off-2", "amount": 100, "payment_code": next}),
			http.StatusUnprocessableEntity, "PAYMENT_CODE_INVALID")

		// The dynamic password pays once.
		r = api.request(t, "GET", "/v1/wallet/dynamic-password", c.Access, nil)
		wantStatus(t, r, http.StatusOK)
		pw := str(t, r.JSON, "password")
		if len(pw) != 6 || r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("dynamic password %s", r.Raw)
		}
		dp := map[string]any{"out_trade_no": "dpw-1", "amount": 100, "phone": "+86" + c.Phone, "password": pw}
		wantStatus(t, api.request(t, "POST", "/v1/payments/dynamic-password", w.Cashiers[0].Access, dp), http.StatusCreated)
		dp["out_trade_no"] = "dpw-2"
		wantError(t, api.request(t, "POST", "/v1/payments/dynamic-password", w.Cashiers[0].Access, dp), http.StatusUnprocessableEntity, "DYNAMIC_PASSWORD_USED")
		if got := api.cash(t, c); got != 10_000-200 {
			t.Fatalf("cash %d after two payments of 100", got)
		}
	})
}

func TestParseBoundedInt(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"", 20, true}, {"1", 1, true}, {"100", 100, true}, {"0", 0, false}, {"101", 0, false}, {"01", 0, false},
		{"+5", 0, false}, {"-5", 0, false}, {" 5", 0, false}, {"5.0", 0, false}, {"1e2", 0, false}, {"99999999999999999999", 0, false},
	}
	for _, tt := range tests {
		got, err := parseBoundedInt(tt.in, "limit", 20, 1, 100)
		if (err == nil) != tt.ok || (tt.ok && got != tt.want) {
			t.Errorf("parseBoundedInt(%q) = %d, %v", tt.in, got, err)
		}
	}
}

func FuzzParseBoundedInt(f *testing.F) {
	for _, s := range []string{"", "0", "1", "20", "100", "007", "-1", "9223372036854775807", "9223372036854775808", "1e3", "٣"} {
		f.Add(s, int64(1), int64(100))
	}
	f.Fuzz(func(t *testing.T, s string, lo, hi int64) {
		n, err := parseBoundedInt(s, "n", lo, lo, hi)
		if err != nil {
			if paydesk.ErrorCode(err) != ErrInvalidQuery.Code {
				t.Fatalf("uncoded error %v", err)
			}
			return
		}
		if s == "" {
			if n != lo {
				t.Fatalf("absent = %d, want the default %d", n, lo)
			}
			return
		}
		// What is accepted is in range and written in its one spelling.
		if n < lo || n > hi || fmt.Sprint(n) != s {
			t.Fatalf("parseBoundedInt(%q, %d, %d) = %d", s, lo, hi, n)
		}
	})
}
