package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/paydesk/paydesk/cmd/internal/spawn"
)

// server is the paydesk under load and the operator commands around it.
type server struct {
	paydesk  spawn.Paydesk
	db, url  string
	debugURL string        // pprof of our own server, with --cpuprofile
	own      *spawn.Server // nil with --url
	pid      int
	peakRSS  atomic.Int64 // bytes
}

// start prepares the binary and, without --url, a server of our own.
func start(ctx context.Context, c config, dir string) (*server, error) {
	s := &server{paydesk: spawn.Paydesk{Bin: c.bin, Env: []string{"PAYDESK_ENV=dev", "PAYDESK_LOG_FORMAT=json", "PAYDESK_RATE_LIMIT=off"}},
		db: c.db, url: strings.TrimRight(c.url, "/"), pid: c.serverPID}
	if s.paydesk.Bin == "" {
		bin, err := spawn.Build(ctx, dir)
		if err != nil {
			return nil, err
		}
		s.paydesk.Bin = bin
	}
	if s.db == "" {
		if s.url != "" {
			return nil, errors.New("--url needs --db: the database that server uses, for seeding and checking the books")
		}
		s.db = filepath.Join(dir, "paydesk.db")
	}
	if s.url != "" {
		return s, nil
	}
	if _, err := s.operator(ctx, "migrate"); err != nil {
		return nil, err
	}
	own, err := s.paydesk.Serve(ctx, filepath.Join(dir, "server.log"), c.profile != "", "--db", s.db)
	if err != nil {
		return nil, err
	}
	s.own, s.pid, s.url = own, own.PID(), "http://"+own.Addr
	if own.Debug != "" {
		s.debugURL = "http://" + own.Debug
	}
	return s, nil
}

// operator runs a paydesk sub-command on the database and returns its stdout.
func (s *server) operator(ctx context.Context, args ...string) ([]byte, error) {
	return s.paydesk.Run(ctx, []string{"PAYDESK_OWNER_PASSWORD=load-owner-pass"}, append(args, "--db", s.db)...)
}

func (s *server) operatorJSON(ctx context.Context, v any, args ...string) error {
	out, err := s.operator(ctx, args...)
	if err != nil {
		return err
	}
	return json.Unmarshal(out, v)
}

// profileCPU saves a CPU profile of the server over d to file.
func (s *server) profileCPU(ctx context.Context, d time.Duration, file string) error {
	if s.debugURL == "" {
		return errors.New("--cpuprofile needs the tool's own server (no --url)")
	}
	req, err := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", s.debugURL, int(d.Seconds())), nil)
	if err != nil {
		return err
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer r.Body.Close()
	if r.StatusCode != 200 {
		return fmt.Errorf("profile: %s", r.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// sampleRSS records the server's peak resident memory until ctx ends.
func (s *server) sampleRSS(ctx context.Context) {
	if s.pid == 0 {
		return
	}
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		if m, err := spawn.ReadMemory(s.pid); err == nil && m.RSS > s.peakRSS.Load() {
			s.peakRSS.Store(m.RSS)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// cpu is the server's processor time so far, 0 when it cannot be read.
func (s *server) cpu() time.Duration {
	if s.pid == 0 {
		return 0
	}
	d, _ := spawn.CPU(s.pid)
	return d
}

func (s *server) stop() {
	if s.own != nil {
		s.own.Stop()
	}
}

// ledgerStats reads the ledger poster's totals from the server's /metrics:
// batches, the transfers they carried, and the seconds they took.
func (s *server) ledgerStats(ctx context.Context) (batches, transfers, busy float64) {
	req, err := http.NewRequestWithContext(ctx, "GET", s.url+"/metrics", nil)
	if err != nil {
		return
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		return
	}
	defer r.Body.Close()
	sc := bufio.NewScanner(r.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		v, _ := strconv.ParseFloat(value, 64)
		switch name {
		case "paydesk_ledger_batches_total":
			batches = v
		case "paydesk_ledger_batched_transfers_total":
			transfers = v
		case "paydesk_ledger_busy_seconds_total":
			busy = v
		}
	}
	return
}
