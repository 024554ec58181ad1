package app

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/paydesk/paydesk/push"
)

// Schedule is how often the background jobs run; a zero field is its default.
type Schedule struct {
	// CloseEvery is how often orders whose time ran out are closed
	// (default 1 s, so a payment left PAYING ends soon after its timeout,
	// SPEC §2).
	CloseEvery time.Duration
	// SweepEvery is how often the slower housekeeping runs (default 1 minute).
	SweepEvery time.Duration
	// SettleEvery is the settlement scheduler's tick (default 30 s).
	SettleEvery time.Duration
	// EventRetention is how long push events are kept (default
	// push.DefaultRetention).
	EventRetention time.Duration
}

func (s Schedule) withDefaults() Schedule {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&s.CloseEvery, time.Second)
	def(&s.SweepEvery, time.Minute)
	def(&s.SettleEvery, 30*time.Second)
	def(&s.EventRetention, push.DefaultRetention)
	return s
}

// Jobs are the work every instance runs beside the API: the settlement
// scheduler, the webhook dispatcher, closing expired orders, and the
// sweep (the wallet's expired coupons and used codes, card refunds the
// bank has not confirmed yet, day-old idempotency keys, expired
// sessions); and, on a goroutine of its own so that a large backlog never
// delays the closer, deleting push events older than the retention.
// Several instances may run them at once: each order is closed once, each
// delivery claimed by one dispatcher, the settlement steps are conditional
// updates, and the rest is idempotent.
type Jobs struct {
	app   *App
	every Schedule
	log   *slog.Logger

	mu     sync.Mutex
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newJobs(a *App, every Schedule, log *slog.Logger) *Jobs {
	return &Jobs{app: a, every: every.withDefaults(), log: log}
}

// Start runs the jobs until Stop. Starting running jobs does nothing.
func (j *Jobs) Start() {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.cancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	j.cancel = cancel
	a, every := j.app, j.every
	j.wg.Go(func() { a.Settlement.Run(ctx, every.SettleEvery) })
	j.wg.Go(func() { a.Dispatcher.Run(ctx) })
	j.wg.Go(func() { j.purgeEvents(ctx) })
	j.wg.Go(func() { j.closeAndSweep(ctx) })
}

// Stop stops the jobs and waits for them: a closer caught mid-way leaves
// its order open for the next instance or start. Stopping jobs that do not
// run does nothing.
func (j *Jobs) Stop() {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.cancel == nil {
		return
	}
	j.cancel()
	j.wg.Wait()
	j.cancel = nil
}

// warn logs a job's failure, unless it failed because the jobs stop.
func (j *Jobs) warn(ctx context.Context, job string, err error) {
	if ctx.Err() == nil {
		j.log.Warn("background job failed", "job", job, "error", err)
	}
}

func (j *Jobs) purgeEvents(ctx context.Context) {
	a, retention := j.app, j.every.EventRetention
	purger := time.NewTicker(j.every.SweepEvery)
	defer purger.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-purger.C:
			if n, err := a.Outbox.Purge(ctx, a.Clock().Add(-retention)); err != nil {
				j.warn(ctx, "purge push events", err)
			} else if n > 0 {
				j.log.Info("purged push events", "count", n, "older_than", retention.String())
			}
		}
	}
}

func (j *Jobs) closeAndSweep(ctx context.Context) {
	a := j.app
	closer, sweeper := time.NewTicker(j.every.CloseEvery), time.NewTicker(j.every.SweepEvery)
	defer closer.Stop()
	defer sweeper.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-closer.C:
			if n, err := a.POS.CloseExpired(ctx); err != nil {
				j.warn(ctx, "close expired orders", err)
			} else if n > 0 {
				j.log.Info("closed expired orders", "count", n)
			}
		case <-sweeper.C:
			if err := a.Wallets.Sweep(ctx); err != nil {
				j.warn(ctx, "wallet sweep", err)
			}
			if _, err := a.POS.RetryCardRefunds(ctx); err != nil {
				j.warn(ctx, "retry card refunds", err)
			}
			if _, err := a.Idempotency.Purge(ctx, a.Clock().Add(-24*time.Hour)); err != nil {
				j.warn(ctx, "purge idempotency keys", err)
			}
			if _, err := a.Tokens.Purge(ctx); err != nil {
				j.warn(ctx, "purge sessions", err)
			}
		}
	}
}
