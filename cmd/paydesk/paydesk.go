package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/paydesk/paydesk/internal/app"
	mobileapi "github.com/paydesk/paydesk/mobile-api"
	"github.com/paydesk/paydesk/mobile-api/webapp"
	"github.com/paydesk/paydesk/push"
	"github.com/paydesk/paydesk/sms"
	"github.com/paydesk/paydesk/storage"
)

// Main is the program: it wires configuration, database and API together.
// Run starts it and returns once it is serving; Close shuts it down.
type Main struct {
	Config Config
	// Logger defaults to one on the stderr given to NewMain, in Config.LogFormat.
	Logger *slog.Logger
	// ShutdownTimeout bounds how long Close waits for in-flight requests.
	ShutdownTimeout time.Duration

	DB *storage.DB
	// App is the wired services and their background jobs (internal/app).
	App *app.App
	API *mobileapi.Server
	// Push feeds the websockets; it runs from Run to Close.
	Push  *push.Hub
	redis *redis.Client
	// devSMS is the SMS channel with PAYDESK_SMS=log, nil otherwise.
	devSMS *sms.Dev

	stderr   io.Writer
	ln       net.Listener
	addr     atomic.Value // ln's address as a string, for Addr
	server   *http.Server
	debug    *http.Server // pprof and /metrics on Config.DebugAddr (debug.go)
	debugLn  net.Listener
	serveErr chan error

	closeOnce sync.Once
	closeErr  error

	// beforeServe, if set, sees the API and the HTTP server before the
	// first request; tests use it to add routes and shutdown hooks.
	beforeServe func(*mobileapi.Server, *http.Server)

	// CloseInterval is how often the background job closes expired orders
	// (default 1 s); SweepInterval how often it does the slower
	// housekeeping (default 1 minute): app.Schedule.
	CloseInterval, SweepInterval time.Duration
}

// NewMain returns a Main for cfg that logs to stderr.
func NewMain(cfg Config, stderr io.Writer) *Main {
	return &Main{Config: cfg, ShutdownTimeout: 20 * time.Second, stderr: stderr, serveErr: make(chan error, 1)}
}

// Open validates the configuration, sets up logging and opens and migrates
// the database: what every command that touches data needs.
func (m *Main) Open(ctx context.Context) error {
	if m.DB != nil {
		return nil
	}
	if err := m.Config.validate(); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	if m.Logger == nil {
		m.Logger = newLogger(m.stderr, m.Config.LogFormat)
	}
	c := &m.Config
	m.Logger.Info("paydesk configuration", "version", buildVersion(), "env", c.Env,
		"db", redactDSN(c.DB), "tz", c.TZ, "redis", redactURL(c.Redis))

	db, err := storage.Open(c.DB, storage.Options{Synchronous: c.sqliteSync})
	if err != nil {
		return fmt.Errorf("open database %s: %w", redactDSN(c.DB), err)
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return fmt.Errorf("migrate database %s: %w", redactDSN(c.DB), err)
	}
	m.DB = db
	v, err := db.MigrationVersion(ctx)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	m.Logger.Info("database ready", "dialect", db.Dialect, "schema_version", v)
	if err := m.checkDurability(ctx); err != nil {
		return err
	}
	return m.build(ctx)
}

// checkDurability logs what the database promises about a payment it has
// answered, and warns (it does not refuse: the operator may have chosen
// so) about each setting that lets such a payment be lost.
func (m *Main) checkDurability(ctx context.Context) error {
	d, err := m.DB.Durability(ctx)
	if err != nil {
		return err
	}
	m.Logger.Info("database durability", "settings", strings.Join(d.Settings, " "))
	fix := "set it in the MySQL server's configuration"
	if m.DB.Dialect == storage.SQLite {
		fix = "set PAYDESK_SQLITE_SYNCHRONOUS=FULL (--sqlite-synchronous), the default"
	}
	for _, w := range d.Warnings {
		m.Logger.Warn("database durability: answered payments can be lost", "setting", w, "fix", fix)
	}
	return nil
}

// Run opens everything and starts serving the API on Config.Addr. It
// returns once the listener is bound (see Addr); Close stops it. Call Close
// also when Run fails, to release what it had opened.
func (m *Main) Run(ctx context.Context) error {
	if err := m.Open(ctx); err != nil {
		return err
	}
	if err := m.startPush(ctx); err != nil {
		return err
	}
	m.API = mobileapi.NewServer(m.App, mobileapi.Config{Logger: m.Logger, Version: buildVersion(),
		Push: m.Push, Sockets: m.Config.sockets, OnStaffDisabled: []func(merchantID, staffID int64){func(mid, sid int64) { m.Push.Disconnect(mid, sid) }},
		TrustedProxies: m.Config.trustedProxies(), Limiter: m.limiter(), MetricsToken: m.Config.MetricsToken,
		DevCodes: m.devCodes()})

	ln, err := net.Listen("tcp", m.Config.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", m.Config.Addr, err)
	}
	m.ln = ln
	m.addr.Store(ln.Addr().String())
	m.server = &http.Server{
		Handler:           webapp.Mount(m.API.Handler()), // the app at /app/, the API everywhere else
		ReadHeaderTimeout: 10 * time.Second,
		// Bodies are at most 1 MiB; a client that cannot send that in a
		// minute is holding a connection hostage. There is no WriteTimeout:
		// streamed statements and websockets run long on purpose.
		ReadTimeout:    time.Minute,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn),
	}
	if m.beforeServe != nil {
		m.beforeServe(m.API, m.server)
	}
	if err := m.startDebug(); err != nil {
		return err
	}
	m.App.Jobs.Start()
	go func() {
		if err := m.server.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			m.serveErr <- err
		}
	}()
	m.Logger.Info("serving", "addr", ln.Addr().String())
	return nil
}

// Addr is the address the API listens on, with the real port when
// Config.Addr asked for port 0; "" before Run.
func (m *Main) Addr() string {
	// Read by background jobs (the bank simulator's callbacks) that may
	// start before Run has listened.
	a, _ := m.addr.Load().(string)
	return a
}

// Wait blocks until ctx is done (nil) or the server fails (its error).
func (m *Main) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case err := <-m.serveErr:
		return fmt.Errorf("serve: %w", err)
	}
}

// Close shuts down gracefully: it stops accepting connections, lets
// in-flight requests finish (for at most ShutdownTimeout), then closes the
// database. It is safe to call more than once, and after a failed Run.
func (m *Main) Close() error {
	m.closeOnce.Do(func() {
		var errs []error
		switch {
		case m.server != nil:
			m.Logger.Info("shutting down: finishing in-flight requests", "timeout", m.ShutdownTimeout)
			ctx, cancel := context.WithTimeout(context.Background(), m.ShutdownTimeout)
			defer cancel()
			if err := m.server.Shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("shut down http server: %w", err))
				m.server.Close() // cut the requests that overran
			}
		case m.ln != nil:
			m.ln.Close()
		}
		if m.debug != nil {
			m.debug.Close()
		}
		// Sockets are hijacked connections, which Shutdown does not wait
		// for: ending their streams tells their clients to reconnect.
		m.closePush()
		// The background jobs stop before what they use, and the ledger
		// finishes the transfers already queued before the database goes
		// away.
		m.App.Close()
		if m.DB != nil {
			if err := m.DB.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close database: %w", err))
			}
		}
		m.closeErr = errors.Join(errs...)
		if m.Logger != nil && m.server != nil {
			m.Logger.Info("stopped")
		}
	})
	return m.closeErr
}

// newLogger logs to w in the given format ("json" or "text").
func newLogger(w io.Writer, format string) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}
