package mobileapi

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/rbac"
)

// The /v1/auth routes through the real server, on SQLite and MySQL.

func TestLogin(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		m, store, owner := api.openMerchant(t, "Lotus")
		manager := api.addStaff(t, owner, rbac.Manager, store.ID)

		for _, tt := range []struct {
			who          *member
			role         string
			merchant, st int64
		}{
			{owner, "owner", m.ID, 0},
			{manager, "manager", m.ID, store.ID},
		} {
			r := api.login(t, tt.who.Phone, tt.who.Password)
			wantStatus(t, r, http.StatusOK)
			if str(t, r.JSON, "access_token") == "" || str(t, r.JSON, "refresh_token") == "" ||
				num(t, r.JSON, "expires_in") != 900 || str(t, r.JSON, "token_type") != "Bearer" {
				t.Fatalf("login answered %s", r.Raw)
			}
			staff, _ := r.JSON["staff"].(map[string]any)
			if staff == nil || num(t, staff, "id") != tt.who.ID || str(t, staff, "role") != tt.role ||
				num(t, staff, "merchant_id") != tt.merchant || optID(t, staff, "store_id") != tt.st {
				t.Fatalf("login of the %s answered staff %v, want id %d role %s merchant %d store %d", tt.role, staff, tt.who.ID, tt.role, tt.merchant, tt.st)
			}
			if strings.Contains(string(r.Raw), tt.who.Password) || strings.Contains(string(r.Raw), "argon2") {
				t.Fatalf("login answer carries the password or its hash: %s", r.Raw)
			}
			wantStatus(t, api.request(t, "GET", "/v1/staff", str(t, r.JSON, "access_token"), nil), http.StatusOK)
		}

		// Phone numbers are matched after spaces and dashes are dropped.
		p := owner.Phone
		wantStatus(t, api.login(t, p[:3]+" "+p[3:7]+"-"+p[7:], owner.Password), http.StatusOK)

		// A wrong password, an unknown phone and a malformed phone answer alike.
		for _, c := range [][2]string{{owner.Phone, "wrong-password"}, {"13999999999", owner.Password}, {"not a phone", "whatever-1"}, {owner.Phone, ""}} {
			wantError(t, api.login(t, c[0], c[1]), http.StatusUnauthorized, "INVALID_CREDENTIALS")
		}
	})
}

func TestLoginIsThrottled(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		_, _, owner := api.openMerchant(t, "Lotus")
		for i := 0; i < 5; i++ {
			wantError(t, api.login(t, owner.Phone, "wrong-password"), http.StatusUnauthorized, "INVALID_CREDENTIALS")
		}
		// Locked: even the right password is refused, with the time to wait.
		r := api.login(t, owner.Phone, owner.Password)
		wantError(t, r, http.StatusTooManyRequests, "TOO_MANY_ATTEMPTS")
		if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s <= 0 || s > 15*60 {
			t.Fatalf("Retry-After %q, want 1 to 900 seconds", r.Header.Get("Retry-After"))
		}
		api.Clock.Advance(10 * time.Minute)
		r = api.login(t, owner.Phone, owner.Password)
		wantError(t, r, http.StatusTooManyRequests, "TOO_MANY_ATTEMPTS")
		if s, _ := strconv.Atoi(r.Header.Get("Retry-After")); s <= 0 || s > 5*60 {
			t.Fatalf("Retry-After %q 10 minutes into a 15-minute lock, want at most 300", r.Header.Get("Retry-After"))
		}
		api.Clock.Advance(5 * time.Minute)
		wantStatus(t, api.login(t, owner.Phone, owner.Password), http.StatusOK)

		t.Run("the lock holds however the phone is written", func(t *testing.T) {
			// The counters are keyed on the normalised number: another
			// spelling of the phone gets no fresh budget of guesses.
			for i := 0; i < 5; i++ {
				wantError(t, api.login(t, owner.Phone, "wrong-password"), http.StatusUnauthorized, "INVALID_CREDENTIALS")
			}
			p := owner.Phone
			wantError(t, api.login(t, p[:3]+" "+p[3:7]+" "+p[7:], owner.Password), http.StatusTooManyRequests, "TOO_MANY_ATTEMPTS")
		})
	})
}

func TestRefreshRotatesAndLogoutRevokes(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		_, _, owner := api.openMerchant(t, "Lotus")
		other := *owner
		api.logIn(t, owner)
		api.logIn(t, &other) // a second device: a session of its own

		refresh := func(token string) *response {
			return api.request(t, "POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": token})
		}

		t.Run("refresh rotates; reuse revokes the session", func(t *testing.T) {
			r := refresh(owner.Refresh)
			wantStatus(t, r, http.StatusOK)
			access, next := str(t, r.JSON, "access_token"), str(t, r.JSON, "refresh_token")
			if next == owner.Refresh || access == owner.Access || num(t, r.JSON, "expires_in") != 900 {
				t.Fatalf("refresh answered %s", r.Raw)
			}
			wantStatus(t, api.request(t, "GET", "/v1/staff", access, nil), http.StatusOK)

			wantError(t, refresh(owner.Refresh), http.StatusUnauthorized, "REFRESH_TOKEN_REUSED")
			// The newer token belonged to the same session and died with it.
			wantError(t, refresh(next), http.StatusUnauthorized, "REFRESH_TOKEN_INVALID")
			// The other device is untouched.
			r = refresh(other.Refresh)
			wantStatus(t, r, http.StatusOK)
			other.Refresh = str(t, r.JSON, "refresh_token")
		})

		t.Run("logout revokes", func(t *testing.T) {
			api.logIn(t, owner)
			logout := func(token string) *response {
				return api.request(t, "POST", "/v1/auth/logout", owner.Access, map[string]string{"refresh_token": token})
			}
			wantStatus(t, logout(owner.Refresh), http.StatusNoContent)
			wantError(t, refresh(owner.Refresh), http.StatusUnauthorized, "REFRESH_TOKEN_INVALID")
			wantStatus(t, logout(owner.Refresh), http.StatusNoContent) // again: nothing left to do
			wantError(t, api.request(t, "POST", "/v1/auth/logout", "", map[string]string{"refresh_token": other.Refresh}),
				http.StatusUnauthorized, "UNAUTHORIZED")
			wantStatus(t, refresh(other.Refresh), http.StatusOK)
		})

		t.Run("unknown refresh tokens", func(t *testing.T) {
			for _, tok := range []string{"", "nope", strings.Repeat("A", 43)} {
				wantError(t, refresh(tok), http.StatusUnauthorized, "REFRESH_TOKEN_INVALID")
			}
		})
	})
}

func TestAccessTokenExpires(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		_, _, owner := api.openMerchant(t, "Lotus")
		api.logIn(t, owner)
		api.Clock.Advance(14 * time.Minute)
		wantStatus(t, api.request(t, "GET", "/v1/staff", owner.Access, nil), http.StatusOK)
		api.Clock.Advance(2 * time.Minute)
		wantError(t, api.request(t, "GET", "/v1/staff", owner.Access, nil), http.StatusUnauthorized, "TOKEN_EXPIRED")

		r := api.request(t, "POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": owner.Refresh})
		wantStatus(t, r, http.StatusOK)
		wantStatus(t, api.request(t, "GET", "/v1/staff", str(t, r.JSON, "access_token"), nil), http.StatusOK)
	})
}
