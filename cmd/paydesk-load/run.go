package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// world is what the run set up: the merchant, logged-in cashiers, wallets.
type world struct {
	merchantID int64
	cashiers   []string // access tokens
	wallets    []seeded
	prefix     string
	walletTok  []string // wallet access tokens, for the QR scenario
}

type seeded struct {
	ID     int64  `json:"id"`
	Phone  string `json:"phone"`
	CodeID string `json:"code_id"`
	Secret []byte `json:"secret"`
}

// books is what `paydesk books` prints.
type books struct {
	LedgerOK   bool             `json:"ledger_ok"`
	Merchant   map[string]int64 `json:"merchant"`
	WalletCash map[string]int64 `json:"wallet_cash"`
}

func run(ctx context.Context, c config) (bool, error) {
	dir, err := os.MkdirTemp("", "paydesk-load-")
	if err != nil {
		return false, err
	}
	if c.keep {
		fmt.Fprintln(os.Stderr, "keeping", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	if c.prefix == "" {
		c.prefix = fmt.Sprintf("16%04d", time.Now().Unix()%10000)
	}
	srv, err := start(ctx, c, dir)
	if err != nil {
		return false, err
	}
	defer srv.stop()
	cls := make([]*client, len(srv.urls))
	for i, u := range srv.urls {
		cls[i] = newClient(u, c.cashiers)
	}
	cl := cls[0]

	t0 := time.Now()
	w, err := setUp(ctx, c, srv, cl)
	if err != nil {
		return false, err
	}
	if len(srv.urls) > 1 {
		fmt.Printf("%d instances on one database: %s\n", len(srv.urls), strings.Join(srv.urls, ", "))
	}
	fmt.Printf("set up %d cashiers and %d funded wallets in %v\n", len(w.cashiers), len(w.wallets), time.Since(t0).Round(time.Millisecond))

	var before books
	if err := srv.operatorJSON(ctx, &before, "books", "--merchant", fmt.Sprint(w.merchantID), "--wallet-prefix", w.prefix); err != nil {
		return false, err
	}
	sampling, stopSampling := context.WithCancel(ctx)
	go srv.sampleRSS(sampling)
	cpu0, self0 := srv.cpu(), selfCPU()
	batches0, batched0, busy0 := srv.ledgerStats(ctx)
	profiled := make(chan error, 1)
	if c.profile != "" {
		fmt.Println("server profiles at", srv.debugURL+"/debug/pprof/")
		// The profile skips the first and last second, where the
		// connections ramp up and down.
		go func() { time.Sleep(time.Second); profiled <- srv.profileCPU(ctx, c.duration-2*time.Second, c.profile) }()
	}
	res := drive(ctx, c, cls, w)
	stopSampling()
	res.serverCPU, res.toolCPU = srv.cpu()-cpu0, selfCPU()-self0
	b1, t1, busy1 := srv.ledgerStats(ctx)
	res.batches, res.batched, res.busy = b1-batches0, t1-batched0, busy1-busy0
	if c.profile != "" {
		if err := <-profiled; err != nil {
			return false, fmt.Errorf("cpu profile: %w", err)
		}
		fmt.Println("cpu profile of the server written to", c.profile)
	}
	res.print(c, srv.peakRSS.Load())

	var after books
	if err := srv.operatorJSON(ctx, &after, "books", "--merchant", fmt.Sprint(w.merchantID), "--wallet-prefix", w.prefix); err != nil {
		return false, err
	}
	return checkBooks(before, after, res, w) && len(res.errors) == 0, nil
}

// setUp opens the merchant, its cashiers and the funded wallets.
func setUp(ctx context.Context, c config, srv *server, cl *client) (world, error) {
	w := world{prefix: c.prefix}
	ownerPhone := c.prefix + "00000"
	var opened struct {
		MerchantID int64 `json:"merchant_id"`
		Store      struct {
			ID int64 `json:"id"`
		} `json:"store"`
	}
	if err := srv.operatorJSON(ctx, &opened, "merchant", "create", "--name", "Load Test "+c.prefix, "--owner-phone", ownerPhone); err != nil {
		return w, err
	}
	w.merchantID = opened.MerchantID
	var owner tokens
	if err := cl.do(ctx, "POST", "/v1/auth/login", "", map[string]string{"phone": ownerPhone, "password": "load-owner-pass"}, &owner); err != nil {
		return w, fmt.Errorf("owner login: %w", err)
	}
	w.cashiers = make([]string, c.cashiers)
	errs := make([]error, c.cashiers)
	var wg sync.WaitGroup
	for i := range w.cashiers {
		wg.Go(func() {
			phone := fmt.Sprintf("%s1%04d", c.prefix, i)
			body := map[string]any{"name": fmt.Sprintf("Cashier %d", i), "phone": phone, "password": "load-cashier-pass", "role": "cashier", "store_id": opened.Store.ID}
			if errs[i] = cl.do(ctx, "POST", "/v1/staff", owner.AccessToken, body, nil); errs[i] != nil {
				return
			}
			var t tokens
			errs[i] = cl.do(ctx, "POST", "/v1/auth/login", "", map[string]string{"phone": phone, "password": "load-cashier-pass"}, &t)
			w.cashiers[i] = t.AccessToken
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return w, fmt.Errorf("cashiers: %w", err)
		}
	}

	n := c.wallets
	if n == 0 {
		n = walletsNeeded(c)
	}
	// Each wallet gets enough cash for every payment it can make in the run.
	perWallet := int64(5+int(c.duration/(10*time.Second))+2) * c.amount * 2
	if c.scenario == "qr" {
		perWallet = c.amount * 100_000
	}
	var seededOut struct {
		Wallets []seeded `json:"wallets"`
	}
	if err := srv.operatorJSON(ctx, &seededOut, "seed-wallets", "--count", fmt.Sprint(n), "--prefix", strings.TrimLeft(c.prefix, "")+"9", "--cash", fmt.Sprint(perWallet)); err != nil {
		return w, err
	}
	w.wallets, w.prefix = seededOut.Wallets, c.prefix+"9"
	if c.scenario == "qr" {
		w.walletTok = make([]string, min(len(w.wallets), 2*c.cashiers))
		for i := range w.walletTok {
			var t tokens
			if err := cl.do(ctx, "POST", "/v1/wallet/login", "", map[string]string{"phone": w.wallets[i].Phone, "password": "load-test-pass"}, &t); err != nil {
				return w, fmt.Errorf("wallet login: %w", err)
			}
			w.walletTok[i] = t.AccessToken
		}
	}
	return w, nil
}

// walletsNeeded sizes the wallet pool: a wallet's app makes a new code
// every 10 s and a code stays valid for about a minute, so each wallet can
// pay about five times at once and once more every 10 s.
func walletsNeeded(c config) int {
	if c.scenario == "qr" {
		return 2 * c.cashiers
	}
	rate := c.rate
	if rate == 0 {
		rate = 15000 // a guess above what this machine does at full speed
	}
	payments := int(float64(rate) * c.duration.Seconds())
	perWallet := 5 + int(c.duration/(10*time.Second))
	n := max(200, payments/perWallet+c.cashiers)
	if c.rate > 0 && c.duration > 40*time.Second {
		// Past the first codes' stock a wallet makes one code per step:
		// a steady rate needs rate × 10 s wallets, and some slack.
		n = max(n, c.rate*12)
	}
	return n
}

// checkBooks compares the books after the run with what the run did.
func checkBooks(before, after books, r *results, w world) bool {
	ok := true
	fail := func(format string, args ...any) {
		ok = false
		fmt.Printf("BOOKS: "+format+"\n", args...)
	}
	if !after.LedgerOK {
		fail("the ledger does not balance")
	}
	if got, want := after.Merchant["pending"]-before.Merchant["pending"], r.net; got != want {
		fail("merchant pending grew by %d, but the paid orders net of fees sum to %d", got, want)
	}
	for i, s := range w.wallets {
		if got, want := after.WalletCash[s.Phone], before.WalletCash[s.Phone]-r.spent[i].Load(); got != want {
			fail("wallet %s has %d, want %d", s.Phone, got, want)
			break
		}
	}
	if ok {
		fmt.Printf("books: ledger balanced; merchant pending +%d = paid %d - fees %d; %d wallets debited exactly\n", r.net, r.gross, r.fees, len(w.wallets))
	}
	return ok
}

// selfCPU is the processor time this process has used so far.
func selfCPU() time.Duration {
	var u syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &u) != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
