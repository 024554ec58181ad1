// Command paydesk-load drives payments at a paydesk server and then checks
// its books. By default it starts a server of its own on a fresh SQLite file
// (or the --db given), seeds a merchant, cashiers and funded wallets through
// the operator commands, and drives scan-code payments over keep-alive HTTP,
// deriving payment codes offline the way the wallet app does.
//
//	go run ./cmd/paydesk-load                                  # SQLite, full speed, 20 s
//	go run ./cmd/paydesk-load --db 'mysql://root@tcp(127.0.0.1:3306)/paydesk_load' --rate 2000 --duration 60s
//	go run ./cmd/paydesk-load --scenario qr                    # collection QR: cashier creates, wallet pays
//	go run ./cmd/paydesk-load --instances 2 --db 'mysql://root@tcp(127.0.0.1:3306)/paydesk_load'  # two servers, one database
//
// It prints payments/s, latency percentiles, errors by code and the server's
// peak RSS, and exits non-zero if any error occurred or the books do not
// balance: the merchant's pending balance must grow by exactly the paid
// amounts net of fees, every wallet's cash must shrink by exactly what it
// paid, and the ledger must sum to zero.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"
)

type config struct {
	scenario  string
	urls      []string // --url, comma-separated or repeated
	instances int
	bin       string
	db        string
	cashiers  int
	wallets   int
	amount    int64
	rate      int
	duration  time.Duration
	prefix    string
	keep      bool
	serverPID int
	profile   string
}

func main() {
	var c config
	flag.StringVar(&c.scenario, "scenario", "scan", "`scan` (cashiers scan payment codes) or qr (cashier shows a QR, the wallet pays)")
	flag.Func("url", "`URL` of a running paydesk; comma-separated or repeated for several instances on one database, cashier i using the i-th mod n (needs --db of those servers for seeding and checking); empty starts its own", func(v string) error {
		for u := range strings.SplitSeq(v, ",") {
			if u = strings.TrimSpace(u); u != "" {
				c.urls = append(c.urls, strings.TrimRight(u, "/"))
			}
		}
		return nil
	})
	flag.IntVar(&c.instances, "instances", 1, "`number` of servers of its own to start on the same --db (several instances share the merchant; cashier i uses instance i mod n)")
	flag.StringVar(&c.bin, "paydesk", "", "paydesk `binary` for the server and the operator commands (default: go build ./cmd/paydesk)")
	flag.StringVar(&c.db, "db", "", "database `DSN` (default: a new SQLite file in a temporary directory)")
	flag.IntVar(&c.cashiers, "cashiers", 64, "concurrent `cashiers`, each with its own login and connection")
	flag.IntVar(&c.wallets, "wallets", 0, "funded `wallets` (default: enough for the run, since a wallet pays once per code step)")
	flag.Int64Var(&c.amount, "amount", 1000, "amount of each payment in minor `units`")
	flag.IntVar(&c.rate, "rate", 0, "payments per `second` in total; 0 runs at full speed")
	flag.DurationVar(&c.duration, "duration", 20*time.Second, "how long to drive payments")
	flag.StringVar(&c.prefix, "prefix", "", "phone `prefix` of the seeded wallets (default: derived from the time, so runs do not collide)")
	flag.BoolVar(&c.keep, "keep", false, "keep the temporary directory (database and server log)")
	flag.StringVar(&c.profile, "cpuprofile", "", "write a CPU `file` of the server during the drive (own server only; read it with go tool pprof)")
	flag.IntVar(&c.serverPID, "server-pid", 0, "`pid` of the server to sample RSS of, with --url")
	flag.Parse()
	if c.instances < 1 || (c.instances > 1 && len(c.urls) > 0) {
		fmt.Fprintln(os.Stderr, "paydesk-load: --instances is at least 1, and starts servers of the tool's own: not with --url")
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ok, err := run(ctx, c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "paydesk-load:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}
