package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
)

// command is one sub-command of the paydesk binary. New commands (demo,
// merchant, settle, reconcile, ...) are a func and a line in commands().
type command struct {
	name    string
	summary string
	// run parses its own args (with c.parse, which knows the common
	// settings) and does the work. An error it returns ends the process
	// with status 1, or 2 for a usageError.
	run func(ctx context.Context, c *cli, args []string) error
}

// defaultCommand runs when no command is named.
const defaultCommand = "serve"

func commands() []command {
	return []command{
		{"serve", "migrate the database, then serve the API until SIGINT or SIGTERM (the default)", serveCmd},
		{"migrate", "migrate the database to the newest schema and print its version", migrateCmd},
		{"demo", "create the demo merchant, staff and customers once, and print their logins as JSON", demoCmd},
		{"merchant", "operator: `merchant create` opens a merchant with its first store and owner; `merchant list`; `merchant set --id N [--fee-rate PPM] [--settlement-days N]`", merchantCmd},
		{"store", "operator: `store add --merchant ID --name NAME [--address TEXT]` opens another store", storeCmd},
		{"voucher", "operator: `voucher issue --phone P --amount 10.00 --reference REF [--merchant ID] [--valid-for 720h]` gives a wallet a voucher", voucherCmd},
		{"coupon", "operator: `coupon issue --phone P --amount 10.00 --reference REF [--valid-for 720h]` gives a wallet a platform coupon", couponCmd},
		{"settle", "operator: `settle --date YYYY-MM-DD [--merchant ID]` cuts a business day into settlement batches", settleCmd},
		{"payout", "operator: `payout record --batch ID --status paid|failed` records an offline payout; `payout retry --batch ID`", payoutCmd},
		{"bank-account", "operator: `bank-account set --merchant ID --number N --holder NAME` binds a merchant's settlement account", bankAccountCmd},
		{"reconcile", "operator: `reconcile DATE` compares the ledger's payouts with the bank's daily file; exit 1 on differences", reconcileCmd},
		{"seed-wallets", "load tests: create funded wallets in bulk and print their payment-code secrets", seedWalletsCmd},
		{"books", "print whether the ledger balances, a merchant's balances and wallets' cash (for load tests)", booksCmd},
		{"healthcheck", "exit 0 if the server on --addr is ready (GET /readyz), 1 if not: for a container's health check", healthcheckCmd},
		{"watch", "`watch --token T [--last-seq N [--replay]]` prints the app's websocket events as JSON lines", watchCmd},
		{"version", "print the version", versionCmd},
		{"help", "print this help", helpCmd},
	}
}

func lookupCommand(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// cli is the state of one invocation: the configuration being assembled from
// defaults, environment and flags, and where output goes.
type cli struct {
	cfg    Config
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
	// given holds the settings given as flags; the environment must not
	// override them.
	given map[string]bool
}

// usageError is a mistake on the command line: exit status 2. The mistake
// and the usage have already been printed.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }

// flagSet returns a flag set holding the common settings, for a command to
// add its own flags to before calling parse.
func (c *cli) flagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	for _, s := range settings {
		fs.Var(&settingFlag{p: s.field(&c.cfg), def: s.def}, s.flag, s.usage+" (env "+s.env+")")
	}
	fs.Usage = func() { c.usage(name, fs) }
	return fs
}

// parse parses args into fs, then fills every setting not given as a flag
// from its environment variable, if set. It returns the arguments left.
func (c *cli) parse(fs *flag.FlagSet, args []string) ([]string, error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, usageError{err}
	}
	fs.Visit(func(f *flag.Flag) { c.given[f.Name] = true })
	for _, s := range settings {
		if c.given[s.flag] {
			continue
		}
		v, err := c.fromEnv(s.env)
		if err != nil {
			fmt.Fprintf(c.stderr, "paydesk: %v\n", err)
			return nil, usageError{err}
		}
		if v != "" {
			*s.field(&c.cfg) = v
		}
	}
	return fs.Args(), nil
}

// fromEnv reads the variable env, or the file named by env+"_FILE" (the
// way Docker and Kubernetes hand secrets over: PAYDESK_SECRET_FILE=
// /run/secrets/paydesk_secret), without its trailing newline. Both set is
// a mistake: which one is meant?
func (c *cli) fromEnv(env string) (string, error) {
	v, file := c.getenv(env), c.getenv(env+"_FILE")
	switch {
	case file == "":
		return v, nil
	case v != "":
		return "", fmt.Errorf("both %s and %s_FILE are set; set one", env, env)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("%s_FILE: %w", env, err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// noArgs parses args for a command that takes flags only.
func (c *cli) noArgs(name string, args []string) error {
	fs := c.flagSet(name)
	rest, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		err := fmt.Errorf("unexpected arguments: %s", strings.Join(rest, " "))
		fmt.Fprintln(c.stderr, err)
		fs.Usage()
		return usageError{err}
	}
	return nil
}

func (c *cli) usage(name string, fs *flag.FlagSet) {
	w := c.stderr
	if name == "paydesk" {
		fmt.Fprintf(w, "Usage: paydesk [flags] [command] [flags]\n\nCommands:\n")
		for _, cmd := range commands() {
			fmt.Fprintf(w, "  %-10s %s\n", cmd.name, cmd.summary)
		}
	} else {
		fmt.Fprintf(w, "Usage: paydesk %s [flags]\n", name)
	}
	fmt.Fprintf(w, "\nFlags (a flag wins over its environment variable):\n")
	fs.PrintDefaults()
}

// settingFlag is a flag.Value that writes a setting. Help shows the
// built-in default only, never a value taken from the environment or the
// command line, so -h cannot print a secret or a database password.
type settingFlag struct {
	p   *string
	def string
}

func (f *settingFlag) String() string {
	if f == nil {
		return ""
	}
	return f.def
}

func (f *settingFlag) Set(v string) error {
	*f.p = v
	return nil
}

func serveCmd(ctx context.Context, c *cli, args []string) error {
	if err := c.noArgs("serve", args); err != nil {
		return err
	}
	m := NewMain(c.cfg, c.stderr)
	if err := m.Run(ctx); err != nil {
		return errors.Join(err, m.Close())
	}
	err := m.Wait(ctx)
	return errors.Join(err, m.Close())
}

func migrateCmd(ctx context.Context, c *cli, args []string) error {
	if err := c.noArgs("migrate", args); err != nil {
		return err
	}
	m := NewMain(c.cfg, c.stderr)
	defer m.Close()
	if err := m.Open(ctx); err != nil {
		return err
	}
	v, err := m.DB.MigrationVersion(ctx)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	fmt.Fprintf(c.stdout, "schema version %d\n", v)
	return m.Close()
}

func versionCmd(ctx context.Context, c *cli, args []string) error {
	if err := c.noArgs("version", args); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "paydesk %s %s %s/%s\n", buildVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}

func helpCmd(ctx context.Context, c *cli, args []string) error {
	c.usage("paydesk", c.flagSet("paydesk"))
	return nil
}
