package mobileapi

import (
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"
)

// withSockets sets the websocket limits.
func withSockets(l SocketLimits) apiOption { return func(o *apiOptions) { o.sockets = l } }

// wsRefused checks that token opens no socket: 429 TOO_MANY_SOCKETS with
// Retry-After, before the upgrade.
func (api *testAPI) wsRefused(t *testing.T, token string) {
	t.Helper()
	_, res, err := api.tryDialWS(token, "", viaHeader)
	if err == nil || res == nil || res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") != "60" {
		t.Fatalf("dial over the limit: %v, %+v; want 429 with Retry-After 60", err, res)
	}
	raw, _ := io.ReadAll(res.Body)
	var body errorBody
	if err := json.Unmarshal(raw, &body); err != nil || body.Error.Code != "TOO_MANY_SOCKETS" {
		t.Fatalf("refusal body %s, want TOO_MANY_SOCKETS", raw)
	}
}

// TestWSLimits: one access token opens at most PerToken sockets at once,
// the tokens of one login PerLogin between them; one more is refused with
// 429 TOO_MANY_SOCKETS, counted in /metrics; another login of the same
// person has limits of its own; and a socket that closes frees its place.
func TestWSLimits(t *testing.T) {
	api := newTestAPI(t, "sqlite", withSockets(SocketLimits{PerToken: 2, PerLogin: 3}))
	w := api.newWorld(t)
	cashier := w.Cashiers[0]
	first := api.dialWS(t, cashier.Access, "", viaHeader)
	first.ready(t)
	api.dialWS(t, cashier.Access, "", viaProtocol).ready(t)
	api.wsRefused(t, cashier.Access)

	// A refreshed token of the same login: its own two, but three for the login.
	access, _ := api.refreshTokens(t, cashier.Refresh)
	api.dialWS(t, access, "", viaHeader).ready(t)
	api.wsRefused(t, access)

	// The same cashier on another device is another login.
	other := api.secondLogin(t, cashier)
	api.dialWS(t, other.Access, "", viaHeader).ready(t)
	api.dialWS(t, other.Access, "", viaHeader).ready(t)
	api.waitMetrics(t, `paydesk_websockets_refused_total{limit="token"} 1`, `paydesk_websockets_refused_total{limit="login"} 1`,
		"paydesk_websockets_open 5")

	// Closing one of the first token's sockets frees a place for it.
	first.conn.Close()
	api.waitMetrics(t, "paydesk_websockets_open 4")
	api.dialWS(t, cashier.Access, "", viaHeader).ready(t)
	api.wsRefused(t, cashier.Access)
}

// TestSocketCountsUnderConcurrency: of 64 sockets of one token opened at
// once, exactly the limit get a place, whatever the interleaving; once all
// are released nothing is counted, so no token or login leaks memory.
func TestSocketCountsUnderConcurrency(t *testing.T) {
	var counts socketCounts
	lim := SocketLimits{PerToken: 8, PerLogin: 12}
	var mu sync.Mutex
	var releases []func()
	refused := map[string]int{}
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			token := "token-a"
			if i%2 == 1 {
				token = "token-b" // the same login
			}
			release, why := counts.acquire(lim, token, "login-1")
			mu.Lock()
			defer mu.Unlock()
			if why != "" {
				refused[why]++
				return
			}
			releases = append(releases, release)
		})
	}
	wg.Wait()
	if len(releases) != 12 || refused[limitToken]+refused[limitLogin] != 52 {
		t.Fatalf("%d sockets got a place, refused %v; want 12 (the login's limit)", len(releases), refused)
	}
	for _, r := range releases {
		wg.Go(func() { r(); r() }) // a second release is a no-op
	}
	wg.Wait()
	if len(counts.byToken) != 0 || len(counts.byLogin) != 0 {
		t.Fatalf("counts left after every release: %v %v", counts.byToken, counts.byLogin)
	}
}
