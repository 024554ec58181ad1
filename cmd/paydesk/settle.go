package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/internal/view"
	"github.com/paydesk/paydesk/settlement"
)

// SettleConfig holds the settings of settlement, withdrawals and the
// simulated bank, as given (strings); validate parses them. Empty means
// the default named in each setting's help.
type SettleConfig struct {
	BankSecret      string
	BankDir         string
	BankFailureRate string
	BankDelay       string
	Every           string
	Cutoff          string
	WithdrawMin     string
	WithdrawLimit   string
	WithdrawFee     string

	// Parsed by validate.
	bankFailureRate        float64
	bankDelay, every       time.Duration
	cutoff                 time.Duration
	min, limit, fee        paydesk.Amount
	devBankSecretInForce   bool
	bankDirOrDefault       string
	bankSecretOrDevDefault string
}

// DevBankSecret signs the simulated bank's callbacks in dev mode when no
// secret is given; production refuses it.
const DevBankSecret = "paydesk-INSECURE-dev-bank-callback-secret"

var settleSettings = []setting{
	{"bank-secret", "PAYDESK_BANK_SECRET", "", "`secret` the bank signs its payout callbacks with (HMAC-SHA256), at least 32 bytes (required in production)", func(c *Config) *string { return &c.Settle.BankSecret }},
	{"bank-dir", "PAYDESK_BANK_DIR", "", "`directory` where the simulated bank writes its daily payout files, which reconcile reads (default bank-files)", func(c *Config) *string { return &c.Settle.BankDir }},
	{"bank-failure-rate", "PAYDESK_BANK_FAILURE_RATE", "", "chance (0 to 1) that the simulated bank fails a payout (default 0)", func(c *Config) *string { return &c.Settle.BankFailureRate }},
	{"bank-delay", "PAYDESK_BANK_DELAY", "", "`duration` the simulated bank takes to settle a payout and call back (default 2s)", func(c *Config) *string { return &c.Settle.BankDelay }},
	{"settle-every", "PAYDESK_SETTLE_EVERY", "", "`interval` of the settlement scheduler: cut days, pay due batches, ask the bank (default 30s)", func(c *Config) *string { return &c.Settle.Every }},
	{"cutoff", "PAYDESK_CUTOFF", "", "business-day cut-off as an `offset` from local midnight, -12h to 12h; -1h closes the day at 23:00 (default 0)", func(c *Config) *string { return &c.Settle.Cutoff }},
	{"withdraw-min", "PAYDESK_WITHDRAW_MIN", "", "smallest withdrawal, in major units (default 1.00)", func(c *Config) *string { return &c.Settle.WithdrawMin }},
	{"withdraw-limit", "PAYDESK_WITHDRAW_LIMIT", "", "withdrawals per merchant per business day, in major units (default 50000.00)", func(c *Config) *string { return &c.Settle.WithdrawLimit }},
	{"withdraw-fee", "PAYDESK_WITHDRAW_FEE", "", "fee per withdrawal, in major units, on top of the amount (default 0)", func(c *Config) *string { return &c.Settle.WithdrawFee }},
}

// validate parses the settings; env is the deployment mode.
func (s *SettleConfig) validate(env string) error {
	var errs []error
	dur := func(name, v, def string, into *time.Duration, lo, hi time.Duration) {
		if v == "" {
			v = def
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < lo || d > hi {
			errs = append(errs, fmt.Errorf("%s %q must be a duration from %s to %s, e.g. %s", name, v, lo, hi, def))
		}
		*into = d
	}
	money := func(name, v, def string, into *paydesk.Amount, zeroOK bool) {
		if v == "" {
			v = def
		}
		if zeroOK && strings.Trim(v, "0.") == "" {
			*into = 0
			return
		}
		a, err := paydesk.ParseAmount(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %q must be an amount in major units, e.g. %s", name, v, def))
		}
		*into = a
	}
	dur("PAYDESK_BANK_DELAY (--bank-delay)", s.BankDelay, "2s", &s.bankDelay, 0, time.Hour)
	dur("PAYDESK_SETTLE_EVERY (--settle-every)", s.Every, "30s", &s.every, 100*time.Millisecond, time.Hour)
	dur("PAYDESK_CUTOFF (--cutoff)", s.Cutoff, "0s", &s.cutoff, -12*time.Hour, 12*time.Hour)
	money("PAYDESK_WITHDRAW_MIN (--withdraw-min)", s.WithdrawMin, "1.00", &s.min, false)
	money("PAYDESK_WITHDRAW_LIMIT (--withdraw-limit)", s.WithdrawLimit, "50000.00", &s.limit, false)
	money("PAYDESK_WITHDRAW_FEE (--withdraw-fee)", s.WithdrawFee, "0", &s.fee, true)
	s.bankFailureRate = 0
	if s.BankFailureRate != "" {
		r, err := strconv.ParseFloat(s.BankFailureRate, 64)
		if err != nil || r < 0 || r > 1 {
			errs = append(errs, fmt.Errorf("PAYDESK_BANK_FAILURE_RATE (--bank-failure-rate) %q must be a number from 0 to 1", s.BankFailureRate))
		}
		s.bankFailureRate = r
	}
	s.bankDirOrDefault = s.BankDir
	if s.bankDirOrDefault == "" {
		s.bankDirOrDefault = "bank-files"
	}
	s.bankSecretOrDevDefault, s.devBankSecretInForce = s.BankSecret, false
	switch {
	case env == EnvProduction && (s.BankSecret == "" || s.BankSecret == DevBankSecret || len(s.BankSecret) < minSecretLen):
		errs = append(errs, fmt.Errorf("production needs PAYDESK_BANK_SECRET (or --bank-secret): the bank's callback signing secret, at least %d bytes", minSecretLen))
	case s.BankSecret == "":
		s.bankSecretOrDevDefault, s.devBankSecretInForce = DevBankSecret, true
	}
	return errors.Join(errs...)
}

// bankConfig is the simulated bank's configuration: its payouts call back
// to this server's /v1/bank/callbacks (whatever port it ends up on), signed
// with the bank secret, and it writes its daily files to the bank dir, in
// the platform's time zone. Its clock is the app's.
func (m *Main) bankConfig() bank.SimulatorConfig {
	s := &m.Config.Settle
	if s.devBankSecretInForce {
		m.Logger.Warn("dev mode: bank callbacks are signed with the built-in development secret. Set PAYDESK_BANK_SECRET for any shared deployment.")
	}
	client := &http.Client{Timeout: 10 * time.Second}
	return bank.SimulatorConfig{CallbackSecret: []byte(s.bankSecretOrDevDefault), PayoutDelay: s.bankDelay,
		PayoutFailureRate: s.bankFailureRate, PayoutFileDir: s.bankDirOrDefault, FileLocation: m.Config.Location,
		Deliver: bank.PostCallbacks(client, m.callbackURL),
		// The bank's side lives in the database: bound cards and payouts
		// survive a restart, and every instance and operator command
		// (payout retry) acts on one bank, whose sweep settles what a
		// process that exited left SUBMITTED.
		Store: bank.NewGormSimStore(m.DB)}
}

// callbackURL is where the simulated bank reaches this server.
func (m *Main) callbackURL() string {
	host, port, err := net.SplitHostPort(m.Addr())
	if err != nil {
		return "http://127.0.0.1:0/v1/bank/callbacks" // not serving: deliveries fail and are retried
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/v1/bank/callbacks"
}

// settlementConfig is settlement's part of the configuration.
func (m *Main) settlementConfig() settlement.Config {
	s := &m.Config.Settle
	return settlement.Config{Cutoff: s.cutoff, WithdrawalMin: s.min, WithdrawalDailyLimit: s.limit, WithdrawalFee: s.fee,
		CallbackSecret: []byte(s.bankSecretOrDevDefault), AllowSettleNow: m.Config.Env != EnvProduction}
}

// settleCmd is the operator's `paydesk settle --date YYYY-MM-DD [--merchant ID]`:
// it cuts that business day (and any earlier one not cut yet) into batches,
// marks those due as AWAITING_PAYMENT and prints them. The server's
// scheduler, which holds the bank connection, pays them on its next tick.
// In dev mode, `--date today --now` cuts each merchant's today at once and
// makes it due at once, so a demo watches a settlement in a minute.
func settleCmd(ctx context.Context, c *cli, args []string) error {
	fs := c.flagSet("settle")
	date := fs.String("date", "", "business `day` to settle, YYYY-MM-DD, or today with --now (required)")
	merchantID := fs.Int64("merchant", 0, "merchant `id` (default: every merchant)")
	now := fs.Bool("now", false, "dev mode only: settle today at once, due at once (with --date today); what is collected later today settles with tomorrow")
	if err := c.noMore(fs, args); err != nil {
		return err
	}
	if *now {
		if *date != "today" {
			return c.usageErr(fs, "--now settles today: give --date today")
		}
		if c.cfg.Env == EnvProduction {
			return errors.New("settle --now refuses production mode: business days end at their cut-off")
		}
		return settleNow(ctx, c, *merchantID)
	}
	day, err := settlement.ParseDay(*date)
	if err != nil {
		return c.usageErr(fs, "--date YYYY-MM-DD is required: %v", err)
	}
	m, err := c.openMain(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	svc := m.App.Settlement
	ids := []int64{*merchantID}
	if *merchantID == 0 {
		if ids, err = svc.MerchantIDs(ctx); err != nil {
			return err
		}
	}
	type line struct {
		MerchantID int64  `json:"merchant_id"`
		Batch      any    `json:"batch"`
		Note       string `json:"note,omitempty"`
	}
	var out []line
	for _, id := range ids {
		if _, _, err := svc.CutDay(ctx, id, day); err != nil {
			return fmt.Errorf("merchant %d: %w", id, err)
		}
	}
	if _, err := svc.PromoteDue(ctx); err != nil {
		return err
	}
	for _, id := range ids {
		b, ok, err := svc.CutDay(ctx, id, day) // already cut: reads the batch
		if err != nil {
			return fmt.Errorf("merchant %d: %w", id, err)
		}
		if !ok {
			out = append(out, line{MerchantID: id, Note: "no entries on this day: nothing to settle"})
			continue
		}
		out = append(out, line{MerchantID: id, Batch: batchJSON(b)})
	}
	return printJSON(c, out)
}

// settleNow is `paydesk settle --date today --now`.
func settleNow(ctx context.Context, c *cli, merchantID int64) error {
	m, err := c.openMain(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	svc := m.App.Settlement
	ids := []int64{merchantID}
	if merchantID == 0 {
		if ids, err = svc.MerchantIDs(ctx); err != nil {
			return err
		}
	}
	type line struct {
		MerchantID int64  `json:"merchant_id"`
		Batch      any    `json:"batch"`
		Note       string `json:"note,omitempty"`
	}
	out := []line{}
	for _, id := range ids {
		if _, _, err := svc.SettleNow(ctx, id); err != nil {
			return fmt.Errorf("merchant %d: %w", id, err)
		}
	}
	if _, err := svc.PromoteDue(ctx); err != nil {
		return err
	}
	for _, id := range ids {
		b, ok, err := svc.SettleNow(ctx, id) // already cut: reads the batch
		if err != nil {
			return fmt.Errorf("merchant %d: %w", id, err)
		}
		if !ok {
			out = append(out, line{MerchantID: id, Note: "nothing collected today: nothing to settle"})
			continue
		}
		out = append(out, line{MerchantID: id, Batch: batchJSON(b),
			Note: "the server pays AWAITING_PAYMENT batches on its next settlement tick (--settle-every); later payments of today settle with tomorrow"})
	}
	return printJSON(c, out)
}

// batchJSON is a batch as the operator's commands print it: the API's
// shape (view.Batch) and whose it is.
func batchJSON(b settlement.Batch) any {
	return struct {
		MerchantID int64 `json:"merchant_id"`
		view.Batch
	}{b.MerchantID, view.BatchOf(b)}
}

// payoutCmd is the operator's `paydesk payout record|retry`.
func payoutCmd(ctx context.Context, c *cli, args []string) error {
	if len(args) == 0 || (args[0] != "record" && args[0] != "retry") {
		err := errors.New("usage: paydesk payout record --batch ID --status paid|failed [--reason TEXT] (a payout made outside the bank channel), or paydesk payout retry --batch ID (pay a FAILED batch again)")
		fmt.Fprintln(c.stderr, err)
		return usageError{err}
	}
	verb := args[0]
	fs := c.flagSet("payout " + verb)
	batchID := fs.Int64("batch", 0, "settlement batch `id` (required)")
	status := fs.String("status", "", "what happened: `paid` or failed (record only)")
	reason := fs.String("reason", "", "a note the merchant sees: the bank's reason for a failure, or the offline payment's voucher")
	if err := c.noMore(fs, args[1:]); err != nil {
		return err
	}
	if *batchID <= 0 {
		return c.usageErr(fs, "--batch ID is required")
	}
	var st bank.PayoutStatus
	if verb == "record" {
		switch *status {
		case "paid":
			st = bank.PayoutPaid
		case "failed":
			st = bank.PayoutFailed
		default:
			return c.usageErr(fs, "--status must be paid or failed")
		}
	}
	m, err := c.openMain(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	var b settlement.Batch
	if verb == "record" {
		b, err = m.App.Settlement.RecordOfflinePayout(ctx, *batchID, st, *reason)
	} else {
		b, err = m.App.Settlement.RetryBatch(ctx, *batchID)
	}
	if err != nil {
		return err
	}
	return printJSON(c, batchJSON(b))
}

// bankAccountCmd is the operator's `paydesk bank-account set`.
func bankAccountCmd(ctx context.Context, c *cli, args []string) error {
	if len(args) == 0 || args[0] != "set" {
		err := errors.New("usage: paydesk bank-account set --merchant ID --number ACCOUNT --holder NAME [--bank NAME]")
		fmt.Fprintln(c.stderr, err)
		return usageError{err}
	}
	fs := c.flagSet("bank-account set")
	merchantID := fs.Int64("merchant", 0, "merchant `id` (required)")
	number := fs.String("number", "", "bank account `number` (required)")
	holder := fs.String("holder", "", "account holder's `name` (required)")
	bankName := fs.String("bank", "", "bank `name`")
	if err := c.noMore(fs, args[1:]); err != nil {
		return err
	}
	if *merchantID <= 0 || *number == "" || *holder == "" {
		return c.usageErr(fs, "--merchant, --number and --holder are required")
	}
	m, err := c.openMain(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	a, err := m.App.Settlement.SetBankAccount(ctx, *merchantID, bank.BankAccount{Number: *number, Holder: *holder, BankName: *bankName})
	if err != nil {
		return err
	}
	return printJSON(c, struct {
		MerchantID int64 `json:"merchant_id"`
		view.BankAccount
	}{a.MerchantID, view.BankAccountOf(a)})
}

// errDifferences ends reconcile with status 1 when the books disagree.
var errDifferences = errors.New("the ledger and the bank's file differ")

// reconcileCmd is the operator's `paydesk reconcile DATE`: it compares the
// payouts the ledger paid that day with the bank's daily file, prints the
// report as JSON, and exits 1 if they differ.
func reconcileCmd(ctx context.Context, c *cli, args []string) error {
	flags := c.flagSet("reconcile")
	file := flags.String("file", "", "the bank's daily payout `file` (default: payouts-DATE.csv in --bank-dir)")
	// DATE may come before the flags or after them.
	var date []string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		date, args = args[:1], args[1:]
	}
	rest, err := c.parse(flags, args)
	if err != nil {
		return err
	}
	if date = append(date, rest...); len(date) != 1 {
		return c.usageErr(flags, "usage: paydesk reconcile DATE [--file FILE]: DATE is YYYY-MM-DD, the bank's day in PAYDESK_TZ")
	}
	day, err := settlement.ParseDay(date[0])
	if err != nil {
		return c.usageErr(flags, "%v", err)
	}
	m, err := c.openMain(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	path := *file
	if path == "" {
		path = filepath.Join(m.Config.Settle.bankDirOrDefault, bank.PayoutFileName(day.String()))
	}
	paid, err := bank.ReadPayoutFile(path)
	if errors.Is(err, os.ErrNotExist) {
		m.Logger.Warn("the bank's file for the day does not exist: taking it as empty", "file", path)
		paid, err = nil, nil
	}
	if err != nil {
		return err
	}
	r, err := m.App.Settlement.Reconcile(ctx, day, m.Config.Location, paid)
	if err != nil {
		return err
	}
	if err := printJSON(c, view.ReconciliationOf(r, path)); err != nil {
		return err
	}
	if !r.OK() {
		return fmt.Errorf("%w: %d differences", errDifferences, len(r.Differences))
	}
	return nil
}

// openMain opens the database and the services for an operator command.
func (c *cli) openMain(ctx context.Context) (*Main, error) {
	m := NewMain(c.cfg, c.stderr)
	if err := m.Open(ctx); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// noMore parses args into fs and refuses positional arguments.
func (c *cli) noMore(fs *flag.FlagSet, args []string) error {
	rest, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return c.usageErr(fs, "unexpected arguments: %s", strings.Join(rest, " "))
	}
	return nil
}

// usageErr prints a command-line mistake and the usage: exit status 2.
func (c *cli) usageErr(fs *flag.FlagSet, format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	fmt.Fprintln(c.stderr, err)
	fs.Usage()
	return usageError{err}
}
