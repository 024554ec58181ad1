package main

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // PAYDESK_TZ must resolve on a machine (or image) without zoneinfo

	mobileapi "github.com/paydesk/paydesk/mobile-api"
	"github.com/paydesk/paydesk/push"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/wallet"
)

// Deployment environments.
const (
	EnvDev        = "dev"
	EnvProduction = "production"
)

// DevSecret signs tokens in dev mode when no secret is given. It is in the
// source code, so anyone can forge tokens signed with it; production refuses it.
const DevSecret = "paydesk-INSECURE-dev-secret-do-not-use-in-production"

// DevDataKey seals the wallets' secrets in dev mode when no data key is
// given (base64 of 32 bytes). It is in the source code, so it protects
// nothing; production refuses it.
const DevDataKey = "cGF5ZGVzay1JTlNFQ1VSRS1kZXYtZGF0YS1rZXktMDA=" // "paydesk-INSECURE-dev-data-key-00"

// minSecretLen is the shortest secret production accepts: 32 bytes, the
// size of an HMAC-SHA256 key.
const minSecretLen = 32

// Config is everything the operator sets, by flag or environment variable.
type Config struct {
	Addr      string // address to listen on, host:port
	DB        string // SQLite path or mysql:// DSN
	TZ        string // the merchants' default time zone, an IANA name
	Env       string // EnvDev or EnvProduction
	Secret    string // token signing secret
	DataKey   string // base64 of the 32 bytes sealing wallet secrets at rest; not Secret, so either rotates alone
	Redis     string // redis:// URL for push between instances; empty for one instance
	LogFormat string // text or json
	Policy    string // casbin policy file; empty for the built-in one
	PublicURL string // where customers reach paydesk: QR payloads and payment links are built on it
	DebugAddr string // host:port of the private listener serving pprof and /metrics; empty for none
	// TrustedProxies are the load balancers' addresses, CIDRs or IPs
	// separated by commas, whose X-Forwarded-For is believed.
	TrustedProxies string
	// RateLimit is "on" or "off" (the per-route-class token buckets; off
	// only for load tests, and refused in production).
	RateLimit string
	// MetricsToken, when set, also serves /metrics on the public port to
	// requests with Authorization: Bearer <token>.
	MetricsToken string
	// SMS is the channel of the phone confirmation codes: "log" (dev: log
	// the codes, answer them as dev_code) or "" (none: registration is
	// refused with SMS_UNAVAILABLE). Dev mode defaults to log.
	SMS string
	// EventRetention is how long push events are kept for clients that
	// reconnect with last_seq, a duration; empty for push.DefaultRetention.
	EventRetention string
	// WebhookAllowPrivate ("true" or "false") lets webhook deliveries
	// reach loopback and private addresses; off unless set.
	WebhookAllowPrivate string
	// SQLiteSync is SQLite's synchronous setting: FULL or NORMAL.
	SQLiteSync string
	// WSPerToken and WSPerLogin bound the websockets open at once per
	// access token and per login, whole numbers.
	WSPerToken, WSPerLogin string
	// Settle holds settlement, withdrawal and bank simulator settings (settle.go).
	Settle SettleConfig

	// Location is TZ loaded; validate sets it.
	Location *time.Location
	// eventRetention is EventRetention parsed; validate sets it.
	eventRetention time.Duration
	// CacheTTL is how long a staff row or a merchant read for one request
	// serves the next ones (app.Settings.CacheTTL); "0s" turns it off.
	CacheTTL string
	// cacheTTL is CacheTTL parsed for app.Settings; validate sets it.
	cacheTTL time.Duration
	// dataKey is DataKey decoded, or DevDataKey's in dev mode without one;
	// devDataKeyInForce says which. validate sets them.
	dataKey           string
	devDataKeyInForce bool
	// sqliteSync and sockets are SQLiteSync and WSPer* parsed; validate sets them.
	sqliteSync storage.Sync
	sockets    mobileapi.SocketLimits
}

// setting is one configuration value and the two ways to give it. A flag
// wins over the environment variable, which wins over the default.
type setting struct {
	flag, env, def, usage string
	field                 func(*Config) *string
}

var settings = append([]setting{
	{"addr", "PAYDESK_ADDR", ":8080", "`host:port` to listen on", func(c *Config) *string { return &c.Addr }},
	{"db", "PAYDESK_DB", "paydesk.db", "SQLite `file`, or mysql://user:pass@tcp(host:3306)/db", func(c *Config) *string { return &c.DB }},
	{"tz", "PAYDESK_TZ", "Asia/Shanghai", "default time `zone` of merchants (IANA name)", func(c *Config) *string { return &c.TZ }},
	{"env", "PAYDESK_ENV", EnvDev, "`mode`: dev or production (production refuses insecure settings)", func(c *Config) *string { return &c.Env }},
	{"secret", "PAYDESK_SECRET", "", "token signing `secret`, at least 32 bytes (required in production)", func(c *Config) *string { return &c.Secret }},
	{"data-key", "PAYDESK_DATA_KEY", "", "`key` sealing the wallets' payment-code and dynamic-password secrets in the database: 32 random bytes in base64, e.g. from `openssl rand -base64 32` (required in production; not the token secret)", func(c *Config) *string { return &c.DataKey }},
	{"redis", "PAYDESK_REDIS", "", "redis://host:6379/0 `url` to push events between instances (optional)", func(c *Config) *string { return &c.Redis }},
	{"policy", "PAYDESK_POLICY", "", "casbin policy `file` deciding which role may call which route (default: the built-in policy)", func(c *Config) *string { return &c.Policy }},
	{"public-url", "PAYDESK_PUBLIC_URL", "", "public base `url` that QR codes and payment links point customers' phones to, such as https://pay.example.com (required in production, where it must be https and not localhost; in dev it defaults to http://localhost:<port of --addr>)", func(c *Config) *string { return &c.PublicURL }},
	{"debug-addr", "PAYDESK_DEBUG_ADDR", "", "`host:port` of a separate listener serving /metrics and /debug/pprof/ (keep it private: profiles show internals); empty for none", func(c *Config) *string { return &c.DebugAddr }},
	{"trusted-proxies", "PAYDESK_TRUSTED_PROXIES", "", "comma-separated `CIDRs` or IPs of the load balancers in front of paydesk, whose X-Forwarded-For names the client; without them every client behind a proxy shares its address and its rate limits", func(c *Config) *string { return &c.TrustedProxies }},
	{"rate-limit", "PAYDESK_RATE_LIMIT", "on", "`on` or off: the per-client-IP and per-credential rate limits of login, registration, scans, link pages and payments (off is for load tests; production refuses it)", func(c *Config) *string { return &c.RateLimit }},
	{"sms", "PAYDESK_SMS", "", "`channel` of the one-time codes confirming customers' phones: log (dev only: the codes are logged and answered as dev_code) or none; empty is log in dev and none in production, where wallet registration then answers 503 SMS_UNAVAILABLE until an SMS gateway is built in", func(c *Config) *string { return &c.SMS }},
	{"metrics-token", "PAYDESK_METRICS_TOKEN", "", "bearer `token` that also serves /metrics on the public port (otherwise /metrics is only on --debug-addr)", func(c *Config) *string { return &c.MetricsToken }},
	{"event-retention", "PAYDESK_EVENT_RETENTION", "", "how long push events are kept for apps that reconnect with last_seq, a `duration` of at least 1h; older ones are deleted and such an app is told to resync (default 168h, 7 days)", func(c *Config) *string { return &c.EventRetention }},
	{"webhook-allow-private", "PAYDESK_WEBHOOK_ALLOW_PRIVATE", "", "`true` lets webhook deliveries reach loopback, private and link-local addresses (a merchant's endpoint URL must not become a way into this network; for tests and single-machine setups only)", func(c *Config) *string { return &c.WebhookAllowPrivate }},
	{"cache-ttl", "PAYDESK_CACHE_TTL", "", "how long a staff row or a merchant read for one request serves the next ones on this instance, a `duration` from 0s (off) to 1m: the longest another instance's change that sends no event (enabling staff) can lag here (default 1s)", func(c *Config) *string { return &c.CacheTTL }},
	{"log-format", "PAYDESK_LOG_FORMAT", "text", "log `format`: text or json", func(c *Config) *string { return &c.LogFormat }},
	{"sqlite-synchronous", "PAYDESK_SQLITE_SYNCHRONOUS", "", "when an SQLite commit reaches the disk, a `mode`: FULL, at every commit (a payment answered PAID survives a power loss), or NORMAL, at checkpoints (faster; a power loss or a crash of the machine can lose the last payments already answered PAID) (default FULL)", func(c *Config) *string { return &c.SQLiteSync }},
	{"ws-per-token", "PAYDESK_WS_PER_TOKEN", "", "websockets one access token may hold open at once on an instance, a `number`; one more is refused with 429 TOO_MANY_SOCKETS (default " + strconv.Itoa(mobileapi.DefaultSocketsPerToken) + ")", func(c *Config) *string { return &c.WSPerToken }},
	{"ws-per-login", "PAYDESK_WS_PER_LOGIN", "", "websockets the access tokens of one login may hold open at once on an instance, a `number` (default " + strconv.Itoa(mobileapi.DefaultSocketsPerLogin) + ")", func(c *Config) *string { return &c.WSPerLogin }},
}, settleSettings...)

// DefaultConfig returns the configuration with every default applied.
func DefaultConfig() Config {
	var c Config
	for _, s := range settings {
		*s.field(&c) = s.def
	}
	return c
}

// validate checks c and completes its derived fields. The errors name the
// setting the operator has to fix.
func (c *Config) validate() error {
	var errs []error
	switch c.Env {
	case EnvDev, EnvProduction:
	default:
		errs = append(errs, fmt.Errorf("PAYDESK_ENV (--env) is %q; want %q or %q", c.Env, EnvDev, EnvProduction))
	}
	if c.Env == EnvProduction {
		switch {
		case c.Secret == "":
			errs = append(errs, errors.New("production needs PAYDESK_SECRET (or --secret): a random secret of at least 32 bytes, e.g. from `openssl rand -base64 48`"))
		case c.Secret == DevSecret:
			errs = append(errs, errors.New("production refuses the built-in development secret; set PAYDESK_SECRET to a random secret of at least 32 bytes"))
		case len(c.Secret) < minSecretLen:
			errs = append(errs, fmt.Errorf("PAYDESK_SECRET is %d bytes; production needs at least %d", len(c.Secret), minSecretLen))
		}
	}
	errs = append(errs, c.validateDataKey())
	if c.WebhookAllowPrivate != "true" && c.WebhookAllowPrivate != "false" && c.WebhookAllowPrivate != "" {
		errs = append(errs, fmt.Errorf("PAYDESK_WEBHOOK_ALLOW_PRIVATE (--webhook-allow-private) is %q; want true or false", c.WebhookAllowPrivate))
	}
	loc, err := time.LoadLocation(c.TZ)
	if err != nil || c.TZ == "" {
		errs = append(errs, fmt.Errorf("PAYDESK_TZ (--tz) %q is not a known time zone, e.g. Asia/Shanghai", c.TZ))
	}
	c.Location = loc
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("PAYDESK_LOG_FORMAT (--log-format) is %q; want text or json", c.LogFormat))
	}
	if c.Addr == "" {
		errs = append(errs, errors.New("PAYDESK_ADDR (--addr) is empty"))
	}
	if c.Redis != "" {
		if u, err := url.Parse(c.Redis); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
			errs = append(errs, errors.New("PAYDESK_REDIS (--redis) must be a redis:// or rediss:// URL"))
		}
	}
	errs = append(errs, c.validatePublicURL(), c.validateProxies())
	switch c.RateLimit {
	case "on":
	case "off":
		if c.Env == EnvProduction {
			errs = append(errs, errors.New("production refuses PAYDESK_RATE_LIMIT=off: without the rate limits one client can try passwords as fast as the server answers"))
		}
	default:
		errs = append(errs, fmt.Errorf("PAYDESK_RATE_LIMIT (--rate-limit) is %q; want on or off", c.RateLimit))
	}
	switch {
	case c.SMS == "" && c.Env == EnvDev:
		c.SMS = "log"
	case c.SMS == "":
		c.SMS = "none"
	case c.SMS == "log" && c.Env == EnvProduction:
		errs = append(errs, errors.New("production refuses PAYDESK_SMS=log: it shows every confirmation code to anyone who asks; set none until an SMS gateway is configured"))
	case c.SMS != "log" && c.SMS != "none":
		errs = append(errs, fmt.Errorf("PAYDESK_SMS (--sms) is %q; want log or none", c.SMS))
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < 16 {
		errs = append(errs, errors.New("PAYDESK_METRICS_TOKEN must be at least 16 characters"))
	}
	if c.DB == "" {
		errs = append(errs, errors.New("PAYDESK_DB (--db) is empty"))
	}
	c.eventRetention = push.DefaultRetention
	if c.EventRetention != "" {
		d, err := time.ParseDuration(c.EventRetention)
		if err != nil || d < time.Hour {
			errs = append(errs, fmt.Errorf("PAYDESK_EVENT_RETENTION (--event-retention) %q must be a duration of at least 1h, e.g. 168h", c.EventRetention))
		}
		c.eventRetention = d
	}
	if c.CacheTTL != "" {
		d, err := time.ParseDuration(c.CacheTTL)
		switch {
		case err != nil || d < 0 || d > time.Minute:
			errs = append(errs, fmt.Errorf("PAYDESK_CACHE_TTL (--cache-ttl) %q must be a duration from 0s (off) to 1m, e.g. 1s", c.CacheTTL))
		case d == 0:
			c.cacheTTL = -1 // app.Settings: negative is off, zero the default
		default:
			c.cacheTTL = d
		}
	}
	sync, err := storage.ParseSync(c.SQLiteSync)
	if err != nil {
		errs = append(errs, fmt.Errorf("PAYDESK_SQLITE_SYNCHRONOUS (--sqlite-synchronous) is %q; want FULL or NORMAL", c.SQLiteSync))
	}
	c.sqliteSync = sync
	count := func(name, v string, def int, into *int) {
		if v == "" {
			v = strconv.Itoa(def)
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 || n > 100_000 {
			errs = append(errs, fmt.Errorf("%s is %q; want a whole number from 1 to 100000", name, v))
		}
		*into = n
	}
	count("PAYDESK_WS_PER_TOKEN (--ws-per-token)", c.WSPerToken, mobileapi.DefaultSocketsPerToken, &c.sockets.PerToken)
	count("PAYDESK_WS_PER_LOGIN (--ws-per-login)", c.WSPerLogin, mobileapi.DefaultSocketsPerLogin, &c.sockets.PerLogin)
	errs = append(errs, c.Settle.validate(c.Env))
	return errors.Join(errs...)
}

// validatePublicURL checks PublicURL, deriving it from Addr in dev mode
// when it is not set. Production refuses a plain-http or local one: every
// QR code and payment link would send the customers' phones there.
func (c *Config) validatePublicURL() error {
	if c.PublicURL == "" {
		if c.Env == EnvProduction {
			return errors.New("production needs PAYDESK_PUBLIC_URL (or --public-url): the https address customers' phones reach paydesk at, such as https://pay.example.com; QR codes and payment links are built on it")
		}
		host, port, err := net.SplitHostPort(c.Addr)
		if err != nil {
			return fmt.Errorf("PAYDESK_ADDR (--addr) %q is not host:port", c.Addr)
		}
		if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
			host = "localhost"
		}
		c.PublicURL = "http://" + net.JoinHostPort(host, port)
	}
	u, err := url.Parse(c.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.TrimRight(u.Path, "/") != "" {
		return fmt.Errorf("PAYDESK_PUBLIC_URL (--public-url) %q must be an http(s) URL of a host, such as https://pay.example.com", c.PublicURL)
	}
	if c.Env != EnvProduction {
		return nil
	}
	if u.Scheme != "https" {
		return fmt.Errorf("production refuses PAYDESK_PUBLIC_URL %q: customers' phones must reach paydesk over https", c.PublicURL)
	}
	host := strings.ToLower(u.Hostname())
	if ip := net.ParseIP(host); host == "localhost" || strings.HasSuffix(host, ".localhost") || (ip != nil && (ip.IsLoopback() || ip.IsUnspecified())) {
		return fmt.Errorf("production refuses PAYDESK_PUBLIC_URL %q: a customer's phone cannot reach this machine's loopback address; set the public https address", c.PublicURL)
	}
	return nil
}

// validateProxies checks TrustedProxies.
func (c *Config) validateProxies() error {
	for _, p := range c.trustedProxies() {
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			return fmt.Errorf("PAYDESK_TRUSTED_PROXIES (--trusted-proxies): %q is neither a CIDR nor an IP address", p)
		}
	}
	return nil
}

// trustedProxies is TrustedProxies as a list.
func (c *Config) trustedProxies() []string {
	var list []string
	for _, p := range strings.Split(c.TrustedProxies, ",") {
		if p = strings.TrimSpace(p); p != "" {
			list = append(list, p)
		}
	}
	return list
}

// validateDataKey decodes DataKey, or picks DevDataKey in dev mode without
// one. The errors never quote the key.
func (c *Config) validateDataKey() error {
	c.dataKey, c.devDataKeyInForce = "", false
	key := c.DataKey
	switch {
	case key == "" && c.Env == EnvProduction:
		return errors.New("production needs PAYDESK_DATA_KEY (or --data-key): 32 random bytes in base64, e.g. from `openssl rand -base64 32`, kept out of the database and apart from PAYDESK_SECRET")
	case key == DevDataKey && c.Env == EnvProduction:
		return errors.New("production refuses the built-in development data key; set PAYDESK_DATA_KEY to 32 random bytes in base64")
	case key == "" || key == DevDataKey:
		key, c.devDataKeyInForce = DevDataKey, true
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(key))
	if err != nil || len(b) != wallet.DataKeyLen {
		return fmt.Errorf("PAYDESK_DATA_KEY (--data-key) must be %d bytes in base64, e.g. from `openssl rand -base64 32`", wallet.DataKeyLen)
	}
	c.dataKey = string(b)
	return nil
}

// redactDSN hides the password of a mysql:// DSN, so the DSN can be logged.
// When in doubt it hides more: everything between the scheme and the last
// '@' that is not the user name.
func redactDSN(dsn string) string {
	rest, ok := strings.CutPrefix(dsn, "mysql://")
	if !ok {
		return dsn // an SQLite path holds no credentials
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return dsn
	}
	user, _, hasPass := strings.Cut(rest[:at], ":")
	if !hasPass {
		return dsn
	}
	return "mysql://" + user + ":xxxxx" + rest[at:]
}

// redactURL hides the password of a URL such as redis://:pass@host:6379/0.
func redactURL(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL, not shown)"
	}
	return u.Redacted()
}
