package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/storage/storagetest"
)

// readmeStep is one step of the README's quick start: shell lines, and the
// output the README says they print (the "# → " lines after them).
type readmeStep struct {
	commands []string
	want     []string
}

// quickStart returns the steps of the first ```sh block under the README's
// "## Try it" heading.
func quickStart(t *testing.T) []readmeStep {
	t.Helper()
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(raw), "\n## Try it")
	if !ok {
		t.Fatal(`README.md has no "## Try it" section`)
	}
	_, block, ok := strings.Cut(section, "```sh\n")
	block, _, closed := strings.Cut(block, "\n```")
	if !ok || !closed {
		t.Fatal("the Try it section has no ```sh block")
	}
	var steps []readmeStep
	cur := readmeStep{}
	for _, line := range strings.Split(block, "\n") {
		switch {
		case strings.HasPrefix(line, "# → "):
			cur.want = append(cur.want, strings.TrimPrefix(line, "# → "))
		case strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#"):
			if len(cur.want) > 0 {
				steps, cur = append(steps, cur), readmeStep{}
			}
		default:
			if len(cur.want) > 0 {
				steps, cur = append(steps, cur), readmeStep{}
			}
			cur.commands = append(cur.commands, line)
		}
	}
	if len(cur.commands) > 0 {
		steps = append(steps, cur)
	}
	return steps
}

// TestReadmeQuickStart runs the README's "Try it" block, as it is, in bash
// against a fresh server, and checks that every command prints what the
// README says it prints. Two things are swapped in: `go run ./cmd/paydesk`
// is this test binary acting as paydesk (no second compile), and the API
// address is the test server's. The server settles every 100 ms instead of
// every 30 s, so the wait for the payout is short.
func TestReadmeQuickStart(t *testing.T) {
	for _, bin := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("the README's quick start needs %s: %v", bin, err)
		}
	}
	steps := quickStart(t)
	if len(steps) < 8 {
		t.Fatalf("the quick start has %d checked steps; want at least demo, log in, payment code, scan, socket, refund, settle, withdraw", len(steps))
	}
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			dsn := storagetest.DSN(t, d)
			cfg := testConfig(dsn)
			cfg.Settle.Every, cfg.Settle.BankDelay = "100ms", "0s"
			cfg.Settle.BankDir = t.TempDir()
			m := NewMain(cfg, &syncBuffer{})
			base := startMain(t, m)

			var script strings.Builder
			script.WriteString("set -eo pipefail\n")
			for _, s := range steps {
				for _, c := range s.commands {
					c = strings.ReplaceAll(c, "go run ./cmd/paydesk", `"$PAYDESK"`)
					c = strings.ReplaceAll(c, "API=http://localhost:8080", "API="+base)
					script.WriteString(c + "\n")
				}
				script.WriteString("echo @@@\n")
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "bash", "-c", script.String())
			cmd.Dir = t.TempDir()
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + cmd.Dir, "PAYDESK=" + os.Args[0], "PAYDESK_TEST_RUN_MAIN=1",
				"PAYDESK_DB=" + dsn, "PAYDESK_BANK_DIR=" + cfg.Settle.BankDir, "PAYDESK_LOG_FORMAT=json"}
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			runErr := cmd.Run()
			outs := strings.Split(stdout.String(), "@@@\n")
			for i, s := range steps {
				if i >= len(outs)-1 {
					t.Fatalf("the quick start stopped at step %d:\n%s\nerror: %v\nstderr:\n%s", i+1, strings.Join(s.commands, "\n"), runErr, stderr.String())
				}
				got, want := strings.TrimSpace(outs[i]), strings.Join(s.want, "\n")
				if got != want {
					t.Errorf("step %d:\n%s\nprints:\n%s\nthe README says:\n%s", i+1, strings.Join(s.commands, "\n"), got, want)
				}
			}
			if runErr != nil {
				t.Fatalf("the quick start failed: %v\n%s", runErr, stderr.String())
			}
			if t.Failed() {
				fmt.Fprintln(os.Stderr, stderr.String())
			}
		})
	}
}
