package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// server is the paydesk under load and the operator commands around it.
type server struct {
	bin, db, url string
	debugURL     string // pprof of our own server, with --cpuprofile
	env          []string
	cmd          *exec.Cmd
	pid          int
	peakRSS      atomic.Int64 // KiB
}

// start prepares the binary and, without --url, a server of our own.
func start(ctx context.Context, c config, dir string) (*server, error) {
	s := &server{bin: c.bin, db: c.db, url: strings.TrimRight(c.url, "/"), pid: c.serverPID,
		env: append(os.Environ(), "PAYDESK_ENV=dev", "PAYDESK_LOG_FORMAT=json")}
	if s.bin == "" {
		s.bin = filepath.Join(dir, "paydesk")
		build := exec.CommandContext(ctx, "go", "build", "-o", s.bin, "./cmd/paydesk")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return nil, fmt.Errorf("build paydesk (run from the repository, or pass --paydesk): %w", err)
		}
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	if _, err := s.operator(ctx, "migrate"); err != nil {
		return nil, err
	}
	log, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	args := []string{"serve", "--db", s.db, "--addr", addr}
	if c.profile != "" {
		dl, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		s.debugURL = "http://" + dl.Addr().String()
		args = append(args, "--debug-addr", dl.Addr().String())
		dl.Close()
	}
	s.cmd = exec.Command(s.bin, args...)
	s.cmd.Env, s.cmd.Stdout, s.cmd.Stderr = s.env, log, log
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	s.pid, s.url = s.cmd.Process.Pid, "http://"+addr
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if r, err := http.Get(s.url + "/readyz"); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("the server did not get ready; see %s", log.Name())
		}
	}
	return s, nil
}

// operator runs a paydesk sub-command on the database and returns its stdout.
func (s *server) operator(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, s.bin, append(args, "--db", s.db)...)
	cmd.Env = append(s.env, "PAYDESK_OWNER_PASSWORD=load-owner-pass")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("paydesk %s: %w\n%s", args[0], err, stderr.String())
	}
	return out, nil
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
		if kib := rssKiB(s.pid); kib > s.peakRSS.Load() {
			s.peakRSS.Store(kib)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func rssKiB(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

func (s *server) stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
	}
}
