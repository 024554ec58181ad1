package push

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// Bus carries wake-ups between instances. It carries no events: a wake-up
// only makes the other instances poll the outbox now instead of at their
// next PollInterval, so a lost one delays delivery and loses nothing.
type Bus interface {
	// Publish tells the other instances that new events were written.
	Publish(ctx context.Context) error
	// Listen calls ready once it listens, then wake for every Publish
	// (of any instance, this one's included), until ctx ends.
	Listen(ctx context.Context, ready, wake func())
}

// DefaultChannel is the Redis channel paydesk instances wake each other on.
const DefaultChannel = "paydesk:push"

// RedisBus is a Bus over Redis pub/sub.
type RedisBus struct {
	client  redis.UniversalClient
	channel string
}

// NewRedisBus returns a bus on channel (DefaultChannel if empty).
func NewRedisBus(client redis.UniversalClient, channel string) *RedisBus {
	if channel == "" {
		channel = DefaultChannel
	}
	return &RedisBus{client: client, channel: channel}
}

// Publish sends a one-byte wake-up.
func (b *RedisBus) Publish(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	return b.client.Publish(ctx, b.channel, "1").Err()
}

// Listen subscribes and wakes on every message. go-redis re-subscribes by
// itself after a lost connection; what was published meanwhile is found
// by the next poll.
func (b *RedisBus) Listen(ctx context.Context, ready, wake func()) {
	ps := b.client.Subscribe(ctx, b.channel)
	defer ps.Close()
	for ctx.Err() == nil {
		// The first reply confirms the subscription.
		if _, err := ps.Receive(ctx); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
	ready()
	ch := ps.Channel()
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-ch:
			if !ok {
				return
			}
			wake()
		}
	}
}
