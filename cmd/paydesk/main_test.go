package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	mobileapi "github.com/paydesk/paydesk/mobile-api"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// syncBuffer is a bytes.Buffer that the server may write while a test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testConfig is a dev configuration on a free port of the loopback.
func testConfig(dsn string) Config {
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DB = dsn
	cfg.LogFormat = "json"
	return cfg
}

// startMain runs a Main the way `paydesk serve` does and closes it when t ends.
func startMain(t *testing.T, m *Main) string {
	t.Helper()
	if err := m.Run(context.Background()); err != nil {
		m.Close()
		t.Fatalf("run: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return "http://" + m.Addr()
}

func get(t *testing.T, method, url string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return resp, body
}

type envelope struct {
	Error struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		RequestID string `json:"request_id"`
	} `json:"error"`
}

func TestServeEndToEnd(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			logs := &syncBuffer{}
			cfg := testConfig(storagetest.DSN(t, d))
			cfg.DebugAddr = "127.0.0.1:0"
			m := NewMain(cfg, logs)
			base := startMain(t, m)

			for _, p := range []string{"/healthz", "/readyz"} {
				resp, body := get(t, "GET", base+p)
				if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != `{"status":"ok"}` {
					t.Errorf("GET %s = %d %s, want 200 ok", p, resp.StatusCode, body)
				}
			}

			// The metrics and the profiles are on the private listener only.
			for _, p := range []string{"/metrics", "/debug/pprof/"} {
				if resp, _ := get(t, "GET", base+p); resp.StatusCode != http.StatusNotFound {
					t.Errorf("GET %s on the public port = %d, want 404", p, resp.StatusCode)
				}
			}
			if resp, _ := get(t, "GET", "http://"+m.DebugAddr()+"/debug/pprof/"); resp.StatusCode != http.StatusOK {
				t.Errorf("GET /debug/pprof/ on the debug listener = %d", resp.StatusCode)
			}
			resp, body := get(t, "GET", "http://"+m.DebugAddr()+"/metrics")
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `paydesk_http_requests_total{method="GET",route="/healthz",status="200"} 1`) {
				t.Errorf("GET /metrics = %d, lacking the /healthz request:\n%s", resp.StatusCode, body)
			}
			if !strings.Contains(string(body), "paydesk_ledger_batches_total ") || !strings.Contains(string(body), "paydesk_ledger_busy_seconds_total ") {
				t.Errorf("GET /metrics lacks the ledger poster's totals:\n%s", body)
			}

			resp, body = get(t, "GET", base+"/v1/openapi.json")
			var doc struct {
				OpenAPI string `json:"openapi"`
			}
			if err := json.Unmarshal(body, &doc); resp.StatusCode != http.StatusOK || err != nil || !strings.HasPrefix(doc.OpenAPI, "3.") {
				t.Errorf("GET /v1/openapi.json = %d, openapi %q, %v", resp.StatusCode, doc.OpenAPI, err)
			}

			for _, tt := range []struct {
				method, path string
				status       int
				code         string
			}{
				{"GET", "/no/such/path", http.StatusNotFound, "NOT_FOUND"},
				{"POST", "/healthz", http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED"},
			} {
				resp, body := get(t, tt.method, base+tt.path)
				var e envelope
				if err := json.Unmarshal(body, &e); err != nil || resp.StatusCode != tt.status || e.Error.Code != tt.code || e.Error.RequestID == "" {
					t.Errorf("%s %s = %d %s, want %d with code %s and a request_id", tt.method, tt.path, resp.StatusCode, body, tt.status, tt.code)
				}
				if got := resp.Header.Get("X-Request-Id"); got != e.Error.RequestID {
					t.Errorf("X-Request-Id %q, envelope %q", got, e.Error.RequestID)
				}
			}

			if !strings.Contains(logs.String(), `"msg":"http request"`) {
				t.Errorf("no access log:\n%s", logs)
			}
		})
	}
}

func TestProductionNeedsSecret(t *testing.T) {
	for _, tt := range []struct {
		name, secret, want string
	}{
		{"none", "", "production needs PAYDESK_SECRET"},
		{"short", "too-short-secret", "at least 32"},
		{"dev secret", DevSecret, "development secret"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dbPath := filepath.Join(t.TempDir(), "paydesk.db")
			env := map[string]string{"PAYDESK_ENV": "production", "PAYDESK_SECRET": tt.secret, "PAYDESK_DB": dbPath}
			var stdout, stderr syncBuffer
			status := run(context.Background(), []string{"--addr", "127.0.0.1:0"}, mapEnv(env), &stdout, &stderr)
			if status == 0 || !strings.Contains(stderr.String(), tt.want) {
				t.Fatalf("status %d, stderr %q; want a failure saying %q", status, stderr.String(), tt.want)
			}
			if _, err := os.Stat(dbPath); !os.IsNotExist(err) {
				t.Fatalf("the database was touched before the configuration was checked: %v", err)
			}
		})
	}

	t.Run("real secret", func(t *testing.T) {
		logs := &syncBuffer{}
		cfg := testConfig(filepath.Join(t.TempDir(), "paydesk.db"))
		cfg.Env = EnvProduction
		cfg.Secret = "Zm9yIHRlc3RzIG9ubHksIG5vdCBhIHJlYWwgc2VjcmV0Cg"
		cfg.Settle.BankSecret = "YmFuayBjYWxsYmFja3MgaW4gdGVzdHMgb25seQo"
		cfg.DataKey = "ZGF0YSBrZXkgZm9yIHRlc3RzIG9ubHksIDMyIGJ5dGU="
		cfg.PublicURL = "https://pay.example.com"
		startMain(t, NewMain(cfg, logs))
		for _, bad := range []string{cfg.Secret, cfg.DataKey, "development secret", "development data key"} {
			if strings.Contains(logs.String(), bad) {
				t.Fatalf("the logs show %q:\n%s", bad, logs)
			}
		}
	})

	t.Run("no data key", func(t *testing.T) {
		dbPath := filepath.Join(t.TempDir(), "paydesk.db")
		env := map[string]string{"PAYDESK_ENV": "production", "PAYDESK_DB": dbPath,
			"PAYDESK_SECRET": "Zm9yIHRlc3RzIG9ubHksIG5vdCBhIHJlYWwgc2VjcmV0Cg", "PAYDESK_BANK_SECRET": "YmFuayBjYWxsYmFja3MgaW4gdGVzdHMgb25seQo"}
		var stdout, stderr syncBuffer
		status := run(context.Background(), []string{"--addr", "127.0.0.1:0"}, mapEnv(env), &stdout, &stderr)
		if status == 0 || !strings.Contains(stderr.String(), "production needs PAYDESK_DATA_KEY") {
			t.Fatalf("status %d, stderr %q; want a refusal naming PAYDESK_DATA_KEY", status, stderr.String())
		}
		if _, err := os.Stat(dbPath); !os.IsNotExist(err) {
			t.Fatalf("the database was touched before the configuration was checked: %v", err)
		}
	})
}

// TestProductionRefusesUnsafeSettings: production does not start with a
// public URL customers cannot reach, or without the rate limits, and says
// which setting to fix; it starts with its secrets read from *_FILE.
func TestProductionRefusesUnsafeSettings(t *testing.T) {
	dir := t.TempDir()
	secrets := map[string]string{"PAYDESK_SECRET": "Zm9yIHRlc3RzIG9ubHksIG5vdCBhIHJlYWwgc2VjcmV0Cg",
		"PAYDESK_BANK_SECRET": "YmFuayBjYWxsYmFja3MgaW4gdGVzdHMgb25seQo", "PAYDESK_DATA_KEY": "ZGF0YSBrZXkgZm9yIHRlc3RzIG9ubHksIDMyIGJ5dGU="}
	prod := func(change map[string]string) map[string]string {
		env := map[string]string{"PAYDESK_ENV": "production", "PAYDESK_DB": filepath.Join(t.TempDir(), "paydesk.db"), "PAYDESK_PUBLIC_URL": "https://pay.example.com"}
		for k, v := range secrets {
			env[k] = v
		}
		for k, v := range change {
			if v == "" {
				delete(env, k)
			} else {
				env[k] = v
			}
		}
		return env
	}
	secretFile := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretFile, []byte(secrets["PAYDESK_SECRET"]+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		change map[string]string
		want   string
	}{
		{"no public url", map[string]string{"PAYDESK_PUBLIC_URL": ""}, "production needs PAYDESK_PUBLIC_URL"},
		{"localhost public url", map[string]string{"PAYDESK_PUBLIC_URL": "https://localhost:8080"}, "loopback"},
		{"plain-http public url", map[string]string{"PAYDESK_PUBLIC_URL": "http://pay.example.com"}, "over https"},
		{"no rate limits", map[string]string{"PAYDESK_RATE_LIMIT": "off"}, "PAYDESK_RATE_LIMIT=off"},
		{"no bank secret", map[string]string{"PAYDESK_BANK_SECRET": ""}, "PAYDESK_BANK_SECRET"},
		{"a secret twice", map[string]string{"PAYDESK_SECRET_FILE": secretFile}, "both PAYDESK_SECRET and PAYDESK_SECRET_FILE"},
		{"a missing secret file", map[string]string{"PAYDESK_SECRET": "", "PAYDESK_SECRET_FILE": filepath.Join(dir, "nope")}, "PAYDESK_SECRET_FILE"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := prod(tt.change)
			var stdout, stderr syncBuffer
			status := run(context.Background(), []string{"--addr", "127.0.0.1:0"}, mapEnv(env), &stdout, &stderr)
			if status == 0 || !strings.Contains(stderr.String(), tt.want) {
				t.Fatalf("status %d, stderr %q; want a refusal saying %q", status, stderr.String(), tt.want)
			}
			if _, err := os.Stat(env["PAYDESK_DB"]); !os.IsNotExist(err) {
				t.Fatalf("the database was touched before the configuration was checked: %v", err)
			}
		})
	}
	t.Run("secret from a file", func(t *testing.T) {
		c := &cli{cfg: DefaultConfig(), getenv: mapEnv(prod(map[string]string{"PAYDESK_SECRET": "", "PAYDESK_SECRET_FILE": secretFile})),
			stdout: &syncBuffer{}, stderr: &syncBuffer{}, given: map[string]bool{}}
		if _, err := c.parse(c.flagSet("paydesk"), nil); err != nil {
			t.Fatal(err)
		}
		if c.cfg.Secret != secrets["PAYDESK_SECRET"] {
			t.Fatalf("secret from the file: %q", c.cfg.Secret)
		}
		if err := c.cfg.validate(); err != nil {
			t.Fatalf("validate: %v", err)
		}
	})
}

func TestDevSecretWarns(t *testing.T) {
	logs := &syncBuffer{}
	m := NewMain(testConfig(filepath.Join(t.TempDir(), "paydesk.db")), logs)
	startMain(t, m)
	if m.Config.Secret != DevSecret || !strings.Contains(logs.String(), "development secret") {
		t.Fatalf("dev mode without a secret: secret %q, logs:\n%s", m.Config.Secret, logs)
	}
	if strings.Contains(logs.String(), DevSecret) {
		t.Fatalf("the logs show the secret")
	}
	if !strings.Contains(logs.String(), "development data key") || strings.Contains(logs.String(), DevDataKey) {
		t.Fatalf("dev mode without a data key: want a warning without the key, logs:\n%s", logs)
	}
}

// In-flight requests finish when the server shuts down; new ones are refused.
func TestGracefulShutdown(t *testing.T) {
	m := NewMain(testConfig(filepath.Join(t.TempDir(), "paydesk.db")), io.Discard)
	entered, release, shuttingDown := make(chan struct{}), make(chan struct{}), make(chan struct{})
	m.beforeServe = func(api *mobileapi.Server, srv *http.Server) {
		api.V1().GET("/slow", func(c *gin.Context) {
			close(entered)
			<-release
			c.JSON(http.StatusOK, gin.H{"done": true})
		})
		srv.RegisterOnShutdown(func() { close(shuttingDown) })
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	base := "http://" + m.Addr()

	type result struct {
		status int
		err    error
	}
	slow := make(chan result, 1)
	go func() {
		resp, err := http.Get(base + "/v1/slow")
		if err != nil {
			slow <- result{err: err}
			return
		}
		resp.Body.Close()
		slow <- result{status: resp.StatusCode}
	}()
	<-entered

	closed := make(chan error, 1)
	go func() { closed <- m.Close() }()
	<-shuttingDown // the listener is closed before shutdown hooks run

	if _, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Get(base + "/healthz"); err == nil {
		t.Error("a new request was served during shutdown")
	}
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) before the in-flight request finished", err)
	default:
	}

	close(release)
	if r := <-slow; r.err != nil || r.status != http.StatusOK {
		t.Fatalf("in-flight request: status %d, error %v; want 200", r.status, r.err)
	}
	if err := <-closed; err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
}

// TestMain lets a test run the real binary: the test binary re-executed
// with PAYDESK_TEST_RUN_MAIN=1 is paydesk.
func TestMain(m *testing.M) {
	if os.Getenv("PAYDESK_TEST_RUN_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// The binary serves until SIGTERM, then stops cleanly with status 0.
func TestBinarySIGTERM(t *testing.T) {
	cmd := exec.Command(os.Args[0], "serve", "--addr", "127.0.0.1:0", "--log-format", "json")
	cmd.Dir = t.TempDir() // the default paydesk.db lands here
	cmd.Env = append(os.Environ(), "PAYDESK_TEST_RUN_MAIN=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })

	var logs syncBuffer
	addr := make(chan string, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		serving := regexp.MustCompile(`"msg":"serving","addr":"([^"]+)"`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs.Write(append(sc.Bytes(), '\n'))
			if m := serving.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	select {
	case a := <-addr:
		if resp, _ := get(t, "GET", "http://"+a+"/healthz"); resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /healthz = %d", resp.StatusCode)
		}
	case <-done:
		t.Fatalf("paydesk exited before serving:\n%s", logs.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("paydesk did not start serving:\n%s", logs.String())
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-done
	if err := cmd.Wait(); err != nil {
		t.Fatalf("paydesk after SIGTERM: %v\n%s", err, logs.String())
	}
	if !strings.Contains(logs.String(), `"msg":"stopped"`) {
		t.Fatalf("no clean stop in the logs:\n%s", logs.String())
	}
	if _, err := os.Stat(filepath.Join(cmd.Dir, "paydesk.db")); err != nil {
		t.Fatalf("the default SQLite database was not created in the working directory: %v", err)
	}
}

func mapEnv(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

func TestHealthcheckCommand(t *testing.T) {
	m := NewMain(testConfig(filepath.Join(t.TempDir(), "paydesk.db")), &syncBuffer{})
	startMain(t, m)
	var stdout, stderr syncBuffer
	if status := run(context.Background(), []string{"healthcheck", "--addr", m.Addr()}, mapEnv(nil), &stdout, &stderr); status != 0 {
		t.Fatalf("healthcheck of a running server: status %d, %s", status, stderr.String())
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	stderr = syncBuffer{}
	if status := run(context.Background(), []string{"healthcheck", "--addr", dead}, mapEnv(nil), &stdout, &stderr); status != 1 || !strings.Contains(stderr.String(), "not healthy") {
		t.Fatalf("healthcheck of nothing: status %d, %s", status, stderr.String())
	}
}

// TestDurabilityLogged: the server says at start-up what a payment it
// answers survives, and warns, without refusing to start, when a setting
// lets an answered payment be lost (SQLite here; MySQL's warnings are
// storage's TestMySQLDurabilityWarnings).
func TestDurabilityLogged(t *testing.T) {
	for _, c := range []struct {
		sync, settings string
		warned         bool
	}{{"", "synchronous=FULL", false}, {"NORMAL", "synchronous=NORMAL", true}} {
		logs := &syncBuffer{}
		cfg := testConfig(filepath.Join(t.TempDir(), "paydesk.db"))
		cfg.SQLiteSync = c.sync
		startMain(t, NewMain(cfg, logs))
		if !strings.Contains(logs.String(), `"msg":"database durability","settings":"`+c.settings+`"`) {
			t.Errorf("SQLiteSync %q: no durability line with %s:\n%s", c.sync, c.settings, logs)
		}
		if warned := strings.Contains(logs.String(), "answered payments can be lost"); warned != c.warned {
			t.Errorf("SQLiteSync %q: warned %v, want %v:\n%s", c.sync, warned, c.warned, logs)
		}
	}
}
