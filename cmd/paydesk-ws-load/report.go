package main

import (
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/paydesk/paydesk/cmd/internal/spawn"
)

// Report is what a run measured.
type Report struct {
	Config   Config
	DialTime time.Duration
	PayPhase time.Duration
	// Held is how many sockets were still open at the end.
	Held int
	// Idle is the server's memory with every socket open, before the
	// payments; After is after them (Peak is the high-water mark).
	Idle, After spawn.Memory

	Payments, Failed int
	FirstError       string
	PayLatency       []time.Duration // of POST /v1/wallet/pay
	// Latencies has one sample per delivery: payment request to
	// payment.paid on a socket. First has the fastest per payment.
	Latencies, First []time.Duration
	// FromOutbox has one sample per delivery: from the event's created_at
	// (stamped in the payment's transaction, on the same machine's clock)
	// to its arrival: the push path alone, commit included.
	FromOutbox []time.Duration
	Expected   int64
	Received   int64
	Duplicates int64
	Strays     int64
}

// OK reports whether every socket stayed and every event arrived once.
func (r *Report) OK() bool {
	return r.Held == r.Config.Conns && r.Failed == 0 && r.Received == r.Expected && r.Duplicates == 0 && r.Strays == 0
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(p/100*float64(len(d))+0.5) - 1
	return d[max(0, min(i, len(d)-1))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

// Print writes the report for a person.
func (r *Report) Print(w io.Writer) {
	for _, d := range [][]time.Duration{r.Latencies, r.First, r.PayLatency, r.FromOutbox} {
		slices.Sort(d)
	}
	c := r.Config
	fmt.Fprintf(w, "connections held:  %d of %d (opened in %v), %d cashiers, ~%d sockets per payment\n",
		r.Held, c.Conns, r.DialTime.Round(time.Millisecond), c.Cashiers, c.Conns/c.Cashiers)
	fmt.Fprintf(w, "server RSS:        %d MB with the sockets open, %d MB after the payments, peak %d MB\n",
		r.Idle.RSS>>20, r.After.RSS>>20, r.After.Peak>>20)
	fmt.Fprintf(w, "payments:          %d in %v (%.1f/s), %d failed; POST /v1/wallet/pay p50 %s, p99 %s\n",
		r.Payments, r.PayPhase.Round(time.Millisecond), float64(r.Payments)/r.PayPhase.Seconds(), r.Failed,
		ms(percentile(r.PayLatency, 50)), ms(percentile(r.PayLatency, 99)))
	if r.FirstError != "" {
		fmt.Fprintf(w, "first failure:     %s\n", r.FirstError)
	}
	fmt.Fprintf(w, "push latency:      p50 %s, p90 %s, p99 %s, max %s over %d deliveries (payment request -> payment.paid on a socket)\n",
		ms(percentile(r.Latencies, 50)), ms(percentile(r.Latencies, 90)), ms(percentile(r.Latencies, 99)), ms(percentile(r.Latencies, 100)), len(r.Latencies))
	fmt.Fprintf(w, "outbox to socket:  p50 %s, p99 %s (event written in the payment's transaction -> on the socket)\n",
		ms(percentile(r.FromOutbox, 50)), ms(percentile(r.FromOutbox, 99)))
	fmt.Fprintf(w, "first socket:      p50 %s, p99 %s (fastest delivery per payment)\n", ms(percentile(r.First, 50)), ms(percentile(r.First, 99)))
	fmt.Fprintf(w, "exactly once:      %d deliveries expected, %d received, %d duplicates, %d strays\n", r.Expected, r.Received, r.Duplicates, r.Strays)
	verdict := "OK"
	if !r.OK() {
		verdict = "FAILED"
	}
	fmt.Fprintln(w, "result:           ", verdict)
}
