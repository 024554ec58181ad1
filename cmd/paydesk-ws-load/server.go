package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// server is a paydesk server the tool started as a child process on a
// fresh SQLite database, with one merchant.
type server struct {
	dir     string
	addr    string
	cmd     *exec.Cmd
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
	bin := c.Server
	if bin == "" {
		bin = filepath.Join(dir, "paydesk")
		c.Log("building the server: go build -o %s github.com/paydesk/paydesk/cmd/paydesk", bin)
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/paydesk/paydesk/cmd/paydesk")
		if out, err := build.CombinedOutput(); err != nil {
			s.stop()
			return nil, fmt.Errorf("build the server (run from inside the paydesk module, or pass --server): %v\n%s", err, out)
		}
	}
	db := filepath.Join(dir, "paydesk.db")
	env := append(os.Environ(), "PAYDESK_ENV=dev", "PAYDESK_DB="+db, "PAYDESK_REDIS=")
	create := exec.CommandContext(ctx, bin, "merchant", "create", "--name", "Load Tea", "--owner-phone", c.OwnerPhone)
	create.Env = append(env, "PAYDESK_OWNER_PASSWORD="+loadOwnerPassword)
	out, err := create.Output()
	if err != nil {
		s.stop()
		return nil, fmt.Errorf("create the merchant: %v", err)
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

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.stop()
		return nil, err
	}
	s.addr = ln.Addr().String()
	ln.Close()
	logFile, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		s.stop()
		return nil, err
	}
	s.cmd = exec.Command(bin, "serve", "--addr", s.addr, "--log-format", "json")
	s.cmd.Env, s.cmd.Stdout, s.cmd.Stderr = env, logFile, logFile
	if err := s.cmd.Start(); err != nil {
		logFile.Close()
		s.stop()
		return nil, fmt.Errorf("start the server: %w", err)
	}
	logFile.Close() // the child has its own descriptor
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		res, err := http.Get("http://" + s.addr + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			s.stop()
			return nil, fmt.Errorf("the server at %s did not become ready; see %s", s.addr, filepath.Join(dir, "server.log"))
		}
	}
	c.Log("server pid %d on %s, database %s", s.cmd.Process.Pid, s.addr, db)
	return s, nil
}

// stop ends the server gracefully and removes its directory.
func (s *server) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			s.cmd.Process.Kill()
			<-done
		}
	}
	if !s.keep {
		os.RemoveAll(s.dir)
	}
}

// memory is a process's resident set, from /proc/PID/status.
type memory struct {
	RSS, Peak int64 // bytes: VmRSS and VmHWM
}

func readMemory(pid int) (memory, error) {
	if pid <= 0 {
		return memory{}, errors.New("no server pid")
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, err
	}
	var m memory
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "VmRSS":
			m.RSS = n << 10
		case "VmHWM":
			m.Peak = n << 10
		}
	}
	return m, nil
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
