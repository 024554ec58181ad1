package mobileapi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/merchant"
	"github.com/paydesk/paydesk/settlement"
	"github.com/paydesk/paydesk/storage"
)

// TestStatementStreamsInFlatMemory seeds one business day of entries on a
// merchant's pending account, straight into the ledger's tables in bulk,
// then downloads its statement through the real route, to io.Discard,
// sampling the heap meanwhile. The heap must not grow with the statement.
//
// By default it runs 30,000 entries on SQLite in a second or two. The
// figure in the README is this test at a million:
//
//	PAYDESK_STATEMENT_ENTRIES=1000000 go test ./mobile-api/ -run TestStatementStreamsInFlatMemory -v
//
// (PAYDESK_STATEMENT_DIALECT=mysql measures MySQL instead.)
func TestStatementStreamsInFlatMemory(t *testing.T) {
	n := 30_000
	if s := os.Getenv("PAYDESK_STATEMENT_ENTRIES"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1000 {
			t.Fatalf("PAYDESK_STATEMENT_ENTRIES=%q: want a whole number of at least 1000", s)
		}
	}
	dialect := storage.SQLite
	if os.Getenv("PAYDESK_STATEMENT_DIALECT") == "mysql" {
		dialect = storage.MySQL
	}
	api := newTestAPI(t, dialect)
	_, _, owner := api.openMerchant(t, "Lotus")
	api.logIn(t, owner)
	m, err := api.Merchants.Merchant(context.Background(), owner.MerchantID)
	if err != nil {
		t.Fatal(err)
	}
	day := settlement.DayOf(api.Clock.Now().In(m.Location())).AddDays(-1)
	seedStart := time.Now()
	total := seedPending(t, api, m, day, n)
	t.Logf("seeded %d entries in %s", n, time.Since(seedStart).Round(time.Millisecond))
	if n <= 100_000 {
		if r, err := api.Ledger.Check(context.Background()); err != nil || !r.OK() {
			t.Fatalf("the seeded book is not sound: %+v %v", r, err)
		}
	}

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapInuse, ms.HeapInuse
	stop, sampled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
		}
	}()
	start := time.Now()
	req, _ := http.NewRequest("GET", api.URL+"/v1/statements.csv?from="+day.String()+"&to="+day.String(), nil)
	req.Header.Set("Authorization", "Bearer "+owner.Access)
	res, err := (&http.Client{}).Do(req) // no client timeout: the test reports how long it takes
	if err != nil {
		t.Fatal(err)
	}
	var tail tailWriter
	written, err := io.Copy(io.MultiWriter(io.Discard, &tail), res.Body)
	res.Body.Close()
	took := time.Since(start)
	close(stop)
	<-sampled
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("statement: %d %v", res.StatusCode, err)
	}
	const mib = 1 << 20
	t.Logf("statement of %d entries (%s): %d lines, %.1f MiB in %s; heap in use %.1f MiB before, peak %.1f MiB (+%.1f MiB)",
		n, dialect, tail.lines, float64(written)/mib, took.Round(time.Millisecond), float64(base)/mib, float64(peak)/mib, float64(peak-base)/mib)
	// header, 3 openings, the entries, 3 closings
	if tail.lines != int64(n)+7 {
		t.Fatalf("%d lines for %d entries", tail.lines, n)
	}
	if !strings.HasPrefix(tail.last(), "pending,closing,") || !strings.Contains(tail.last(), centsText(total)) {
		t.Fatalf("the pending section closes with %q, want %s", tail.last(), centsText(total))
	}
	if grew := peak - base; grew > 64*mib {
		t.Fatalf("the heap grew by %.1f MiB streaming %.1f MiB: memory is not flat", float64(grew)/mib, float64(written)/mib)
	}
}

func centsText(cents int64) string { return fmt.Sprintf("%d.%02d", cents/100, cents%100) }

// tailWriter counts lines and keeps the pending section's closing row.
type tailWriter struct {
	lines   int64
	buf     []byte
	closing string
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.lines += int64(bytes.Count(p, []byte{'\n'}))
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		if bytes.HasPrefix(w.buf, []byte("pending,closing,")) {
			w.closing = string(w.buf[:i])
		}
		w.buf = w.buf[i+1:]
	}
	w.buf = append([]byte(nil), w.buf...) // keep the partial line only
	return len(p), nil
}

func (w *tailWriter) last() string { return w.closing }

// seedPending writes n entries to m's pending account spread over business
// day d, in one transaction of multi-row INSERTs, shaped as the POS posts
// payments: a transfer per sale crediting pending with the amount and
// debiting the fee (two entries on pending), balanced by one debit of
// bank:clearing, with running balances and seqs as the ledger keeps them.
// It returns pending's balance after them.
func seedPending(t *testing.T, api *testAPI, m merchant.Merchant, d settlement.Day, n int) int64 {
	t.Helper()
	ctx := context.Background()
	cal := settlement.Calendar{Location: m.Location()}
	start, step := cal.Start(d), cal.End(d).Sub(cal.Start(d))/time.Duration(n+1)
	clearing, err := api.Ledger.AccountByCode(ctx, ledger.ClearingAccount)
	if err != nil {
		t.Fatal(err)
	}
	pending, err := api.Ledger.Account(ctx, m.Accounts.Pending)
	if err != nil {
		t.Fatal(err)
	}
	const perInsert = 500
	balance := int64(pending.Balance)
	err = api.DB.InTx(ctx, func(ctx context.Context) error {
		db := api.DB.Writer(ctx)
		var base int64
		if err := db.Raw("SELECT COALESCE(MAX(id), 0) FROM ledger_transfers").Scan(&base).Error; err != nil {
			return err
		}
		batch := func(table, cols string, width int) (add func(...any) error, flush func() error) {
			var rows []string
			var args []any
			row := "(" + strings.TrimSuffix(strings.Repeat("?,", width), ",") + ")"
			flush = func() error {
				if len(rows) == 0 {
					return nil
				}
				err := db.Exec("INSERT INTO "+table+" ("+cols+") VALUES "+strings.Join(rows, ","), args...).Error
				rows, args = rows[:0], args[:0]
				return err
			}
			add = func(vals ...any) error {
				rows, args = append(rows, row), append(args, vals...)
				if len(rows) == perInsert {
					return flush()
				}
				return nil
			}
			return add, flush
		}
		addTransfer, flushTransfers := batch("ledger_transfers", "id, reference, kind, digest, memo, created_at", 6)
		addEntry, flushEntries := batch("ledger_entries", "transfer_id, account_id, seq, amount, balance_after, created_at", 6)
		pSeq, cSeq, cBal := pending.Seq, clearing.Seq, int64(clearing.Balance)
		digest := strings.Repeat("0", 64)
		for k := 0; 2*k < n; k++ {
			tid := base + int64(k) + 1
			at := start.Add(time.Duration(2*k+1) * step).UTC()
			amount := int64(1000 + (k*7919)%99000)
			fee := (amount*38 + 5000) / 10000
			if err := addTransfer(tid, fmt.Sprintf("bench:%d:%d", m.ID, k), "payment", digest, fmt.Sprintf("B%08d", k), at); err != nil {
				return err
			}
			pSeq++
			balance += amount
			if err := addEntry(tid, int64(m.Accounts.Pending), pSeq, amount, balance, at); err != nil {
				return err
			}
			if 2*k+1 < n {
				pSeq++
				balance -= fee
				if err := addEntry(tid, int64(m.Accounts.Pending), pSeq, -fee, balance, at); err != nil {
					return err
				}
			} else {
				fee = 0
			}
			cSeq++
			cBal -= amount - fee
			if err := addEntry(tid, int64(clearing.ID), cSeq, -(amount - fee), cBal, at); err != nil {
				return err
			}
		}
		if err := flushTransfers(); err != nil {
			return err
		}
		if err := flushEntries(); err != nil {
			return err
		}
		for _, a := range []struct {
			id       ledger.AccountID
			bal, seq int64
		}{{m.Accounts.Pending, balance, pSeq}, {clearing.ID, cBal, cSeq}} {
			if err := db.Exec("UPDATE ledger_accounts SET balance = ?, seq = ? WHERE id = ?", a.bal, a.seq, int64(a.id)).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	return balance
}
