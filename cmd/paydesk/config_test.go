package main

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

func TestConfigPrecedence(t *testing.T) {
	env := map[string]string{"PAYDESK_ADDR": ":9000", "PAYDESK_DB": "env.db", "PAYDESK_TZ": "Europe/Paris"}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want Config
	}{
		{"defaults", nil, nil, Config{Addr: ":8080", DB: "paydesk.db", TZ: "Asia/Shanghai", Env: "dev", LogFormat: "text", RateLimit: "on"}},
		{"env over default", nil, env, Config{Addr: ":9000", DB: "env.db", TZ: "Europe/Paris", Env: "dev", LogFormat: "text", RateLimit: "on"}},
		{"flag over env", []string{"--addr", ":7000", "-db=flag.db"}, env, Config{Addr: ":7000", DB: "flag.db", TZ: "Europe/Paris", Env: "dev", LogFormat: "text", RateLimit: "on"}},
		{"flag after command", []string{"--addr", ":7000", "serve", "--db", "flag.db"}, env, Config{Addr: ":7000", DB: "flag.db", TZ: "Europe/Paris", Env: "dev", LogFormat: "text", RateLimit: "on"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &cli{cfg: DefaultConfig(), getenv: mapEnv(tt.env), stdout: &syncBuffer{}, stderr: &syncBuffer{}, given: map[string]bool{}}
			rest, err := c.parse(c.flagSet("paydesk"), tt.args)
			if err != nil {
				t.Fatal(err)
			}
			if len(rest) > 0 { // a command name, then its flags
				if _, err := c.parse(c.flagSet(rest[0]), rest[1:]); err != nil {
					t.Fatal(err)
				}
			}
			if c.cfg != tt.want {
				t.Fatalf("config %+v, want %+v", c.cfg, tt.want)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   string // "" means valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"time zone", func(c *Config) { c.TZ = "America/New_York" }, ""},
		{"bad time zone", func(c *Config) { c.TZ = "Mars/Olympus" }, "PAYDESK_TZ"},
		{"bad env", func(c *Config) { c.Env = "staging" }, "PAYDESK_ENV"},
		{"bad log format", func(c *Config) { c.LogFormat = "xml" }, "PAYDESK_LOG_FORMAT"},
		{"bad redis", func(c *Config) { c.Redis = "localhost:6379" }, "PAYDESK_REDIS"},
		{"redis", func(c *Config) { c.Redis = "redis://:pw@localhost:6379/0" }, ""},
		{"public url", func(c *Config) { c.PublicURL = "https://pay.example.com/" }, ""},
		{"public url without scheme", func(c *Config) { c.PublicURL = "pay.example.com" }, "PAYDESK_PUBLIC_URL"},
		{"public url with a path", func(c *Config) { c.PublicURL = "https://example.com/pay" }, "PAYDESK_PUBLIC_URL"},
		{"trusted proxies", func(c *Config) { c.TrustedProxies = "10.0.0.0/8, 192.168.1.7" }, ""},
		{"bad trusted proxy", func(c *Config) { c.TrustedProxies = "10.0.0.0/8,lb.internal" }, "PAYDESK_TRUSTED_PROXIES"},
		{"bad rate limit", func(c *Config) { c.RateLimit = "maybe" }, "PAYDESK_RATE_LIMIT"},
		{"bad sms", func(c *Config) { c.SMS = "carrier-pigeon" }, "PAYDESK_SMS"},
		{"production with the logging sms channel", production(func(c *Config) { c.SMS = "log" }), "PAYDESK_SMS=log"},
		{"short metrics token", func(c *Config) { c.MetricsToken = "abc" }, "PAYDESK_METRICS_TOKEN"},
		{"production without secret", func(c *Config) { c.Env = EnvProduction }, "PAYDESK_SECRET"},
		{"production without a bank secret", func(c *Config) { c.Env = EnvProduction; c.Secret = strings.Repeat("k", 32) }, "PAYDESK_BANK_SECRET"},
		{"production without a data key", func(c *Config) {
			c.Env = EnvProduction
			c.Secret, c.Settle.BankSecret = strings.Repeat("k", 32), strings.Repeat("b", 32)
		}, "PAYDESK_DATA_KEY"},
		{"production with the dev data key", func(c *Config) {
			c.Env = EnvProduction
			c.Secret, c.Settle.BankSecret, c.DataKey = strings.Repeat("k", 32), strings.Repeat("b", 32), DevDataKey
		}, "development data key"},
		{"data key not base64", func(c *Config) { c.DataKey = "not base64!" }, "PAYDESK_DATA_KEY"},
		{"data key too short", func(c *Config) { c.DataKey = base64.StdEncoding.EncodeToString(make([]byte, 16)) }, "PAYDESK_DATA_KEY"},
		{"production", production(func(*Config) {}), ""},
		{"production without a public url", production(func(c *Config) { c.PublicURL = "" }), "production needs PAYDESK_PUBLIC_URL"},
		{"production with a localhost url", production(func(c *Config) { c.PublicURL = "https://localhost:8080" }), "loopback"},
		{"production with a loopback ip url", production(func(c *Config) { c.PublicURL = "https://127.0.0.1" }), "loopback"},
		{"production with a plain-http url", production(func(c *Config) { c.PublicURL = "http://pay.example.com" }), "https"},
		{"production without rate limits", production(func(c *Config) { c.RateLimit = "off" }), "PAYDESK_RATE_LIMIT=off"},
		{"event retention", func(c *Config) { c.EventRetention = "720h" }, ""},
		{"event retention too short", func(c *Config) { c.EventRetention = "10m" }, "PAYDESK_EVENT_RETENTION"},
		{"event retention not a duration", func(c *Config) { c.EventRetention = "7d" }, "PAYDESK_EVENT_RETENTION"},
		{"cache ttl", func(c *Config) { c.CacheTTL = "500ms" }, ""},
		{"cache off", func(c *Config) { c.CacheTTL = "0s" }, ""},
		{"cache ttl too long", func(c *Config) { c.CacheTTL = "5m" }, "PAYDESK_CACHE_TTL"},
		{"cache ttl negative", func(c *Config) { c.CacheTTL = "-1s" }, "PAYDESK_CACHE_TTL"},
		{"sqlite normal", func(c *Config) { c.SQLiteSync = "normal" }, ""},
		{"sqlite off", func(c *Config) { c.SQLiteSync = "OFF" }, "PAYDESK_SQLITE_SYNCHRONOUS"},
		{"websocket limits", func(c *Config) { c.WSPerToken, c.WSPerLogin = "50", "200" }, ""},
		{"no websockets", func(c *Config) { c.WSPerToken = "0" }, "PAYDESK_WS_PER_TOKEN"},
		{"websocket limit not a number", func(c *Config) { c.WSPerLogin = "many" }, "PAYDESK_WS_PER_LOGIN"},
		{"bad settlement settings", func(c *Config) { c.Settle.Cutoff = "13h"; c.Settle.WithdrawMin = "0.001" }, "PAYDESK_CUTOFF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.change(&c)
			err := c.validate()
			if tt.want == "" {
				if err != nil || c.Location == nil {
					t.Fatalf("validate: %v (location %v)", err, c.Location)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("validate: %v, want an error about %s", err, tt.want)
			}
		})
	}
}

// production returns a change to a valid production configuration, then
// change.
func production(change func(*Config)) func(*Config) {
	return func(c *Config) {
		c.Env = EnvProduction
		c.Secret, c.Settle.BankSecret = strings.Repeat("k", 32), strings.Repeat("b", 32)
		c.DataKey = base64.StdEncoding.EncodeToString([]byte(strings.Repeat("d", 32)))
		c.PublicURL = "https://pay.example.com"
		change(c)
	}
}

// TestDevPublicURLFollowsAddr: in dev mode an unset public URL is where
// --addr listens.
func TestDevPublicURLFollowsAddr(t *testing.T) {
	for addr, want := range map[string]string{":8080": "http://localhost:8080", "0.0.0.0:9000": "http://localhost:9000",
		"192.168.1.5:7000": "http://192.168.1.5:7000", "[::]:8443": "http://localhost:8443"} {
		c := DefaultConfig()
		c.Addr = addr
		if err := c.validate(); err != nil || c.PublicURL != want {
			t.Errorf("--addr %s: public URL %q (%v), want %q", addr, c.PublicURL, err, want)
		}
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"paydesk.db", "paydesk.db"},
		{"mysql://root@tcp(127.0.0.1:3306)/paydesk", "mysql://root@tcp(127.0.0.1:3306)/paydesk"},
		{"mysql://app:s3cret@tcp(db:3306)/paydesk?tls=true", "mysql://app:xxxxx@tcp(db:3306)/paydesk?tls=true"},
		{"mysql://app:p@ss:w/rd@tcp(db:3306)/paydesk", "mysql://app:xxxxx@tcp(db:3306)/paydesk"},
	}
	for _, tt := range tests {
		if got := redactDSN(tt.in); got != tt.want {
			t.Errorf("redactDSN(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := redactURL("redis://:hunter2@cache:6379/0"); strings.Contains(got, "hunter2") {
		t.Errorf("redactURL kept the password: %q", got)
	}
}

// --cache-ttl reaches app.Settings.CacheTTL: unset is the app's default
// (zero), 0s turns the cache off (negative there), a duration is itself.
func TestCacheTTLSetting(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Duration
	}{{"", 0}, {"0s", -1}, {"500ms", 500 * time.Millisecond}} {
		c := DefaultConfig()
		c.CacheTTL = tt.in
		if err := c.validate(); err != nil || c.cacheTTL != tt.want {
			t.Errorf("--cache-ttl %q: %v, %v; want %v", tt.in, c.cacheTTL, err, tt.want)
		}
	}
}
