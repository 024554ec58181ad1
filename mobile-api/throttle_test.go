package mobileapi

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// from says which client a request comes from, through the trusted proxy
// at 127.0.0.1 (withTrustedProxies).
func from(ip string) http.Header { return http.Header{"X-Forwarded-For": []string{ip}} }

// flood sends n requests from ip, 8 at a time, and counts the answers by
// status and error code.
func (api *testAPI) flood(t *testing.T, n int, ip string, req func(i int) (method, path, token string, body any)) map[string]int {
	t.Helper()
	var (
		mu     sync.Mutex
		counts = map[string]int{}
		wg     sync.WaitGroup
		next   = make(chan int)
	)
	for range 8 {
		wg.Go(func() {
			for i := range next {
				m, p, tok, body := req(i)
				r, err := api.sendWith(m, p, tok, body, from(ip))
				k := "error"
				if err == nil {
					k = strconv.Itoa(r.Status)
					if c, ok := r.JSON["error"].(map[string]any); ok {
						k += " " + fmt.Sprint(c["code"])
					}
					if r.Status == http.StatusTooManyRequests && r.Header.Get("Retry-After") == "" {
						k += " without Retry-After"
					}
				}
				mu.Lock()
				counts[k]++
				mu.Unlock()
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return counts
}

// randomPhone is a mainland mobile number no test merchant has.
func randomPhone() string { return fmt.Sprintf("135%08d", rand.IntN(100_000_000)) }

// TestLoginFloodCannotLockOthersOut is issue 17's attack: 1,000 wrong
// logins from one address with random phones (and some at the owner's
// phone). The address is slowed to a crawl; nobody else's correct login is
// refused, on either database.
func TestLoginFloodCannotLockOthersOut(t *testing.T) {
	const attacker = "203.0.113.66"
	wrongLogin := func(owner string) func(i int) (string, string, string, any) {
		return func(i int) (string, string, string, any) {
			phone := randomPhone()
			if i%10 == 0 {
				phone = owner // the victim's phone is in the list too
			}
			return "POST", "/v1/auth/login", "", map[string]string{"phone": phone, "password": "guess-" + strconv.Itoa(i)}
		}
	}
	t.Run("with the rate limits", func(t *testing.T) {
		eachAPI(t, func(t *testing.T, api *testAPI) {
			_, _, owner := api.openMerchant(t, "Lotus")
			got := api.flood(t, 1000, attacker, wrongLogin(owner.Phone))
			if got["401 INVALID_CREDENTIALS"]+got["429 RATE_LIMITED"]+got["429 TOO_MANY_ATTEMPTS"] != 1000 {
				t.Fatalf("answers to the flood: %v", got)
			}
			if got["429 RATE_LIMITED"] < 950 {
				t.Fatalf("the flood was not slowed: %v", got)
			}
			t.Logf("answers to 1,000 wrong logins from one address: %v", got)
			r := api.requestWith(t, "POST", "/v1/auth/login", "", map[string]string{"phone": owner.Phone, "password": owner.Password}, from("198.51.100.7"))
			wantStatus(t, r, http.StatusOK)
			// The attacker's address gets a token back in seconds, not minutes.
			r = api.requestWith(t, "POST", "/v1/auth/login", "", map[string]string{"phone": randomPhone(), "password": "x"}, from(attacker))
			wantError(t, r, http.StatusTooManyRequests, "RATE_LIMITED")
			if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 || s > 3 {
				t.Fatalf("Retry-After %q, want 1 to 3 seconds", r.Header.Get("Retry-After"))
			}
			if m := api.metricsText(t); !containsLine(m, `paydesk_rate_limited_total{bucket="ip",class="login"}`) {
				t.Errorf("no rate_limited_total for the login class in /metrics")
			}
		}, withTrustedProxies("127.0.0.1/32"), withRateLimits())
	})
	t.Run("every guess checked", func(t *testing.T) {
		// Without the per-address buckets every guess reaches the lock-outs:
		// they lock the attacker's address out of the phones it tried, and
		// nobody out of anything else — not even the attacker's address
		// out of a phone it never tried.
		eachAPI(t, func(t *testing.T, api *testAPI) {
			_, _, owner := api.openMerchant(t, "Lotus")
			_, _, other := api.openMerchant(t, "Rival")
			got := api.flood(t, 1000, attacker, wrongLogin(owner.Phone))
			if got["401 INVALID_CREDENTIALS"]+got["429 TOO_MANY_ATTEMPTS"] != 1000 || got["429 TOO_MANY_ATTEMPTS"] > 100-5 {
				t.Fatalf("answers to the flood: %v", got)
			}
			wantStatus(t, api.requestWith(t, "POST", "/v1/auth/login", "", map[string]string{"phone": owner.Phone, "password": owner.Password}, from("198.51.100.7")), http.StatusOK)
			wantStatus(t, api.requestWith(t, "POST", "/v1/auth/login", "", map[string]string{"phone": other.Phone, "password": other.Password}, from(attacker)), http.StatusOK)
			// The attacker's address stays locked out of the owner's phone.
			wantError(t, api.requestWith(t, "POST", "/v1/auth/login", "", map[string]string{"phone": owner.Phone, "password": owner.Password}, from(attacker)),
				http.StatusTooManyRequests, "TOO_MANY_ATTEMPTS")
		}, withTrustedProxies("127.0.0.1/32"))
	})
}

// containsLine reports whether text has a line starting with prefix.
func containsLine(text, prefix string) bool {
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, prefix) {
			return true
		}
	}
	return false
}

// TestWalletLoginFloodCannotLockTheCustomerOut: the same for the wallet
// app's login.
func TestWalletLoginFloodCannotLockTheCustomerOut(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		c := api.newCustomer(t)
		got := api.flood(t, 300, "203.0.113.66", func(i int) (string, string, string, any) {
			phone := randomPhone()
			if i%3 == 0 {
				phone = c.Phone
			}
			return "POST", "/v1/wallet/login", "", map[string]string{"phone": phone, "password": "guess-" + strconv.Itoa(i)}
		})
		if got["401 INVALID_CREDENTIALS"]+got["429 TOO_MANY_ATTEMPTS"] != 300 {
			t.Fatalf("answers to the flood: %v", got)
		}
		wantStatus(t, api.requestWith(t, "POST", "/v1/wallet/login", "", map[string]string{"phone": c.Phone, "password": c.Password}, from("198.51.100.7")), http.StatusOK)
	}, withTrustedProxies("127.0.0.1/32"))
}

// TestDynamicPasswordFloodAtOneMerchantCannotStopAnother is issue 17's
// second attack: a merchant's cashier types wrong dynamic passwords for a
// customer's phone, again and again. That merchant is locked out of the
// phone; the customer still pays at another merchant, first time. (The
// guard over a phone failing at many merchants: wallet's
// TestDynamicPasswordGuessesAtManyMerchants.)
func TestDynamicPasswordFloodAtOneMerchantCannotStopAnother(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		w := api.newWorld(t)
		victim := api.newCustomer(t)
		api.fund(t, victim, 10_000)
		pay := func(token, otn, password string) *response {
			return api.request(t, "POST", "/v1/payments/dynamic-password", token,
				map[string]any{"out_trade_no": otn, "amount": 100, "phone": victim.Phone, "password": password})
		}
		attacker := w.Cashiers[0].Access
		got := map[string]int{}
		for i := range 200 {
			r := pay(attacker, fmt.Sprintf("flood-%d", i), fmt.Sprintf("%06d", i))
			got[strconv.Itoa(r.Status)+" "+r.errorCode(t)]++
		}
		if got["429 TOO_MANY_ATTEMPTS"] < 190 {
			t.Fatalf("answers to the flood: %v", got)
		}
		// The rival merchant's cashier takes the customer's payment.
		api.logIn(t, w.Rival.Owner)
		r := pay(w.Rival.Owner.Access, "rival-1", api.freshPassword(t, victim))
		wantStatus(t, r, http.StatusCreated)
		if st := order(t, r)["state"]; st != "PAID" {
			t.Fatalf("the rival's payment: %v", st)
		}
		// The flooding merchant stays locked out of the phone, even with
		// the right password.
		api.Clock.Advance(time.Minute)
		wantError(t, pay(attacker, "flood-right", api.freshPassword(t, victim)), http.StatusTooManyRequests, "TOO_MANY_ATTEMPTS")
		if got := api.cash(t, victim); got != 10_000-100 {
			t.Fatalf("victim's cash %d, want %d", got, 10_000-100)
		}
		api.mustBeSound(t)
	})
}
