package mobileapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/internal/app"
	"github.com/paydesk/paydesk/internal/app/apptest"
	"github.com/paydesk/paydesk/internal/testkit"
	"github.com/paydesk/paydesk/merchant"
	"github.com/paydesk/paydesk/push"
	"github.com/paydesk/paydesk/rbac"
	"github.com/paydesk/paydesk/settlement"
	"github.com/paydesk/paydesk/sms"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
	"github.com/paydesk/paydesk/throttle"
)

// This file is the end-to-end harness of the package's tests: the whole API
// on a real, migrated database (SQLite and MySQL alike), served over HTTP by
// httptest, with a clock the test moves. Later tests reuse it:
//
//	eachAPI(t, func(t *testing.T, api *testAPI) {
//		w := api.newWorld(t)
//		status, body := api.do(t, "GET", "/v1/staff", w.Owner.Access, nil)
//		...
//	})

// testStart is where every test's clock starts: a Wednesday morning in
// Shanghai, far from any day boundary.
var testStart = time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)

// testPublicURL is the public base URL the harness's QR payloads and links
// are built on.
const testPublicURL = "https://pay.paydesk.test"

// testAPI is the API with its services on one real database: the
// services are internal/app's, built as cmd/paydesk builds them but for
// the clock, the cheap passwords and the bank, whose payouts wait for
// Bank.Complete and then call back through POST /v1/bank/callbacks. The
// tests pass the background jobs themselves (Dispatcher.RunOnce, Tick),
// with the harness's clock.
type testAPI struct {
	*app.App
	Dialect storage.Dialect
	// Clock is the clock the test moves; the App's Clock reads it.
	Clock *testkit.Clock
	// Push is real-time push: the hub serves /v1/ws.
	Push   *push.Hub
	Server *Server
	// URL is the base URL of the running server, without a trailing slash.
	URL string
	// Logs collects everything the server logs, as JSON lines.
	Logs *logBuffer
	// SMS is the dev SMS channel the registration codes go through.
	SMS *sms.Dev

	client    *http.Client
	phones    atomic.Int64
	customers atomic.Int64
	orders    atomic.Int64

	mu       sync.Mutex
	disabled [][2]int64 // (merchant, staff) per OnStaffDisabled call
}

// apiOptions tune newTestAPI.
type apiOptions struct {
	policy string
	db     *storage.DB // nil: a fresh database
	push   push.Config
	tokens rbac.TokenOptions
	// proxies and limiter are Config.TrustedProxies and Config.Limiter;
	// limiter is called with the test's clock.
	proxies []string
	limiter func(paydesk.Clock) throttle.Limiter
	// sockets bound the websockets per token and login; zero: the defaults.
	sockets SocketLimits
	// cacheTTL is app.Settings.CacheTTL; zero: the default.
	cacheTTL time.Duration
}

// withCacheTTL keeps staff rows and merchants cached for d of the test's
// clock, instead of app.DefaultCacheTTL.
func withCacheTTL(d time.Duration) apiOption {
	return func(o *apiOptions) { o.cacheTTL = d }
}

// withTrustedProxies believes the X-Forwarded-For of these proxies (the
// tests' own 127.0.0.1/32 lets a test say which client it is).
func withTrustedProxies(cidrs ...string) apiOption {
	return func(o *apiOptions) { o.proxies = cidrs }
}

// withRateLimits turns the per-route-class rate limits on, with in-memory
// buckets on the test's clock.
func withRateLimits() apiOption {
	return func(o *apiOptions) {
		o.limiter = func(c paydesk.Clock) throttle.Limiter { return throttle.NewMemory(c) }
	}
}

// apiOption changes how newTestAPI builds the API.
type apiOption func(*apiOptions)

// withPolicy loads the access policy from the file at path instead of the
// embedded default, as the operator's --policy flag does.
func withPolicy(path string) apiOption { return func(o *apiOptions) { o.policy = path } }

// withAccessTTL gives access tokens a life of d instead of 15 minutes.
func withAccessTTL(d time.Duration) apiOption {
	return func(o *apiOptions) { o.tokens.AccessTTL = d }
}

// newTestAPI opens a fresh database of dialect d and serves the API on it,
// wired as cmd/paydesk wires it except for the clock. Everything is closed
// when t ends.
func newTestAPI(t *testing.T, d storage.Dialect, opts ...apiOption) *testAPI {
	t.Helper()
	var o apiOptions
	for _, opt := range opts {
		opt(&o)
	}
	if o.db == nil {
		o.db = storagetest.Open(t, d)
	}
	api := &testAPI{Dialect: d, Clock: testkit.NewClock(testStart), SMS: sms.NewDev(nil), client: &http.Client{Timeout: 30 * time.Second,
		// The concurrency tests hold dozens of requests in flight at once.
		Transport: &http.Transport{MaxIdleConnsPerHost: 128}}}
	// As cmd/paydesk wires it: a logout closes the login's sockets.
	o.tokens.SessionEnded = SessionEnded(func() *push.Hub { return api.Push })
	s := apptest.Settings()
	s.Tokens, s.Policy, s.PublicURL, s.SMS, s.CacheTTL = o.tokens, o.policy, testPublicURL, api.SMS, o.cacheTTL
	s.Bank.CallbackSecret = []byte(testBankSecret)
	s.Bank.Deliver = bank.PostCallbacks(api.client, func() string { return api.URL + "/v1/bank/callbacks" })
	s.Settlement = settlement.Config{CallbackSecret: []byte(testBankSecret)}
	api.App = apptest.Build(t, o.db, s, api.Clock.Now)
	o.push.Seen = api.App.Seen // as cmd/paydesk wires it
	api.Push = push.NewHub(api.Outbox, o.push)
	if err := api.Push.Start(context.Background()); err != nil {
		t.Fatalf("push: %v", err)
	}
	t.Cleanup(api.Push.Close)

	cfg := Config{
		TrustedProxies: o.proxies,
		Push:           api.Push,
		Sockets:        o.sockets,
		OnStaffDisabled: []func(merchantID, staffID int64){func(m, s int64) {
			api.mu.Lock()
			defer api.mu.Unlock()
			api.disabled = append(api.disabled, [2]int64{m, s})
		}, func(m, s int64) { api.Push.Disconnect(m, s) }},
	}
	if o.limiter != nil {
		cfg.Limiter = o.limiter(api.Clock.Now)
	}
	api.Logs = testLogs(&cfg)
	api.Server = NewServer(api.App, cfg)
	srv := httptest.NewServer(api.Server.Handler())
	t.Cleanup(srv.Close)
	t.Cleanup(api.client.CloseIdleConnections)
	api.URL = srv.URL
	return api
}

// eachAPI runs fn once per database of storagetest.Dialects(), each with its
// own API, as parallel subtests named after the dialect.
func eachAPI(t *testing.T, fn func(t *testing.T, api *testAPI), opts ...apiOption) {
	t.Helper()
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			fn(t, newTestAPI(t, d, opts...))
		})
	}
}

// disabledHooks returns the (merchant, staff) pairs OnStaffDisabled was
// called with, in order.
func (api *testAPI) disabledHooks() [][2]int64 {
	api.mu.Lock()
	defer api.mu.Unlock()
	return append([][2]int64(nil), api.disabled...)
}

// nextPhone returns a phone number no staff member of this database has.
func (api *testAPI) nextPhone() string {
	return fmt.Sprintf("1390000%04d", api.phones.Add(1))
}

// rawBody is a request body sent byte for byte, for malformed JSON.
type rawBody string

// response is what the server answered.
type response struct {
	Status int
	Header http.Header
	Raw    []byte
	// JSON is the body decoded as a JSON object; nil when it is not one.
	JSON map[string]any
}

// request sends one request to the server. body is nil (no body), a rawBody
// (sent as is) or anything else (sent as JSON); token, when not empty, goes
// in Authorization: Bearer.
func (api *testAPI) request(t *testing.T, method, path, token string, body any) *response {
	t.Helper()
	r, err := api.send(method, path, token, body)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// send is request for goroutines other than the test's, which must not
// call t.Fatal.
func (api *testAPI) send(method, path, token string, body any) (*response, error) {
	return api.sendWith(method, path, token, body, nil)
}

// requestWith is request with extra headers (an Idempotency-Key).
func (api *testAPI) requestWith(t *testing.T, method, path, token string, body any, header http.Header) *response {
	t.Helper()
	r, err := api.sendWith(method, path, token, body, header)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// sendWith is send with extra headers.
func (api *testAPI) sendWith(method, path, token string, body any, header http.Header) (*response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case rawBody:
		rd = strings.NewReader(string(b))
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			return nil, fmt.Errorf("%s %s: encode body: %w", method, path, err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, api.URL+path, rd)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	res, err := api.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: read body: %w", method, path, err)
	}
	r := &response{Status: res.StatusCode, Header: res.Header, Raw: raw}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		_ = json.Unmarshal(raw, &r.JSON) // not an object: JSON stays nil
	}
	return r, nil
}

// do sends one request and returns the status and the body as a JSON object
// (nil when the body is empty or not an object).
func (api *testAPI) do(t *testing.T, method, path, token string, body any) (int, map[string]any) {
	t.Helper()
	r := api.request(t, method, path, token, body)
	return r.Status, r.JSON
}

// errorCode checks that r is the error envelope of SPEC §7, with the request
// id of the X-Request-Id header, and returns its code.
func (r *response) errorCode(t *testing.T) string {
	t.Helper()
	var body errorBody
	dec := json.NewDecoder(bytes.NewReader(r.Raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		t.Fatalf("status %d: body is not the error envelope (%v): %q", r.Status, err, r.Raw)
	}
	e := body.Error
	if e.Code == "" || e.Message == "" || e.RequestID == "" || e.RequestID != r.Header.Get(RequestIDHeader) {
		t.Fatalf("status %d: envelope lacks code, message or the request id %q: %q", r.Status, r.Header.Get(RequestIDHeader), r.Raw)
	}
	return e.Code
}

// wantError fails t unless r is the error envelope with status and code.
func wantError(t *testing.T, r *response, status int, code string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d %s; body %s", r.Status, status, code, r.Raw)
	}
	if got := r.errorCode(t); got != code {
		t.Fatalf("status %d code %s, want %s; body %s", r.Status, got, code, r.Raw)
	}
}

// wantStatus fails t unless r answered status.
func wantStatus(t *testing.T, r *response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body %s", r.Status, status, r.Raw)
	}
}

// num returns the integer at key of a JSON object, failing when there is none.
func num(t *testing.T, obj map[string]any, key string) int64 {
	t.Helper()
	f, ok := obj[key].(float64)
	if !ok || f != float64(int64(f)) {
		t.Fatalf("%q is %v (%T), want an integer, in %v", key, obj[key], obj[key], obj)
	}
	return int64(f)
}

// str returns the string at key of a JSON object, failing when there is none.
func str(t *testing.T, obj map[string]any, key string) string {
	t.Helper()
	s, ok := obj[key].(string)
	if !ok {
		t.Fatalf("%q is %v (%T), want a string, in %v", key, obj[key], obj[key], obj)
	}
	return s
}

// member is a staff member the harness made: the row, the password it was
// given and, once logged in, its tokens.
type member struct {
	cashier.Staff
	Password string
	Access   string
	Refresh  string
}

// principal is the member as an access token carries it.
func (m *member) principal() rbac.Principal {
	return rbac.Principal{Kind: rbac.KindStaff, ID: m.ID, MerchantID: m.MerchantID, StoreID: m.StoreID, Role: m.Role}
}

// actor is the member as the merchant service's caller.
func (m *member) actor() cashier.Actor {
	return cashier.Actor{StaffID: m.ID, MerchantID: m.MerchantID, StoreID: m.StoreID, Role: m.Role, IP: "127.0.0.1"}
}

// login logs phone in through POST /v1/auth/login and returns the answer
// as is.
func (api *testAPI) login(t *testing.T, phone, password string) *response {
	t.Helper()
	return api.request(t, "POST", "/v1/auth/login", "", map[string]string{"phone": phone, "password": password})
}

// logIn logs m in through POST /v1/auth/login and keeps its tokens in m.
func (api *testAPI) logIn(t *testing.T, m *member) {
	t.Helper()
	r := api.login(t, m.Phone, m.Password)
	if r.Status != http.StatusOK {
		t.Fatalf("log in %s %d: status %d, body %s", m.Role, m.ID, r.Status, r.Raw)
	}
	m.Access, m.Refresh = str(t, r.JSON, "access_token"), str(t, r.JSON, "refresh_token")
}

// shop is a merchant as the demo seed makes one (SPEC §8): two stores, an
// owner, a manager per store and cashiers.
type shop struct {
	Merchant merchant.Merchant
	Stores   [2]merchant.Store
	Owner    *member
	// Managers[i] runs Stores[i].
	Managers [2]*member
	// Cashiers[0] and Cashiers[1] work in Stores[0], Cashiers[2] in Stores[1].
	Cashiers [3]*member
}

// members returns every staff member of the shop.
func (s *shop) members() []*member {
	return []*member{s.Owner, s.Managers[0], s.Managers[1], s.Cashiers[0], s.Cashiers[1], s.Cashiers[2]}
}

// rival is a second merchant with one store and its owner, whose ids must
// never open the first merchant's objects, nor the other way round.
type rival struct {
	Merchant merchant.Merchant
	Store    merchant.Store
	Owner    *member
}

// world is a shop and a rival merchant, everyone logged in once.
type world struct {
	shop
	Rival rival
	// Customer has a wallet with a bound card and worldCash in it.
	Customer *customer

	mu     sync.Mutex
	order  int64
	paying map[string]int64
	// hook and hookDelivery are a webhook endpoint of the merchant and a
	// delivery of it, made once (webhooks_test.go).
	hook, hookDelivery int64
}

// cashierOrder returns the id of an order of Cashiers[0], made once.
func (w *world) cashierOrder(api *testAPI) int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.order == 0 {
		o, _ := api.newQROrder(w.Cashiers[0], 100)
		w.order = o.ID
	}
	return w.order
}

// payingOrder returns the id of a payment of the world's customer that
// waits for the payer's confirmation, made once per name.
func (w *world) payingOrder(api *testAPI, name string) int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.paying == nil {
		w.paying = map[string]int64{}
	}
	if _, ok := w.paying[name]; !ok {
		w.paying[name] = api.payingOrder(w.Cashiers[0], w.Customer)
	}
	return w.paying[name]
}

// worldCash is what the world's customer starts with: 50,000.00, enough
// to pay above the no-password limit.
const worldCash = 5_000_000

// openMerchant creates a merchant with its first store and owner through
// merchant.Service.CreateMerchant, as the operator's command does.
func (api *testAPI) openMerchant(t *testing.T, name string) (merchant.Merchant, merchant.Store, *member) {
	t.Helper()
	owner := &member{Password: "owner-pass-" + name}
	opened, err := api.Merchants.CreateMerchant(context.Background(), merchant.NewMerchant{Name: name, StoreName: name + " 1",
		OwnerName: name + " owner", OwnerPhone: api.nextPhone(), OwnerPassword: owner.Password})
	if err != nil {
		t.Fatalf("create merchant %s: %v", name, err)
	}
	owner.Staff = opened.Owner
	return opened.Merchant, opened.Store, owner
}

// addStaff adds a staff member through the service, as by acting.
func (api *testAPI) addStaff(t *testing.T, by *member, role rbac.Role, storeID int64) *member {
	t.Helper()
	phone := api.nextPhone()
	m := &member{Password: string(role) + "-pass-" + phone}
	st, err := api.Staff.Add(context.Background(), by.actor(), cashier.NewStaff{Name: string(role), Phone: phone,
		Password: m.Password, Role: role, StoreID: storeID})
	if err != nil {
		t.Fatalf("add %s to store %d: %v", role, storeID, err)
	}
	m.Staff = st
	return m
}

// newShop creates a merchant with two stores, its owner, a manager per store
// and three cashiers, and logs none of them in.
func (api *testAPI) newShop(t *testing.T, name string) *shop {
	t.Helper()
	s := &shop{}
	s.Merchant, s.Stores[0], s.Owner = api.openMerchant(t, name)
	st, err := api.Merchants.AddStore(context.Background(), s.Owner.actor(), name+" 2")
	if err != nil {
		t.Fatalf("add store: %v", err)
	}
	s.Stores[1] = st
	for i := range s.Managers {
		s.Managers[i] = api.addStaff(t, s.Owner, rbac.Manager, s.Stores[i].ID)
	}
	for i := range s.Cashiers {
		s.Cashiers[i] = api.addStaff(t, s.Owner, rbac.Cashier, s.Stores[i/2].ID)
	}
	return s
}

// newWorld creates a shop and a rival merchant and logs every one of their
// staff in through the real login route, once.
func (api *testAPI) newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{shop: *api.newShop(t, "Lotus")}
	w.Rival.Merchant, w.Rival.Store, w.Rival.Owner = api.openMerchant(t, "Rival")
	for _, m := range append(w.members(), w.Rival.Owner) {
		api.logIn(t, m)
	}
	w.Customer = api.newCustomer(t)
	api.fund(t, w.Customer, worldCash)
	return w
}

// expiredToken returns an access token for p that expired a minute ago: it
// is issued with the clock moved back past its 15-minute life.
func (api *testAPI) expiredToken(t *testing.T, p rbac.Principal) string {
	t.Helper()
	api.Clock.Advance(-16 * time.Minute)
	defer api.Clock.Advance(16 * time.Minute)
	pair, err := api.Tokens.Issue(context.Background(), p)
	if err != nil {
		t.Fatalf("issue: %v", err)
	}
	return pair.AccessToken
}

// forgedToken returns an access token for p signed with a secret that is not
// the server's.
func (api *testAPI) forgedToken(t *testing.T, p rbac.Principal) string {
	t.Helper()
	other, err := rbac.NewTokens(rbac.NewGormSessionStore(api.DB), []byte(strings.Repeat("x", rbac.MinSecretLen)), api.Clock.Now, rbac.TokenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pair, err := other.Issue(context.Background(), p)
	if err != nil {
		t.Fatalf("issue: %v", err)
	}
	return pair.AccessToken
}

// customerToken returns a genuine access token of a wallet customer, which
// no staff route may accept.
func (api *testAPI) customerToken(t *testing.T) string {
	t.Helper()
	pair, err := api.Tokens.Issue(context.Background(), rbac.Principal{Kind: rbac.KindCustomer, ID: 1, Role: rbac.Customer})
	if err != nil {
		t.Fatalf("issue: %v", err)
	}
	return pair.AccessToken
}
