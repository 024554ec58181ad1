package mobileapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/push"
)

// refreshTokens exchanges a refresh token for a fresh pair over HTTP and
// returns the new access and refresh tokens.
func (api *testAPI) refreshTokens(t *testing.T, refresh string) (access, nextRefresh string) {
	t.Helper()
	r := api.request(t, "POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": refresh})
	wantStatus(t, r, http.StatusOK)
	return str(t, r.JSON, "access_token"), str(t, r.JSON, "refresh_token")
}

// metricsText returns the body of GET /metrics, as the private listener
// serves it.
func (api *testAPI) metricsText(t *testing.T) string {
	t.Helper()
	return serve(api.Server.MetricsHandler(), "GET", "/metrics", nil, nil).Body.String()
}

// waitMetrics waits until /metrics shows every line of want.
func (api *testAPI) waitMetrics(t *testing.T, want ...string) {
	t.Helper()
	var body string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		body = api.metricsText(t)
		missing := false
		for _, w := range want {
			if !strings.Contains(body, w+"\n") {
				missing = true
			}
		}
		if !missing {
			return
		}
	}
	for _, w := range want {
		if !strings.Contains(body, w+"\n") {
			t.Errorf("/metrics lacks %s", w)
		}
	}
	t.FailNow()
}

// TestWSTokenExpiry: a socket ends with 4002 when the access token it was
// opened with expires, staff and customer alike, and the expired token
// opens no new one; with a refreshed token and last_seq the client gets
// exactly the events it missed meanwhile. /metrics counts the sockets.
func TestWSTokenExpiry(t *testing.T) {
	// The writer checks the (test) clock at every ping.
	t.Cleanup(setWSTiming(20*time.Millisecond, 5*time.Second))
	eachAPI(t, func(t *testing.T, api *testAPI) {
		w := api.newWorld(t)
		cashier, payer := w.Cashiers[0], w.Customer
		c := api.dialWS(t, cashier.Access, "", viaProtocol)
		p := api.dialWS(t, payer.Access, "", viaHeader)
		c.ready(t)
		p.ready(t)
		api.waitMetrics(t, "paydesk_websockets_open 2")
		api.payQR(t, cashier, payer, 100)
		seen, paySeen := c.next(t), p.next(t)

		api.Clock.Advance(30 * time.Second)
		c.none(t) // half-way through the token's life: still open
		api.Clock.Advance(30 * time.Second)
		c.closedWith(t, CloseTokenExpired)
		p.closedWith(t, CloseTokenExpired)
		api.waitMetrics(t, "paydesk_websockets_open 0", `paydesk_websockets_closed_total{reason="token_expired"} 2`)
		// Still inside the verifier's leeway for clock skew, but a socket
		// would die at once: refused.
		if _, res, err := api.tryDialWS(cashier.Access, "", viaHeader); err == nil || res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("dial with the expired token: %v %v", err, res)
		}

		cashier.Access, cashier.Refresh = api.refreshTokens(t, cashier.Refresh)
		payer.Access, payer.Refresh = api.refreshTokens(t, payer.Refresh)
		var missed []int64
		for i := range 2 {
			missed = append(missed, api.payQR(t, cashier, payer, int64(200+i)))
		}
		again := api.dialWS(t, cashier.Access, fmt.Sprintf("last_seq=%d", seen.Seq), viaHeader)
		for i, id := range missed {
			if m := again.next(t); m.Type != "payment.paid" || m.OrderID != id || m.Seq != seen.Seq+1+int64(i) {
				t.Fatalf("replayed %+v, want order %d as seq %d", m, id, seen.Seq+1+int64(i))
			}
		}
		if seq := again.ready(t); seq != seen.Seq+2 {
			t.Fatalf("ready at %d, want %d", seq, seen.Seq+2)
		}
		again.none(t)
		payerAgain := api.dialWS(t, payer.Access, fmt.Sprintf("last_seq=%d", paySeen.Seq), viaProtocol)
		for i, id := range missed {
			if m := payerAgain.next(t); m.OrderID != id || m.Seq != paySeen.Seq+1+int64(i) {
				t.Fatalf("the payer got %+v, want order %d", m, id)
			}
		}
		payerAgain.ready(t)
		api.waitMetrics(t, "paydesk_websockets_open 2")
	}, withAccessTTL(time.Minute))
}

// TestWSResumeAfterRetention: once the outbox has purged the events after
// a client's last_seq, resuming from it answers ready with resync (reload
// through the API) instead of skipping them silently; resuming from the
// last purged number still replays the rest.
func TestWSResumeAfterRetention(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		w := api.newWorld(t)
		cashier, payer := w.Cashiers[0], w.Customer
		for range 3 {
			api.payQR(t, cashier, payer, 100) // seq 1..3
		}
		api.Clock.Advance(push.DefaultRetention + time.Hour)
		cashier.Access, cashier.Refresh = api.refreshTokens(t, cashier.Refresh)
		payer.Access, payer.Refresh = api.refreshTokens(t, payer.Refresh)
		kept := api.payQR(t, cashier, payer, 400) // seq 4
		n, err := api.Outbox.Purge(context.Background(), api.Clock.Now().Add(-push.DefaultRetention))
		if err != nil || n != 3 {
			t.Fatalf("Purge = %d, %v; want the 3 old events", n, err)
		}

		behind := api.dialWS(t, cashier.Access, "last_seq=1", viaHeader)
		if m := behind.next(t); m.Type != "ready" || m.Seq != 4 || !m.Resync {
			t.Fatalf("resuming from purged events got %+v, want ready at 4 with resync", m)
		}
		behind.none(t)
		payerBehind := api.dialWS(t, payer.Access, "last_seq=0", viaProtocol)
		if m := payerBehind.next(t); m.Type != "ready" || m.Seq != 4 || !m.Resync {
			t.Fatalf("the payer got %+v, want ready at 4 with resync", m)
		}

		current := api.dialWS(t, cashier.Access, "last_seq=3", viaHeader)
		if m := current.next(t); m.OrderID != kept || m.Seq != 4 {
			t.Fatalf("got %+v, want order %d as seq 4", m, kept)
		}
		if m := current.next(t); m.Type != "ready" || m.Seq != 4 || m.Resync {
			t.Fatalf("got %+v, want ready at 4 without resync", m)
		}
	})
}
