package throttle

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/paydesk/paydesk"
)

// Redis is a Limiter whose buckets live in Redis, so that every instance
// behind a load balancer draws on the same ones. Each Take is one script
// call, atomic in Redis. The time is the instance's clock (instances are
// expected to be NTP-synchronised; a skew only shifts refills by as much).
type Redis struct {
	client redis.UniversalClient
	clock  paydesk.Clock
	prefix string
}

// NewRedis returns buckets kept in client under keys starting
// "paydesk:throttle:", timed by clock (the system clock if nil).
func NewRedis(client redis.UniversalClient, clock paydesk.Clock) *Redis {
	if clock == nil {
		clock = paydesk.SystemClock
	}
	return &Redis{client: client, clock: clock, prefix: "paydesk:throttle:"}
}

// takeScript is a token bucket stored as a hash (t: time of the last
// refill in ms, v: tokens). It returns 0 when it took a token, else the
// milliseconds until the next one. The key expires once the bucket would
// be full again, so idle clients cost nothing.
var takeScript = redis.NewScript(`
local now, every, burst = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local b = redis.call('HMGET', KEYS[1], 't', 'v')
local t, v = tonumber(b[1]), tonumber(b[2])
if v == nil then t, v = now, burst end
if now > t then
  v = math.min(burst, v + (now - t) / every)
  t = now
end
local wait = 0
if v >= 1 then v = v - 1 else wait = math.ceil((1 - v) * every) end
redis.call('HSET', KEYS[1], 't', t, 'v', tostring(v))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * every) + 1000)
return wait
`)

// Take implements Limiter.
func (r *Redis) Take(ctx context.Context, key string, rt Rate) (time.Duration, error) {
	every := rt.Every.Milliseconds()
	if every < 1 {
		every = 1
	}
	ms, err := takeScript.Run(ctx, r.client, []string{r.prefix + key}, r.clock().UnixMilli(), every, rt.Burst).Int64()
	if err != nil {
		return 0, fmt.Errorf("throttle %s: %w", key, err)
	}
	return time.Duration(ms) * time.Millisecond, nil
}
