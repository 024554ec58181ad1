package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/wallet"
)

// results is what a run measured.
type results struct {
	elapsed   time.Duration
	latencies []time.Duration
	errors    map[string]int
	paid      int
	gross     int64
	fees      int64
	net       int64
	spent     []atomic.Int64 // per wallet
	// Processor time over the drive: the server's (0 if unknown) and the
	// tool's own, which shares the machine with it.
	serverCPU, toolCPU time.Duration
	// The ledger poster's work over the drive, from /metrics: batches,
	// the transfers they carried, and seconds spent in them.
	batches, batched, busy float64
}

// codes hands out payment codes as the wallets' apps would show them: a
// wallet makes a new code every step and each stays valid for a minute, so
// a wallet can pay with each of its last few steps' codes, once each.
type codes struct {
	mu      sync.Mutex
	wallets []seeded
	used    [][6]int64 // per wallet: counters already used, newest first
	cursor  int
}

const stepsBack = 4 // codes up to 40 s old: well inside the 60 s validity

func (c *codes) next(now time.Time) (int, string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	step := now.Unix() / 10
	for tries := 0; tries < len(c.wallets); tries++ {
		i := c.cursor
		c.cursor = (c.cursor + 1) % len(c.wallets)
		for k := step; k >= step-stepsBack; k-- {
			if slices.Contains(c.used[i][:], k) {
				continue
			}
			// Forget the oldest counter, not the first remembered: every
			// counter of the window (five) must stay remembered, or a
			// later pick would offer a code the server has seen.
			c.used[i][slices.Index(c.used[i][:], slices.Min(c.used[i][:]))] = k
			code, err := wallet.GeneratePaymentCode(c.wallets[i].Secret, c.wallets[i].CodeID, time.Unix(k*10, 0))
			return i, code, err
		}
	}
	return 0, "", errors.New("every wallet has used all its current codes: run with more --wallets")
}

// drive runs the scenario for the configured time and gathers results.
// Cashier i pays through instance i mod len(cls).
func drive(ctx context.Context, c config, cls []*client, w world) *results {
	r := &results{errors: map[string]int{}, spent: make([]atomic.Int64, len(w.wallets))}
	pool := &codes{wallets: w.wallets, used: make([][6]int64, len(w.wallets))}
	ctx, cancel := context.WithTimeout(ctx, c.duration)
	defer cancel()

	// With a rate, a pacer schedules payments and latency counts from the
	// scheduled time, so a slow server cannot hide its queue.
	var jobs chan time.Time
	if c.rate > 0 {
		jobs = make(chan time.Time, c.rate)
		go func() {
			defer close(jobs)
			interval := time.Second / time.Duration(c.rate)
			next := time.Now()
			for {
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Until(next)):
				}
				for ; !next.After(time.Now()); next = next.Add(interval) {
					select {
					case jobs <- next:
					default: // the workers are a full second behind: count it as lost
						r.count("CLIENT_BEHIND")
					}
				}
			}
		}()
	}

	var mu sync.Mutex
	start := time.Now()
	var wg sync.WaitGroup
	for i, tok := range w.cashiers {
		cl := cls[i%len(cls)]
		wg.Go(func() {
			var lat []time.Duration
			for n := 0; ; n++ {
				scheduled := time.Now()
				if jobs != nil {
					var ok bool
					if scheduled, ok = <-jobs; !ok {
						break
					}
				} else if ctx.Err() != nil {
					break
				}
				o, wi, err := payOnce(context.WithoutCancel(ctx), c, cl, w, pool, tok, fmt.Sprintf("L%s-%d-%d", w.prefix, i, n), i+n)
				if err != nil {
					var ae *apiError
					code := err.Error()
					if errors.As(err, &ae) {
						code = ae.Code
					}
					r.count(code)
					continue
				}
				lat = append(lat, time.Since(scheduled))
				r.spent[wi].Add(o.Amount)
				mu.Lock()
				r.paid++
				r.gross += o.Amount
				r.fees += o.Fee
				r.net += o.Amount - o.Fee
				mu.Unlock()
			}
			mu.Lock()
			r.latencies = append(r.latencies, lat...)
			mu.Unlock()
		})
	}
	wg.Wait()
	r.elapsed = time.Since(start)
	return r
}

var countMu sync.Mutex

func (r *results) count(code string) {
	countMu.Lock()
	r.errors[code]++
	countMu.Unlock()
}

// payOnce makes one payment of the scenario and returns the paid order and
// the index of the wallet that paid.
func payOnce(ctx context.Context, c config, cl *client, w world, pool *codes, cashier, outTradeNo string, n int) (order, int, error) {
	var o order
	if c.scenario == "qr" {
		var qr struct {
			Order     order  `json:"order"`
			QRPayload string `json:"qr_payload"`
		}
		if err := cl.do(ctx, "POST", "/v1/payments/qr", cashier, map[string]any{"out_trade_no": outTradeNo, "amount": c.amount}, &qr); err != nil {
			return o, 0, err
		}
		wi := n % len(w.walletTok)
		// The payer's view of a payment carries no fee: it is the merchant's
		// business. checkPaid fills in the fee the merchant's rate gives.
		if err := cl.do(ctx, "POST", "/v1/wallet/pay", w.walletTok[wi], map[string]any{"qr_payload": qr.QRPayload}, &o); err != nil {
			return o, 0, err
		}
		o.Fee = -1
		return o, wi, checkPaid(&o)
	}
	wi, code, err := pool.next(time.Now())
	if err != nil {
		return o, 0, err
	}
	err = cl.do(ctx, "POST", "/v1/payments/scan", cashier, map[string]any{"out_trade_no": outTradeNo, "amount": c.amount, "payment_code": code}, &o)
	if err != nil {
		return o, 0, err
	}
	return o, wi, checkPaid(&o)
}

// checkPaid checks that o was paid, with the fee the load merchant's rate
// (the default) gives, rounded half up: the books are checked against our
// own arithmetic, not the server's.
func checkPaid(o *order) error {
	if o.State != "PAID" {
		return &apiError{Code: "NOT_PAID_" + o.State}
	}
	fee := int64(paydesk.DefaultFeeRate.Of(paydesk.Amount(o.Amount)))
	if o.Fee >= 0 && o.Fee != fee {
		return &apiError{Code: "WRONG_FEE", Msg: fmt.Sprintf("fee %d on %d, want %d", o.Fee, o.Amount, fee)}
	}
	o.Fee = fee
	return nil
}

func (r *results) print(c config, peakRSS int64) {
	sort.Slice(r.latencies, func(i, j int) bool { return r.latencies[i] < r.latencies[j] })
	pct := func(p float64) time.Duration {
		if len(r.latencies) == 0 {
			return 0
		}
		return r.latencies[min(len(r.latencies)-1, int(p*float64(len(r.latencies))))].Round(10 * time.Microsecond)
	}
	mode := "full speed"
	if c.rate > 0 {
		mode = fmt.Sprintf("fixed %d/s", c.rate)
	}
	fmt.Printf("scenario %s, %s, %d cashiers, %v\n", c.scenario, mode, c.cashiers, r.elapsed.Round(time.Millisecond))
	fmt.Printf("paid %d payments: %.0f payments/s\n", r.paid, float64(r.paid)/r.elapsed.Seconds())
	fmt.Printf("latency p50 %v  p95 %v  p99 %v  max %v\n", pct(0.50), pct(0.95), pct(0.99), pct(1))
	if peakRSS > 0 {
		fmt.Printf("server peak RSS %.0f MB\n", float64(peakRSS)/(1<<20))
	}
	if secs := r.elapsed.Seconds(); r.paid > 0 && secs > 0 {
		if r.serverCPU > 0 {
			fmt.Printf("cpu: server %.2f cores, %v per payment; ", r.serverCPU.Seconds()/secs, (r.serverCPU / time.Duration(r.paid)).Round(time.Microsecond))
		}
		fmt.Printf("load tool %.2f cores\n", r.toolCPU.Seconds()/secs)
	}
	if r.batches > 0 {
		fmt.Printf("ledger: %.0f batches of %.1f transfers on average, %.2f ms each, busy %.0f%% of the time\n",
			r.batches, r.batched/r.batches, 1000*r.busy/r.batches, 100*r.busy/r.elapsed.Seconds())
	}
	if len(r.errors) == 0 {
		fmt.Println("errors: none")
	}
	for code, n := range r.errors {
		fmt.Printf("errors: %s × %d\n", code, n)
	}
}
