package main

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestSmoke runs the tool briefly against a server it starts: 100 sockets,
// 20 payments, each delivered to every socket of its cashier exactly once.
// It builds the server first and is skipped with -short or where it cannot.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts a server")
	}
	bin := filepath.Join(t.TempDir(), "paydesk")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/paydesk/paydesk/cmd/paydesk").CombinedOutput(); err != nil {
		t.Skipf("cannot build the server: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := Run(ctx, Config{Conns: 100, Rate: 20, Duration: time.Second, Cashiers: 5, Payers: 3, Server: bin, Log: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	r.Print(&out)
	t.Log("\n" + out.String())
	if !r.OK() || r.Received != 20*100/5 || r.Idle.RSS == 0 {
		t.Fatal("the smoke run failed")
	}
}
