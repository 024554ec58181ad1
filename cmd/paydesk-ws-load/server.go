package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/paydesk/paydesk/cmd/internal/spawn"
)

// server is a paydesk server the tool started as a child process on a
// fresh SQLite database, with one merchant.
type server struct {
	dir string
	*spawn.Server
	storeID int64
	keep    bool
}

// loadOwnerPassword is the password of the owner the tool creates.
const loadOwnerPassword = "load-owner-pass-1"

// startServer builds (unless c.Server names a binary), seeds and starts a
// server, and waits until it is ready.
func startServer(ctx context.Context, c *Config) (*server, error) {
	dir, err := os.MkdirTemp("", "paydesk-ws-load-")
	if err != nil {
		return nil, err
	}
	s := &server{dir: dir, keep: c.KeepDir}
	p := spawn.Paydesk{Bin: c.Server}
	if p.Bin == "" {
		c.Log("building the server into %s", dir)
		if p.Bin, err = spawn.Build(ctx, dir); err != nil {
			s.stop()
			return nil, err
		}
	}
	db := filepath.Join(dir, "paydesk.db")
	p.Env = []string{"PAYDESK_ENV=dev", "PAYDESK_DB=" + db, "PAYDESK_REDIS=", "PAYDESK_RATE_LIMIT=off"}
	out, err := p.Run(ctx, []string{"PAYDESK_OWNER_PASSWORD=" + loadOwnerPassword}, "merchant", "create", "--name", "Load Tea", "--owner-phone", c.OwnerPhone)
	if err != nil {
		s.stop()
		return nil, fmt.Errorf("create the merchant: %w", err)
	}
	var opened struct {
		Store struct{ ID int64 } `json:"store"`
	}
	if err := json.Unmarshal(out, &opened); err != nil || opened.Store.ID == 0 {
		s.stop()
		return nil, fmt.Errorf("create the merchant: unexpected output %q", out)
	}
	s.storeID = opened.Store.ID
	c.OwnerPassword = loadOwnerPassword

	// The tool holds Conns sockets with Cashiers tokens, one login each:
	// many more per token than an app needs, so the server's limits are
	// raised to fit (a server under --addr must be started so too).
	perToken := strconv.Itoa((c.Conns + c.Cashiers - 1) / max(1, c.Cashiers))
	if s.Server, err = p.Serve(ctx, filepath.Join(dir, "server.log"), false, "--log-format", "json",
		"--ws-per-token", perToken, "--ws-per-login", perToken); err != nil {
		s.stop()
		return nil, err
	}
	c.Log("server pid %d on %s, database %s", s.PID(), s.Addr, db)
	return s, nil
}

// stop ends the server gracefully and removes its directory.
func (s *server) stop() {
	if s.Server != nil {
		s.Server.Stop()
	}
	if !s.keep {
		os.RemoveAll(s.dir)
	}
}

// raiseFileLimit lifts this process's descriptor limit to its hard limit
// (Go does so at start-up too since 1.19; this says so explicitly) and
// checks that need descriptors fit.
func raiseFileLimit(need int) error {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return err
	}
	if l.Cur < l.Max {
		l.Cur = l.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
			return err
		}
	}
	if uint64(need) > l.Cur {
		return fmt.Errorf("%d connections need %d file descriptors, the limit is %d: raise it (ulimit -n)", need-100, need, l.Cur)
	}
	return nil
}
