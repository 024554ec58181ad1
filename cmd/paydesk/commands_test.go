package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func runCLI(t *testing.T, env map[string]string, args ...string) (status int, stdout, stderr string) {
	t.Helper()
	var out, errOut syncBuffer
	status = run(context.Background(), args, mapEnv(env), &out, &errOut)
	return status, out.String(), errOut.String()
}

func TestMigrateCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "paydesk.db")
	status, out, errOut := runCLI(t, nil, "migrate", "--db", db)
	if status != 0 || !regexp.MustCompile(`^schema version [1-9][0-9]*\n$`).MatchString(out) {
		t.Fatalf("migrate = %d, stdout %q, stderr %q", status, out, errOut)
	}
	// Again, through the environment: a no-op at the same version.
	status, again, errOut := runCLI(t, map[string]string{"PAYDESK_DB": db}, "migrate")
	if status != 0 || again != out {
		t.Fatalf("second migrate = %d, stdout %q (first %q), stderr %q", status, again, out, errOut)
	}
}

func TestVersionCommand(t *testing.T) {
	status, out, _ := runCLI(t, nil, "version")
	if status != 0 || !strings.HasPrefix(out, "paydesk ") {
		t.Fatalf("version = %d %q", status, out)
	}
}

func TestUsageMistakes(t *testing.T) {
	for _, args := range [][]string{
		{"frobnicate"},
		{"--no-such-flag"},
		{"migrate", "extra"},
		{"serve", "--addr"},
	} {
		if status, _, errOut := runCLI(t, nil, args...); status != 2 || !strings.Contains(errOut, "Usage: paydesk") {
			t.Errorf("paydesk %s = %d, stderr %q; want 2 and the usage", strings.Join(args, " "), status, errOut)
		}
	}
}

// Help shows the built-in defaults, never values from the environment.
func TestHelpHidesSecrets(t *testing.T) {
	env := map[string]string{"PAYDESK_SECRET": "hunter2-hunter2-hunter2-hunter2-hunter2", "PAYDESK_DB": "mysql://app:pw-hunter2@tcp(db:3306)/x"}
	for _, args := range [][]string{{"-h"}, {"help"}, {"serve", "--help"}} {
		status, _, errOut := runCLI(t, env, args...)
		if status != 0 || !strings.Contains(errOut, "PAYDESK_SECRET") || strings.Contains(errOut, "hunter2") {
			t.Errorf("paydesk %s = %d, stderr:\n%s", strings.Join(args, " "), status, errOut)
		}
	}
}
