// Command paydesk-ws-load measures real-time push under load: it holds many
// websocket connections to one paydesk server (10,000 by default), makes
// payments at a steady rate (200/s by default), and reports how long each
// payment took to reach every socket it should reach, the server's memory,
// and whether every event arrived exactly once.
//
// With no --addr it needs no setup: it builds the server, creates a merchant
// on a fresh SQLite database in a temporary directory, starts the server as
// a child process, and stops it at the end:
//
//	go run ./cmd/paydesk-ws-load --conns 10000 --rate 200 --duration 30s
//
// Each payment is a collection QR opened by a cashier beforehand and paid
// by a customer's wallet with POST /v1/wallet/pay; its latency is from just
// before that request is sent to the arrival of payment.paid on a socket.
// The sockets are spread evenly over the cashiers, so each payment reaches
// conns/cashiers sockets.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Config is one load run.
type Config struct {
	Conns    int           // websocket connections to hold
	Rate     float64       // payments per second
	Duration time.Duration // how long payments are made
	Cashiers int           // cashiers the sockets and payments are spread over
	Payers   int           // customer wallets that pay
	Dialers  int           // connections opened at once

	// Addr is a running server to use (host:port): the load's cashiers are
	// added to the merchant of the owner OwnerPhone/OwnerPassword, in the
	// store of its first staff member. Empty starts a server.
	Addr          string
	OwnerPhone    string
	OwnerPassword string
	// ServerPID is the running server's process, whose memory is read from
	// /proc; set by the tool for the server it starts.
	ServerPID int
	// Server is the paydesk binary to start; empty builds it with go build.
	Server string
	// KeepDir keeps the temporary directory (database, server log).
	KeepDir bool
	Log     func(format string, args ...any)
}

func main() {
	var c Config
	flag.IntVar(&c.Conns, "conns", 10000, "websocket `connections` to hold")
	flag.Float64Var(&c.Rate, "rate", 200, "payments per `second`")
	flag.DurationVar(&c.Duration, "duration", 30*time.Second, "how long to make payments")
	flag.IntVar(&c.Cashiers, "cashiers", 200, "cashiers to spread the sockets and payments over")
	flag.IntVar(&c.Payers, "payers", 50, "customer wallets that pay")
	flag.IntVar(&c.Dialers, "dialers", 100, "connections opened concurrently")
	flag.StringVar(&c.Addr, "addr", "", "`host:port` of a running server, started with --ws-per-token and --ws-per-login of at least conns/cashiers (default: start one on a temporary SQLite database)")
	flag.StringVar(&c.OwnerPhone, "owner-phone", "", "with --addr: an owner's `phone` (the merchant gets the load's cashiers)")
	flag.StringVar(&c.OwnerPassword, "owner-password", os.Getenv("PAYDESK_LOAD_OWNER_PASSWORD"), "with --addr: that owner's password (or PAYDESK_LOAD_OWNER_PASSWORD)")
	flag.IntVar(&c.ServerPID, "server-pid", 0, "with --addr: the server's `pid`, to report its memory")
	flag.StringVar(&c.Server, "server", "", "paydesk `binary` to start (default: go build ./cmd/paydesk)")
	flag.BoolVar(&c.KeepDir, "keep", false, "keep the temporary directory (database and server log)")
	flag.Parse()
	c.Log = func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r, err := Run(ctx, c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "paydesk-ws-load:", err)
		os.Exit(1)
	}
	r.Print(os.Stdout)
	if !r.OK() {
		os.Exit(1)
	}
}
