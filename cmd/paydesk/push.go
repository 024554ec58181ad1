package main

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/paydesk/paydesk/push"
	"github.com/paydesk/paydesk/throttle"
)

// startPush runs the push hub that feeds /v1/ws: on Redis (Config.Redis)
// when instances must wake each other, alone otherwise. closePush stops it.
func (m *Main) startPush(ctx context.Context) error {
	cfg := push.Config{Logger: m.Logger, Seen: m.App.Seen}
	if m.Config.Redis != "" {
		opt, err := redis.ParseURL(m.Config.Redis)
		if err != nil {
			return fmt.Errorf("PAYDESK_REDIS: %w", err)
		}
		m.redis = redis.NewClient(opt)
		cfg.Bus = push.NewRedisBus(m.redis, "")
	}
	m.Push = push.NewHub(m.App.Outbox, cfg)
	if err := m.Push.Start(ctx); err != nil {
		return fmt.Errorf("start push: %w", err)
	}
	return nil
}

// closePush ends every socket's stream (their clients reconnect elsewhere
// with last_seq) and stops the dispatcher, before the database closes.
func (m *Main) closePush() {
	if m.Push != nil {
		m.Push.Close()
	}
	if m.redis != nil {
		m.redis.Close()
	}
}

// limiter returns the rate limits' token buckets: in Redis when there is
// one, so every instance draws on the same buckets, in memory otherwise;
// nil when Config.RateLimit is off. startPush has opened Redis.
func (m *Main) limiter() throttle.Limiter {
	switch {
	case m.Config.RateLimit == "off":
		m.Logger.Warn("rate limits are off (PAYDESK_RATE_LIMIT=off): for load tests only")
		return nil
	case m.redis != nil:
		return throttle.NewRedis(m.redis, nil)
	}
	return throttle.NewMemory(nil)
}
