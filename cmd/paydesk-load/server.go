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

// server is the paydesk under load (one instance or several on one
// database) and the operator commands around it.
type server struct {
	paydesk  spawn.Paydesk
	db       string
	urls     []string        // one per instance
	debugURL string          // pprof of our first own server, with --cpuprofile
	own      []*spawn.Server // empty with --url
	pids     []int
	peakRSS  atomic.Int64 // bytes, the instances' resident sets added up
}

// start prepares the binary and, without --url, a server of our own.
func start(ctx context.Context, c config, dir string) (*server, error) {
	s := &server{paydesk: spawn.Paydesk{Bin: c.bin, Env: []string{"PAYDESK_ENV=dev", "PAYDESK_LOG_FORMAT=json", "PAYDESK_RATE_LIMIT=off", "PAYDESK_METRICS_TOKEN=" + metricsToken()}},
		db: c.db, urls: c.urls}
	if c.serverPID != 0 {
		s.pids = []int{c.serverPID}
	}
	if s.paydesk.Bin == "" {
		bin, err := spawn.Build(ctx, dir)
		if err != nil {
			return nil, err
		}
		s.paydesk.Bin = bin
	}
	if s.db == "" {
		if len(s.urls) > 0 {
			return nil, errors.New("--url needs --db: the database that server uses, for seeding and checking the books")
		}
		s.db = filepath.Join(dir, "paydesk.db")
	}
	if len(s.urls) > 0 {
		return s, nil
	}
	if _, err := s.operator(ctx, "migrate"); err != nil {
		return nil, err
	}
	for i := range c.instances {
		log := filepath.Join(dir, "server.log")
		if i > 0 {
			log = filepath.Join(dir, fmt.Sprintf("server%d.log", i+1))
		}
		own, err := s.paydesk.Serve(ctx, log, c.profile != "" && i == 0, "--db", s.db)
		if err != nil {
			s.stop()
			return nil, err
		}
		s.own, s.pids, s.urls = append(s.own, own), append(s.pids, own.PID()), append(s.urls, "http://"+own.Addr)
		if own.Debug != "" {
			s.debugURL = "http://" + own.Debug
		}
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
	if len(s.pids) == 0 {
		return
	}
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		var sum int64
		for _, pid := range s.pids {
			if m, err := spawn.ReadMemory(pid); err == nil {
				sum += m.RSS
			}
		}
		if sum > s.peakRSS.Load() {
			s.peakRSS.Store(sum)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// cpu is the servers' processor time so far, added up; 0 when it cannot
// be read.
func (s *server) cpu() time.Duration {
	var sum time.Duration
	for _, pid := range s.pids {
		d, _ := spawn.CPU(pid)
		sum += d
	}
	return sum
}

func (s *server) stop() {
	for _, own := range s.own {
		own.Stop()
	}
}

// ledgerStats reads the ledger posters' totals from the servers' /metrics,
// added up over the instances: batches, the transfers they carried, and the
// seconds they took (busy can pass the elapsed time with several posters).
func (s *server) ledgerStats(ctx context.Context) (batches, transfers, busy float64) {
	for _, u := range s.urls {
		b, t, y := ledgerStatsAt(ctx, u)
		batches, transfers, busy = batches+b, transfers+t, busy+y
	}
	return
}

func ledgerStatsAt(ctx context.Context, url string) (batches, transfers, busy float64) {
	req, err := http.NewRequestWithContext(ctx, "GET", url+"/metrics", nil)
	if err != nil {
		return
	}
	req.Header.Set("Authorization", "Bearer "+metricsToken())
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

// metricsToken is the bearer token that serves /metrics on the public port:
// PAYDESK_METRICS_TOKEN as set for a server given with --url, else one the
// tool gives its own servers.
func metricsToken() string {
	if t := os.Getenv("PAYDESK_METRICS_TOKEN"); t != "" {
		return t
	}
	return "paydesk-load-metrics-only"
}
