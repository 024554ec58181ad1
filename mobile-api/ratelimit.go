package mobileapi

import (
	"math"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/throttle"
)

// routeClass is a group of routes that share rate limits: a token bucket
// per client IP, and, for routes behind a token, one per credential (the
// staff member or wallet of the token). A zero Rate has no bucket.
type routeClass struct {
	name                 string
	perIP, perCredential throttle.Rate
}

// The route classes. The numbers leave a person (or a shop's counter
// behind one NAT address) far below them and slow a script to a crawl: a
// credential-stuffing run from one address gets 20 tries at once and then
// one every 3 seconds, whatever phones it tries.
var (
	classRegister = routeClass{name: "register", perIP: throttle.Rate{Burst: 10, Every: 30 * time.Second}}
	classLogin    = routeClass{name: "login", perIP: throttle.Rate{Burst: 20, Every: 3 * time.Second}}
	classScan     = routeClass{name: "wallet_scan", perIP: throttle.Rate{Burst: 120, Every: 250 * time.Millisecond},
		perCredential: throttle.Rate{Burst: 30, Every: time.Second}}
	classLinkPage = routeClass{name: "link_page", perIP: throttle.Rate{Burst: 120, Every: 250 * time.Millisecond}}
	classPayment  = routeClass{name: "payment", perIP: throttle.Rate{Burst: 600, Every: 10 * time.Millisecond},
		perCredential: throttle.Rate{Burst: 60, Every: 100 * time.Millisecond}}
)

// routeClasses lists the classes, for the metrics' labels.
var routeClasses = []routeClass{classRegister, classLogin, classScan, classLinkPage, classPayment}

// ErrRateLimited answers a request over its route class's limit.
var ErrRateLimited = &paydesk.Error{Kind: paydesk.KindRateLimited, Code: "RATE_LIMITED", Message: "too many requests, slow down"}

// newRateLimitedCounter counts the refused requests by class and by which
// bucket was empty (ip or credential).
func newRateLimitedCounter() *prometheus.CounterVec {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "paydesk",
		Name:      "rate_limited_total",
		Help:      "Requests refused with 429 RATE_LIMITED, by route class and by the bucket that was empty (ip or credential).",
	}, []string{"class", "bucket"})
	for _, c := range routeClasses {
		v.WithLabelValues(c.name, "ip")
		v.WithLabelValues(c.name, "credential")
	}
	return v
}

// limit takes a token from the caller's buckets of class, or answers 429
// RATE_LIMITED with Retry-After. On a route behind a token it runs after
// authenticate, so the credential is known. Without a Limiter nothing is
// limited. A limiter that fails (Redis down) lets the request through and
// logs: the per-account lock-outs still hold, and refusing every login
// while Redis restarts would be worse.
func (s *Server) limit(class routeClass) gin.HandlerFunc {
	return func(c *gin.Context) {
		if s.cfg.Limiter == nil {
			c.Next()
			return
		}
		type bucket struct {
			name, key string
			rate      throttle.Rate
		}
		buckets := []bucket{{"ip", class.name + ":ip:" + c.ClientIP(), class.perIP}}
		if p := principal(c); p.ID != 0 {
			buckets = append(buckets, bucket{"credential", class.name + ":" + string(p.Kind) + ":" + strconv.FormatInt(p.ID, 10), class.perCredential})
		}
		for _, b := range buckets {
			if b.rate.Burst == 0 {
				continue
			}
			wait, err := s.cfg.Limiter.Take(c.Request.Context(), b.key, b.rate)
			if err != nil {
				requestLogger(c).Warn("rate limiter failed; request let through", "class", class.name, "error", err)
				continue
			}
			if wait > 0 {
				s.metrics.rateLimited.WithLabelValues(class.name, b.name).Inc()
				e := *ErrRateLimited
				e.RetryAfter = int(math.Ceil(wait.Seconds()))
				writeError(c, &e)
				return
			}
		}
		c.Next()
	}
}
