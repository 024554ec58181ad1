package mobileapi

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/paydesk/paydesk/internal/app"
	"github.com/paydesk/paydesk/ledger"
)

// NewServer builds the API on the services of a, the composition root's
// graph; edge carries what only the serving program knows (logger, push
// hub, rate limits, proxies, dev codes, hooks). The services and the clock
// in edge are replaced by a's, and the ledger poster's metrics are added
// to edge's collectors.
func NewServer(a *app.App, edge Config) *Server {
	cfg := edge
	cfg.DB, cfg.Clock = a.DB, a.Clock
	cfg.Merchants, cfg.Staff, cfg.Tokens, cfg.Enforcer = a.Merchants, a.Staff, a.Tokens, a.Enforcer
	cfg.Wallets, cfg.POS, cfg.Idempotency, cfg.Settlement = a.Wallets, a.POS, a.Idempotency, a.Settlement
	cfg.Stats, cfg.Members, cfg.Tickets = a.Stats, a.Members, a.Tickets
	cfg.APIKeys, cfg.Webhooks, cfg.Checkout, cfg.Sandbox, cfg.Phones = a.APIKeys, a.Webhooks, a.Checkout, a.Sandbox, a.Phones
	cfg.Collectors = append(append([]prometheus.Collector(nil), edge.Collectors...), ledgerMetrics(a.Ledger)...)
	return New(cfg)
}

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
