package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/paydesk/paydesk/ledger"
)

// ledgerMetrics exports the ledger poster's totals. Batches per second and
// transfers per batch show how the hot account is doing: the batch grows
// with the load, and busy time near one second per second means the
// account is at its limit.
func ledgerMetrics(l *ledger.Ledger) []prometheus.Collector {
	counter := func(name, help string, v func(ledger.Stats) float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "paydesk", Subsystem: "ledger", Name: name, Help: help},
			func() float64 { return v(l.Stats()) })
	}
	return []prometheus.Collector{
		counter("batches_total", "Transactions the ledger poster ran, each carrying a batch of transfers.",
			func(s ledger.Stats) float64 { return float64(s.Batches) }),
		counter("batched_transfers_total", "Transfers those transactions carried.",
			func(s ledger.Stats) float64 { return float64(s.Transfers) }),
		counter("busy_seconds_total", "Time the poster spent in its transactions.",
			func(s ledger.Stats) float64 { return s.Busy.Seconds() }),
	}
}
