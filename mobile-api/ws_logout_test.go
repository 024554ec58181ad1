package mobileapi

import (
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/paydesk/paydesk/internal/testkit"
	"github.com/paydesk/paydesk/push"
	"github.com/paydesk/paydesk/storage"
)

// secondLogin logs m in again, as from another device, and returns that
// login's member.
func (api *testAPI) secondLogin(t *testing.T, m *member) *member {
	t.Helper()
	other := &member{Staff: m.Staff, Password: m.Password}
	api.logIn(t, other)
	return other
}

// logout logs the login of (access, refresh) out through path.
func (api *testAPI) logout(t *testing.T, path, access, refresh string) {
	t.Helper()
	wantStatus(t, api.request(t, "POST", path, access, map[string]string{"refresh_token": refresh}), http.StatusNoContent)
}

// refusedWS checks that token opens no socket, with 401.
func (api *testAPI) refusedWS(t *testing.T, token string) {
	t.Helper()
	if _, res, err := api.tryDialWS(token, "", viaHeader); err == nil || res == nil || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("dialled with a logged-out token: %v %v", err, res)
	}
}

// TestWSLogoutClosesThatLoginsSockets: a cashier logged in on a phone and
// a tablet logs the phone out; the phone's sockets close with 4003, the
// tablet's live on and it reconnects; the phone's access token, which still
// verifies, opens no new socket; nobody is shown the session's end. The
// same for a customer's two logins.
func TestWSLogoutClosesThatLoginsSockets(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		w := api.newWorld(t)
		phone := w.Cashiers[0]
		tablet := api.secondLogin(t, phone)
		p1 := api.dialWS(t, phone.Access, "", viaHeader)
		p2 := api.dialWS(t, phone.Access, "", viaProtocol)
		tab := api.dialWS(t, tablet.Access, "", viaHeader)
		owner := api.dialWS(t, w.Owner.Access, "", viaHeader)
		for _, c := range []*wsClient{p1, p2, tab, owner} {
			c.ready(t)
		}

		api.logout(t, "/v1/auth/logout", phone.Access, phone.Refresh)
		p1.closedWith(t, CloseLoggedOut)
		p2.closedWith(t, CloseLoggedOut)
		api.waitMetrics(t, `paydesk_websockets_closed_total{reason="logged_out"} 2`, "paydesk_websockets_open 2")
		api.refusedWS(t, phone.Access)

		// The tablet's socket lives on, and the tablet can reconnect.
		again := api.dialWS(t, tablet.Access, "", viaProtocol)
		again.ready(t)
		id := api.payQR(t, tablet, w.Customer, 100)
		for _, c := range []*wsClient{tab, again, owner} {
			if m := c.next(t); m.Type != "payment.paid" || m.OrderID != id {
				t.Fatalf("got %+v, want payment.paid of order %d (and no session.ended)", m, id)
			}
		}

		// A customer's two logins: the same.
		c1 := w.Customer
		r := api.request(t, "POST", "/v1/wallet/login", "", map[string]string{"phone": c1.Phone, "password": c1.Password})
		wantStatus(t, r, http.StatusOK)
		c2 := &customer{ID: c1.ID, Phone: c1.Phone, Password: c1.Password, Access: str(t, r.JSON, "access_token"), Refresh: str(t, r.JSON, "refresh_token")}
		s1 := api.dialWS(t, c1.Access, "", viaHeader)
		s2 := api.dialWS(t, c2.Access, "", viaHeader)
		s1.ready(t)
		s2.ready(t)
		api.logout(t, "/v1/wallet/logout", c1.Access, c1.Refresh)
		s1.closedWith(t, CloseLoggedOut)
		api.refusedWS(t, c1.Access)
		id = api.payQR(t, tablet, c2, 200)
		if m := s2.next(t); m.Type != "payment.paid" || m.OrderID != id {
			t.Fatalf("the customer's other login got %+v, want payment.paid of order %d", m, id)
		}
	})
}

// TestWSLogoutTwoInstances: the cashier's sockets are on A, the logout goes
// through B; A closes the logged-out login's socket, and only it, at once
// (A polls hourly: the session.ended event's wake-up came through Redis).
func TestWSLogoutTwoInstances(t *testing.T) {
	rdb := testkit.Redis(t)
	d := storage.MySQL
	if os.Getenv("PAYDESK_TEST_MYSQL") == "skip" {
		d = storage.SQLite
	}
	ch := testkit.Unique("paydesk:test:")
	a := newTestAPI(t, d, withPush(push.Config{Bus: push.NewRedisBus(rdb, ch), PollInterval: time.Hour}))
	b := newTestAPI(t, d, onDB(a.DB), withPush(push.Config{Bus: push.NewRedisBus(rdb, ch), PollInterval: time.Hour}))
	w := a.newWorld(t)
	phone := w.Cashiers[0]
	tablet := a.secondLogin(t, phone)
	p := a.dialWS(t, phone.Access, "", viaHeader)
	tab := a.dialWS(t, tablet.Access, "", viaHeader)
	p.ready(t)
	tab.ready(t)

	b.logout(t, "/v1/auth/logout", phone.Access, phone.Refresh)
	p.closedWith(t, CloseLoggedOut)
	a.refusedWS(t, phone.Access)
	id := b.payQR(t, tablet, w.Customer, 100)
	if m := tab.next(t); m.Type != "payment.paid" || m.OrderID != id {
		t.Fatalf("the tablet got %+v, want payment.paid of order %d", m, id)
	}
	tab.none(t)
}
