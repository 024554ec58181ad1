package testkit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
)

// Redis returns a client of the Redis server of PAYDESK_TEST_REDIS
// (default redis://127.0.0.1:6379/0), closed when the test ends. Like
// storagetest with MySQL it fails when the server is down;
// PAYDESK_TEST_REDIS=skip skips the test instead.
func Redis(t testing.TB) *redis.Client {
	t.Helper()
	u := os.Getenv("PAYDESK_TEST_REDIS")
	if u == "skip" {
		t.Skip("PAYDESK_TEST_REDIS=skip")
	}
	if u == "" {
		u = "redis://127.0.0.1:6379/0"
	}
	opt, err := redis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("Redis is not reachable at %s (%v); start it or set PAYDESK_TEST_REDIS=skip", opt.Addr, err)
	}
	return c
}

// Unique returns prefix and a random suffix: a Redis key prefix or pub/sub
// channel of one test alone, so tests that share the server never meet.
func Unique(prefix string) string {
	b := make([]byte, 6)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}
