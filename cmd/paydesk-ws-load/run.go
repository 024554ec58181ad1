package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/cmd/internal/spawn"
)

// Run carries out one load run and reports on it.
func Run(ctx context.Context, c Config) (*Report, error) {
	if c.Conns <= 0 || c.Rate <= 0 || c.Duration <= 0 || c.Cashiers <= 0 || c.Payers <= 0 {
		return nil, errors.New("conns, rate, duration, cashiers and payers must be positive")
	}
	if c.Dialers <= 0 {
		c.Dialers = 100
	}
	if c.Log == nil {
		c.Log = func(string, ...any) {}
	}
	if err := raiseFileLimit(c.Conns + 100); err != nil {
		return nil, err
	}
	// Phone numbers unique to this run, so a run against a shared server
	// does not collide with an earlier one.
	run := rand.IntN(9000) + 1000
	var storeID int64
	if c.Addr == "" {
		c.OwnerPhone = fmt.Sprintf("1380%04d000", run)
		s, err := startServer(ctx, &c)
		if err != nil {
			return nil, err
		}
		defer s.stop()
		c.Addr, c.ServerPID, storeID = s.Addr, s.PID(), s.storeID
	}
	api := &client{base: "http://" + c.Addr, http: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 1024, MaxConnsPerHost: 1024}}}
	defer api.http.CloseIdleConnections()

	owner, err := api.login(ctx, c.OwnerPhone, c.OwnerPassword)
	if err != nil {
		return nil, fmt.Errorf("owner login: %w", err)
	}
	if storeID == 0 {
		if storeID, err = api.firstStore(ctx, owner); err != nil {
			return nil, err
		}
	}
	c.Log("creating %d cashiers and %d paying wallets", c.Cashiers, c.Payers)
	cashiers := make([]string, c.Cashiers)
	err = parallel(ctx, 2, c.Cashiers, func(i int) error {
		phone, pass := fmt.Sprintf("1370%04d%03d", run, i), "load-cashier-pass"
		if err := api.call(ctx, "POST", "/v1/staff", owner, map[string]any{"name": fmt.Sprintf("Cashier %d", i), "phone": phone,
			"password": pass, "role": "cashier", "store_id": storeID}, nil); err != nil {
			return err
		}
		tok, err := api.login(ctx, phone, pass)
		cashiers[i] = tok
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("cashiers: %w", err)
	}
	payers := make([]string, c.Payers)
	err = parallel(ctx, 2, c.Payers, func(i int) error {
		var reg struct {
			AccessToken string `json:"access_token"`
		}
		phone := fmt.Sprintf("1360%04d%03d", run, i)
		// The server runs in dev mode, which answers the SMS code as dev_code.
		var sent struct {
			DevCode string `json:"dev_code"`
		}
		if err := api.call(ctx, "POST", "/v1/wallet/register/code", "", map[string]any{"phone": phone}, &sent); err != nil {
			return err
		}
		if sent.DevCode == "" {
			return fmt.Errorf("register %s: the server answered no dev_code (is it in dev mode?)", phone)
		}
		if err := api.call(ctx, "POST", "/v1/wallet/register", "", map[string]any{"phone": phone, "password": "load-wallet-pass", "code": sent.DevCode}, &reg); err != nil {
			return err
		}
		payers[i] = reg.AccessToken
		if err := api.call(ctx, "POST", "/v1/wallet/cards", reg.AccessToken, map[string]any{"number": bank.SimCardOK, "holder": "Load",
			"expiry_month": 12, "expiry_year": 2035}, nil); err != nil {
			return err
		}
		return api.call(ctx, "POST", "/v1/wallet/topups", reg.AccessToken, map[string]any{"amount": 5_000_000, "request_no": "load-" + phone}, nil)
	})
	if err != nil {
		return nil, fmt.Errorf("wallets: %w", err)
	}

	r := &Report{Config: c}
	payments := int(c.Rate * c.Duration.Seconds())
	orders := make([]*payment, payments)
	c.Log("opening %d collection QRs", payments)
	err = parallel(ctx, 16, payments, func(i int) error {
		var qr struct {
			Order struct {
				ID int64 `json:"id"`
			} `json:"order"`
			QRPayload string `json:"qr_payload"`
		}
		cashier := i % c.Cashiers
		if err := api.call(ctx, "POST", "/v1/payments/qr", cashiers[cashier], map[string]any{"out_trade_no": fmt.Sprintf("load-%d-%d", run, i),
			"amount": 100}, &qr); err != nil {
			return err
		}
		orders[i] = &payment{id: qr.Order.ID, payload: qr.QRPayload, cashier: cashier}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("QR orders: %w", err)
	}
	byID := make(map[int64]*payment, payments)
	for _, p := range orders {
		p.first.Store(-1)
		byID[p.id] = p
	}

	c.Log("opening %d websockets", c.Conns)
	socks := make([]*socket, c.Conns)
	dialStart := time.Now()
	err = parallel(ctx, c.Dialers, c.Conns, func(i int) error {
		s, err := dial(ctx, c.Addr, cashiers[i%c.Cashiers], i%c.Cashiers, byID)
		socks[i] = s
		return err
	})
	if err != nil {
		closeAll(socks)
		return nil, fmt.Errorf("websockets: %w", err)
	}
	defer closeAll(socks)
	r.DialTime = time.Since(dialStart)
	perCashier := make([]int64, c.Cashiers)
	for _, s := range socks {
		perCashier[s.cashier]++
	}
	time.Sleep(2 * time.Second) // let the server settle before reading its memory
	if r.Idle, err = spawn.ReadMemory(c.ServerPID); err != nil {
		c.Log("server memory unknown: %v", err)
	}
	c.Log("%d websockets open in %v; server RSS %d MB (%s); paying %d QRs at %.0f/s", c.Conns, r.DialTime.Round(time.Millisecond), r.Idle.RSS>>20,
		api.runtimeStats(ctx), payments, c.Rate)

	var (
		wg       sync.WaitGroup
		failures atomic.Int64
		firstErr atomic.Pointer[error]
		payLat   = make([]time.Duration, payments)
	)
	start := time.Now()
	interval := time.Duration(float64(time.Second) / c.Rate)
	for i, p := range orders {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			payer := payers[i%len(payers)]
			t0 := time.Now()
			p.start.Store(t0.UnixNano())
			err := api.call(ctx, "POST", "/v1/wallet/pay", payer, map[string]any{"qr_payload": p.payload}, nil)
			payLat[i] = time.Since(t0)
			if err != nil {
				failures.Add(1)
				firstErr.CompareAndSwap(nil, &err)
				return
			}
			p.paid.Store(true)
		})
	}
	wg.Wait()
	r.PayPhase = time.Since(start)
	// Deliveries still on their way: wait until all arrived, or 5 s.
	var expected int64
	for _, p := range orders {
		if p.paid.Load() {
			expected += perCashier[p.cashier]
		}
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if received(socks) >= expected {
			break
		}
	}
	if r.After, err = spawn.ReadMemory(c.ServerPID); err != nil {
		c.Log("server memory unknown: %v", err)
	}
	c.Log("after the payments: %s", api.runtimeStats(ctx))

	r.Payments, r.Failed = payments, int(failures.Load())
	if e := firstErr.Load(); e != nil {
		r.FirstError = (*e).Error()
	}
	r.PayLatency = payLat
	r.Expected = expected
	for _, s := range socks {
		s.mu.Lock()
		r.Latencies = append(r.Latencies, s.latencies...)
		r.FromOutbox = append(r.FromOutbox, s.fromOutbox...)
		r.Duplicates += s.duplicates
		r.Received += int64(len(s.latencies))
		r.Strays += s.strays
		s.mu.Unlock()
		if s.open.Load() {
			r.Held++
		}
	}
	for _, p := range orders {
		if f := p.first.Load(); f >= 0 {
			r.First = append(r.First, time.Duration(f))
		}
	}
	return r, nil
}

// payment is one QR order the run pays.
type payment struct {
	id      int64
	payload string
	cashier int
	start   atomic.Int64 // unix nanos just before the pay request
	first   atomic.Int64 // the fastest delivery, -1 until one
	paid    atomic.Bool
}

// socket is one websocket of a cashier, with what it received.
type socket struct {
	conn    *websocket.Conn
	cashier int
	open    atomic.Bool
	got     atomic.Int64

	mu         sync.Mutex
	latencies  []time.Duration
	fromOutbox []time.Duration // from the event's created_at
	duplicates int64
	strays     int64 // payment.paid of an order not of this run or cashier
	lastSeq    int64
}

var dialBuffers = &sync.Pool{}

func dial(ctx context.Context, addr, token string, cashier int, byID map[int64]*payment) (*socket, error) {
	d := websocket.Dialer{HandshakeTimeout: 30 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 256, WriteBufferPool: dialBuffers,
		Subprotocols: []string{"paydesk.v1", "bearer." + token}}
	conn, _, err := d.DialContext(ctx, "ws://"+addr+"/v1/ws", nil)
	if err != nil {
		return nil, err
	}
	s := &socket{conn: conn, cashier: cashier}
	// The ready message says the subscription is in place.
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, msg, err := conn.ReadMessage()
	if err != nil || !bytes.Contains(msg, []byte(`"type":"ready"`)) {
		conn.Close()
		return nil, fmt.Errorf("no ready message: %v %s", err, msg)
	}
	s.lastSeq = intField(msg, `"seq":`)
	conn.SetReadDeadline(time.Time{})
	s.open.Store(true)
	go s.read(byID)
	return s, nil
}

// read records the latency of every payment.paid until the socket ends.
func (s *socket) read(byID map[int64]*payment) {
	defer s.open.Store(false)
	for {
		_, msg, err := s.conn.ReadMessage()
		now := time.Now()
		if err != nil {
			return
		}
		if !bytes.Contains(msg, []byte(`"type":"payment.paid"`)) {
			continue
		}
		seq, id := intField(msg, `"seq":`), intField(msg, `"order_id":`)
		p := byID[id]
		s.mu.Lock()
		switch {
		case seq <= s.lastSeq:
			s.duplicates++
		case p == nil || p.cashier != s.cashier || p.start.Load() == 0:
			s.strays++
		default:
			lat := now.Sub(time.Unix(0, p.start.Load()))
			s.latencies = append(s.latencies, lat)
			if at, err := time.Parse(time.RFC3339Nano, stringField(msg, `"created_at":"`)); err == nil {
				s.fromOutbox = append(s.fromOutbox, now.Sub(at))
			}
			for {
				f := p.first.Load()
				if (f >= 0 && f <= int64(lat)) || p.first.CompareAndSwap(f, int64(lat)) {
					break
				}
			}
		}
		s.lastSeq = max(s.lastSeq, seq)
		s.mu.Unlock()
		s.got.Add(1)
	}
}

func received(socks []*socket) int64 {
	var n int64
	for _, s := range socks {
		n += s.got.Load()
	}
	return n
}

func closeAll(socks []*socket) {
	for _, s := range socks {
		if s != nil {
			s.conn.Close()
		}
	}
}

// intField reads the integer after key in a JSON message, without
// decoding the whole of it: 10,000 sockets receive thousands a second.
func intField(msg []byte, key string) int64 {
	i := bytes.Index(msg, []byte(key))
	if i < 0 {
		return 0
	}
	j := i + len(key)
	k := j
	for k < len(msg) && msg[k] >= '0' && msg[k] <= '9' {
		k++
	}
	n, _ := strconv.ParseInt(string(msg[j:k]), 10, 64)
	return n
}

// stringField reads the string after key (which ends with the opening quote).
func stringField(msg []byte, key string) string {
	i := bytes.Index(msg, []byte(key))
	if i < 0 {
		return ""
	}
	rest := msg[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}

// parallel runs fn(0..n-1) on workers goroutines and returns the first error.
func parallel(ctx context.Context, workers, n int, fn func(i int) error) error {
	var (
		next    atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		first   error
	)
	for range min(workers, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(i); err != nil {
					errOnce.Do(func() { first = err })
					next.Store(int64(n)) // stop the others
					return
				}
			}
		})
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// client calls the paydesk API.
type client struct {
	base string
	http *http.Client
}

func (c *client) call(ctx context.Context, method, path, token string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if res.StatusCode >= 300 {
		return fmt.Errorf("%s %s: status %d: %s", method, path, res.StatusCode, raw)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

func (c *client) login(ctx context.Context, phone, password string) (string, error) {
	var out struct {
		AccessToken string `json:"access_token"`
	}
	err := c.call(ctx, "POST", "/v1/auth/login", "", map[string]string{"phone": phone, "password": password}, &out)
	return out.AccessToken, err
}

// firstStore finds a store of the owner's merchant, through the staff list
// (a running server's owner has at least one manager or cashier, or the
// merchant's first store is the store of the first staff member).
func (c *client) firstStore(ctx context.Context, owner string) (int64, error) {
	var out struct {
		Items []struct {
			StoreID *int64 `json:"store_id"` // null for the owner
		} `json:"items"`
	}
	if err := c.call(ctx, "GET", "/v1/staff", owner, nil, &out); err != nil {
		return 0, err
	}
	for _, s := range out.Items {
		if s.StoreID != nil {
			return *s.StoreID, nil
		}
	}
	return 0, errors.New("with --addr, the owner's merchant needs a staff member in a store, so the tool knows a store to add cashiers to")
}

// runtimeStats summarises the server's Go runtime from its /metrics: where
// its memory is (goroutine stacks, heap in use) besides the RSS.
func (c *client) runtimeStats(ctx context.Context) string {
	req, err := http.NewRequestWithContext(ctx, "GET", c.base+"/metrics", nil)
	if err != nil {
		return err.Error()
	}
	res, err := c.http.Do(req)
	if err != nil {
		return err.Error()
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := ""
	for _, name := range []string{"go_goroutines", "go_memstats_stack_inuse_bytes", "go_memstats_heap_inuse_bytes", "go_memstats_heap_idle_bytes"} {
		for _, line := range bytes.Split(raw, []byte("\n")) {
			if f := bytes.Fields(line); len(f) == 2 && string(f[0]) == name {
				v, _ := strconv.ParseFloat(string(f[1]), 64)
				if name != "go_goroutines" {
					out += fmt.Sprintf("%s %.0f MB, ", name[len("go_memstats_"):len(name)-len("_bytes")], v/(1<<20))
				} else {
					out += fmt.Sprintf("goroutines %.0f, ", v)
				}
			}
		}
	}
	return out
}
