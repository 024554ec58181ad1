// Package spawn builds paydesk and runs it as a child process, for the load
// tools under cmd/: a server on a free local port, the operator commands
// beside it, and the server's memory and CPU as the kernel counts them.
package spawn

import (
	"bufio"
	"bytes"
	"context"
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

// Build compiles cmd/paydesk into dir and returns the binary's path. It
// needs the working directory to be inside the paydesk module.
func Build(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "paydesk")
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/paydesk/paydesk/cmd/paydesk").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("build paydesk (run from inside the paydesk module, or pass the binary): %v\n%s", err, out)
	}
	return bin, nil
}

// Paydesk is a paydesk binary and the environment its commands run in.
type Paydesk struct {
	Bin string
	Env []string // added to this process's environment
}

// Run runs an operator command and returns its standard output; its
// standard error is part of the error when it fails.
func (p Paydesk) Run(ctx context.Context, extraEnv []string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, p.Bin, args...)
	cmd.Env = append(append(os.Environ(), p.Env...), extraEnv...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("paydesk %s: %w\n%s", args[0], err, stderr.String())
	}
	return out, nil
}

// Server is a paydesk serving on a local port.
type Server struct {
	Addr    string // host:port of the API
	Debug   string // host:port of pprof, when asked for
	Log     string // the server's log file
	cmd     *exec.Cmd
	stopped chan struct{}
}

// Serve starts `paydesk serve` with args on a free port (and a free pprof
// port if debug), logging into logFile, and waits until /readyz answers.
func (p Paydesk) Serve(ctx context.Context, logFile string, debug bool, args ...string) (*Server, error) {
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: addr, Log: logFile, stopped: make(chan struct{})}
	args = append([]string{"serve", "--addr", addr}, args...)
	if debug {
		if s.Debug, err = freePort(); err != nil {
			return nil, err
		}
		args = append(args, "--debug-addr", s.Debug)
	}
	log, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	defer log.Close() // the child has its own descriptor
	s.cmd = exec.Command(p.Bin, args...)
	s.cmd.Env, s.cmd.Stdout, s.cmd.Stderr = append(os.Environ(), p.Env...), log, log
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start paydesk: %w", err)
	}
	go func() { s.cmd.Wait(); close(s.stopped) }()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if r, err := http.Get("http://" + addr + "/readyz"); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		select {
		case <-s.stopped:
			return nil, fmt.Errorf("paydesk exited before it was ready; see %s", logFile)
		default:
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			s.Stop()
			return nil, fmt.Errorf("paydesk at %s did not get ready; see %s", addr, logFile)
		}
	}
}

// PID is the server's process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Stop ends the server gracefully, killing it if it takes over 30 s.
func (s *Server) Stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.stopped:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.stopped
	}
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// Memory is a process's resident set in bytes, from /proc/PID/status:
// now (VmRSS) and the highest so far (VmHWM).
type Memory struct {
	RSS, Peak int64
}

// ReadMemory reads the memory of process pid.
func ReadMemory(pid int) (Memory, error) {
	if pid <= 0 {
		return Memory{}, errors.New("no server pid")
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Memory{}, err
	}
	var m Memory
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

// CPU is the processor time process pid has used so far (user + system),
// from /proc/PID/stat.
func CPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("unreadable /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("unreadable /proc stat")
	}
	// utime and stime are fields 14 and 15: 12 and 13 after the name.
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// clockTicks is USER_HZ, which Linux fixes at 100 on every architecture
// user space sees.
const clockTicks = 100
