package mobileapi

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/merchant"
	"github.com/paydesk/paydesk/rbac"
)

// The /v1/staff routes through the real server, on SQLite and MySQL. Each
// subtest of TestStaff works on staff of its own, so that the world (logged
// in once per database) can be shared.

// staffPath is the path of a staff action such as "disable".
func staffPath(id int64, action string) string { return fmt.Sprintf("/v1/staff/%d/%s", id, action) }

// newStaffBody is a valid POST /v1/staff body.
func newStaffBody(api *testAPI, role string, storeID int64) map[string]any {
	return map[string]any{"name": "New " + role, "phone": api.nextPhone(), "password": role + "-pass-1", "role": role, "store_id": storeID}
}

// added turns a 201 answer of POST /v1/staff into a member that can log in.
func added(t *testing.T, r *response, body map[string]any) *member {
	t.Helper()
	wantStatus(t, r, http.StatusCreated)
	m := &member{Password: body["password"].(string)}
	m.ID, m.MerchantID, m.StoreID = num(t, r.JSON, "id"), num(t, r.JSON, "merchant_id"), optID(t, r.JSON, "store_id")
	m.Role, m.Phone, m.Status = rbac.Role(str(t, r.JSON, "role")), str(t, r.JSON, "phone"), str(t, r.JSON, "status")
	return m
}

// listedStaff returns the staff GET /v1/staff shows token's holder.
func listedStaff(t *testing.T, api *testAPI, token string) []map[string]any {
	t.Helper()
	r := api.request(t, "GET", "/v1/staff", token, nil)
	wantStatus(t, r, http.StatusOK)
	list, ok := r.JSON["items"].([]any)
	if _, has := r.JSON["next_cursor"]; !ok || !has {
		t.Fatalf("GET /v1/staff answered %s", r.Raw)
	}
	out := make([]map[string]any, len(list))
	for i, s := range list {
		out[i] = s.(map[string]any)
	}
	return out
}

func TestStaff(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		w := api.newWorld(t)
		owner, manager := w.Owner, w.Managers[0]

		t.Run("owner adds managers and cashiers", func(t *testing.T) {
			body := newStaffBody(api, "manager", w.Stores[1].ID)
			m := added(t, api.request(t, "POST", "/v1/staff", owner.Access, body), body)
			if m.Role != rbac.Manager || m.MerchantID != w.Merchant.ID || m.StoreID != w.Stores[1].ID || m.Status != merchant.Active || m.Phone != body["phone"] {
				t.Fatalf("added %+v from %v", m, body)
			}
			body = newStaffBody(api, "cashier", w.Stores[0].ID)
			c := added(t, api.request(t, "POST", "/v1/staff", owner.Access, body), body)
			api.logIn(t, c)

			var ids []int64
			for _, s := range listedStaff(t, api, owner.Access) {
				ids = append(ids, num(t, s, "id"))
			}
			for _, want := range append(w.members(), m, c) {
				if !slices.Contains(ids, want.ID) {
					t.Errorf("the owner's list lacks %s %d: %v", want.Role, want.ID, ids)
				}
			}
		})

		t.Run("add refuses bad staff", func(t *testing.T) {
			for _, tt := range []struct {
				name   string
				change func(map[string]any)
				status int
				code   string
			}{
				{"taken phone", func(b map[string]any) { b["phone"] = w.Cashiers[0].Phone }, http.StatusConflict, "PHONE_TAKEN"},
				{"rival's phone", func(b map[string]any) { b["phone"] = w.Rival.Owner.Phone }, http.StatusConflict, "PHONE_TAKEN"},
				{"rival's store", func(b map[string]any) { b["store_id"] = w.Rival.Store.ID }, http.StatusNotFound, "STORE_NOT_FOUND"},
				{"no store", func(b map[string]any) { delete(b, "store_id") }, http.StatusNotFound, "STORE_NOT_FOUND"},
				{"unknown role", func(b map[string]any) { b["role"] = "boss" }, http.StatusBadRequest, "INVALID_ARGUMENT"},
				{"no name", func(b map[string]any) { b["name"] = " " }, http.StatusBadRequest, "INVALID_ARGUMENT"},
				{"bad phone", func(b map[string]any) { b["phone"] = "12ab" }, http.StatusBadRequest, "INVALID_PHONE"},
				{"short password", func(b map[string]any) { b["password"] = "short" }, http.StatusBadRequest, "WEAK_PASSWORD"},
			} {
				body := newStaffBody(api, "cashier", w.Stores[0].ID)
				tt.change(body)
				r := api.request(t, "POST", "/v1/staff", owner.Access, body)
				if r.Status != tt.status || r.errorCode(t) != tt.code {
					t.Errorf("%s: status %d, want %d %s; body %s", tt.name, r.Status, tt.status, tt.code, r.Raw)
				}
			}
		})

		t.Run("manager manages the cashiers of their own store", func(t *testing.T) {
			body := newStaffBody(api, "cashier", w.Stores[0].ID)
			c := added(t, api.request(t, "POST", "/v1/staff", manager.Access, body), body)
			if c.StoreID != manager.StoreID {
				t.Fatalf("manager's cashier went to store %d", c.StoreID)
			}
			wantError(t, api.request(t, "POST", "/v1/staff", manager.Access, newStaffBody(api, "cashier", w.Stores[1].ID)), http.StatusForbidden, "FORBIDDEN")
			wantError(t, api.request(t, "POST", "/v1/staff", manager.Access, newStaffBody(api, "manager", w.Stores[0].ID)), http.StatusForbidden, "FORBIDDEN")
			wantError(t, api.request(t, "POST", "/v1/staff", manager.Access, newStaffBody(api, "owner", 0)), http.StatusForbidden, "FORBIDDEN")

			for _, s := range listedStaff(t, api, manager.Access) {
				if num(t, s, "store_id") != manager.StoreID {
					t.Errorf("the manager of store %d lists %v", manager.StoreID, s)
				}
			}

			r := api.request(t, "POST", staffPath(c.ID, "disable"), manager.Access, nil)
			wantStatus(t, r, http.StatusOK)
			if str(t, r.JSON, "status") != merchant.Disabled || num(t, r.JSON, "id") != c.ID {
				t.Fatalf("disable answered %s", r.Raw)
			}
			r = api.request(t, "POST", staffPath(c.ID, "enable"), manager.Access, nil)
			wantStatus(t, r, http.StatusOK)
			if str(t, r.JSON, "status") != merchant.Active {
				t.Fatalf("enable answered %s", r.Raw)
			}
			wantStatus(t, api.request(t, "POST", staffPath(c.ID, "reset-password"), manager.Access, map[string]string{"password": "fresh-pass-1"}), http.StatusNoContent)

			// Staff the manager does not manage: other stores' and the
			// owner are not found; their own store's manager (themselves)
			// is visible but not theirs to manage.
			for _, target := range []*member{w.Cashiers[2], w.Managers[1], owner} {
				for _, action := range []string{"disable", "enable", "reset-password"} {
					r := api.request(t, "POST", staffPath(target.ID, action), manager.Access, actionBody(action, "fresh-pass-1"))
					wantError(t, r, http.StatusNotFound, "STAFF_NOT_FOUND")
				}
			}
			wantError(t, api.request(t, "POST", staffPath(manager.ID, "disable"), manager.Access, nil), http.StatusForbidden, "FORBIDDEN")
		})

		t.Run("disabling takes effect at once", func(t *testing.T) {
			body := newStaffBody(api, "cashier", w.Stores[0].ID)
			c := added(t, api.request(t, "POST", "/v1/staff", manager.Access, body), body)
			api.logIn(t, c)
			stillIn := func() *response {
				return api.request(t, "POST", "/v1/auth/logout", c.Access, map[string]string{"refresh_token": "not-a-refresh-token"})
			}
			wantStatus(t, stillIn(), http.StatusNoContent)

			wantStatus(t, api.request(t, "POST", staffPath(c.ID, "disable"), manager.Access, nil), http.StatusOK)
			if hooks := api.disabledHooks(); !slices.Contains(hooks, [2]int64{w.Merchant.ID, c.ID}) {
				t.Errorf("OnStaffDisabled calls %v lack (%d, %d)", hooks, w.Merchant.ID, c.ID)
			}
			wantError(t, stillIn(), http.StatusUnauthorized, "STAFF_DISABLED")
			wantError(t, api.request(t, "POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": c.Refresh}), http.StatusUnauthorized, "REFRESH_TOKEN_INVALID")
			wantError(t, api.login(t, c.Phone, c.Password), http.StatusForbidden, "STAFF_DISABLED")

			// Enabled again, they log in anew: the revoked refresh token stays so.
			wantStatus(t, api.request(t, "POST", staffPath(c.ID, "enable"), manager.Access, nil), http.StatusOK)
			wantError(t, api.request(t, "POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": c.Refresh}), http.StatusUnauthorized, "REFRESH_TOKEN_INVALID")
			api.logIn(t, c)
		})

		t.Run("reset password", func(t *testing.T) {
			body := newStaffBody(api, "cashier", w.Stores[0].ID)
			c := added(t, api.request(t, "POST", "/v1/staff", manager.Access, body), body)
			api.logIn(t, c)
			wantError(t, api.request(t, "POST", staffPath(c.ID, "reset-password"), manager.Access, map[string]string{"password": "short"}), http.StatusBadRequest, "WEAK_PASSWORD")
			wantStatus(t, api.request(t, "POST", staffPath(c.ID, "reset-password"), manager.Access, map[string]string{"password": "brand-new-pass"}), http.StatusNoContent)
			wantError(t, api.login(t, c.Phone, c.Password), http.StatusUnauthorized, "INVALID_CREDENTIALS")
			wantError(t, api.request(t, "POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": c.Refresh}), http.StatusUnauthorized, "REFRESH_TOKEN_INVALID")
			c.Password = "brand-new-pass"
			api.logIn(t, c)
		})

		t.Run("the last active owner stays", func(t *testing.T) {
			wantError(t, api.request(t, "POST", staffPath(owner.ID, "disable"), owner.Access, nil), http.StatusConflict, "LAST_OWNER")
			// An owner belongs to the whole merchant: a store_id is ignored.
			body := newStaffBody(api, "owner", w.Stores[0].ID)
			second := added(t, api.request(t, "POST", "/v1/staff", owner.Access, body), body)
			if second.Role != rbac.Owner || second.StoreID != 0 {
				t.Fatalf("added owner %+v", second.Staff)
			}
			wantStatus(t, api.request(t, "POST", staffPath(second.ID, "disable"), owner.Access, nil), http.StatusOK)
			wantError(t, api.request(t, "POST", staffPath(owner.ID, "disable"), owner.Access, nil), http.StatusConflict, "LAST_OWNER")
			// A retry of a done disable is a no-op, not a conflict.
			wantStatus(t, api.request(t, "POST", staffPath(second.ID, "disable"), owner.Access, nil), http.StatusOK)
		})

		t.Run("malformed requests", func(t *testing.T) {
			routes := []struct {
				path, token string
				wrongType   rawBody
			}{
				{"/v1/auth/login", "", `{"phone": 13800000001, "password": "x"}`},
				{"/v1/auth/refresh", "", `{"refresh_token": 1}`},
				{"/v1/auth/logout", owner.Access, `{"refresh_token": ["x"]}`},
				{"/v1/staff", owner.Access, `{"name": "x", "phone": "13800000099", "password": "password-1", "role": "cashier", "store_id": "1"}`},
				{staffPath(w.Cashiers[1].ID, "reset-password"), owner.Access, `{"password": 12345678}`},
			}
			for _, rt := range routes {
				for _, tt := range []struct {
					body rawBody
					code string
				}{
					{`{"password": "x"`, "MALFORMED_JSON"},
					{`not json`, "MALFORMED_JSON"},
					{`[]`, "MALFORMED_JSON"},
					{` `, "MALFORMED_JSON"},
					{`{} {}`, "MALFORMED_JSON"},
					{`{"bogus": 1}`, "UNKNOWN_FIELD"},
					{rt.wrongType, "INVALID_FIELD_TYPE"},
				} {
					r := api.request(t, "POST", rt.path, rt.token, tt.body)
					if r.Status != http.StatusBadRequest || r.errorCode(t) != tt.code {
						t.Errorf("POST %s %s: status %d, want 400 %s; body %s", rt.path, tt.body, r.Status, tt.code, r.Raw)
					}
				}
			}
		})

		t.Run("another merchant's staff are not found", func(t *testing.T) {
			rival := w.Rival.Owner
			before := map[int64]string{}
			for _, m := range w.members() {
				st, err := api.Staff.ByID(context.Background(), m.ID)
				if err != nil {
					t.Fatal(err)
				}
				before[m.ID] = st.Status
				for _, action := range []string{"disable", "enable", "reset-password"} {
					r := api.request(t, "POST", staffPath(m.ID, action), rival.Access, actionBody(action, "hijacked-pass"))
					wantError(t, r, http.StatusNotFound, "STAFF_NOT_FOUND")
				}
			}
			for _, m := range w.members() {
				if st, _ := api.Staff.ByID(context.Background(), m.ID); st.Status != before[m.ID] {
					t.Errorf("%s %d went from %s to %s", m.Role, m.ID, before[m.ID], st.Status)
				}
			}
			// The first merchant's owner, the other way round.
			for _, action := range []string{"disable", "enable", "reset-password"} {
				r := api.request(t, "POST", staffPath(rival.ID, action), owner.Access, actionBody(action, "hijacked-pass"))
				wantError(t, r, http.StatusNotFound, "STAFF_NOT_FOUND")
			}
			wantError(t, api.request(t, "POST", "/v1/staff", rival.Access, newStaffBody(api, "cashier", w.Stores[0].ID)), http.StatusNotFound, "STORE_NOT_FOUND")
			for _, s := range listedStaff(t, api, rival.Access) {
				if num(t, s, "merchant_id") != w.Rival.Merchant.ID {
					t.Errorf("the rival's owner lists %v", s)
				}
			}
			// Nobody's password changed: the manager still logs in.
			wantStatus(t, api.login(t, w.Managers[1].Phone, w.Managers[1].Password), http.StatusOK)
		})
	})
}

// actionBody is the body of a staff action: reset-password takes the new
// password, disable and enable nothing.
func actionBody(action, password string) any {
	if action == "reset-password" {
		return map[string]string{"password": password}
	}
	return nil
}

func TestOwnersDisableEachOther(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		m, _, a := api.openMerchant(t, "Lotus")
		b := api.addStaff(t, a, rbac.Owner, 0)
		api.logIn(t, a)
		api.logIn(t, b)
		var wg sync.WaitGroup
		res := make([]*response, 2)
		errs := make([]error, 2)
		wg.Go(func() { res[0], errs[0] = api.send("POST", staffPath(b.ID, "disable"), a.Access, nil) })
		wg.Go(func() { res[1], errs[1] = api.send("POST", staffPath(a.ID, "disable"), b.Access, nil) })
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		ok, deadlocked := 0, false
		for _, r := range res {
			switch {
			case r.Status == http.StatusOK:
				ok++
			case r.Status == http.StatusConflict && r.errorCode(t) == "LAST_OWNER":
			case r.Status == http.StatusUnauthorized && r.errorCode(t) == "STAFF_DISABLED":
				// The other's disable committed before this request was authenticated.
			case r.Status >= 500 && strings.Contains(api.Logs.String(), "Deadlock found"):
				deadlocked = true
			default:
				t.Errorf("status %d; body %s\nlog:\n%s", r.Status, r.Raw, api.Logs)
			}
		}
		list, err := api.Staff.List(context.Background(), cashier.Actor{MerchantID: m.ID, Role: rbac.Owner})
		if err != nil {
			t.Fatal(err)
		}
		active := 0
		for _, s := range list {
			if s.Status == merchant.Active {
				active++
			}
		}
		if ok != 1 || active != 1 {
			t.Fatalf("%d disables succeeded and %d owners are active; want 1 and 1", ok, active)
		}
		if deadlocked {
			t.Fatal("the loser of the race got a 5xx after a deadlock; want 409 LAST_OWNER")
		}
	})
}

// optID reads a nullable id: null is 0.
func optID(t *testing.T, obj map[string]any, key string) int64 {
	t.Helper()
	if v, ok := obj[key]; ok && v == nil {
		return 0
	}
	return num(t, obj, key)
}
