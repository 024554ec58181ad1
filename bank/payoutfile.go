package bank

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/paydesk/paydesk"
)

// The bank's daily payout file is its side of a reconciliation (对账): one
// CSV per business day of the bank, listing every payout it paid that day,
// named payouts-YYYY-MM-DD.csv, with this header:
//
//	reference,bank_reference,amount,currency,paid_at
//
// amount is in minor units and paid_at is RFC 3339. The file only grows
// during its day; a reader takes it as it is when reconciliation runs.
var payoutFileHeader = []string{"reference", "bank_reference", "amount", "currency", "paid_at"}

// PayoutFileName is the name of the daily file for day ("2006-01-02").
func PayoutFileName(day string) string { return "payouts-" + day + ".csv" }

// PaidPayouts lists what the Simulator paid on day (in FileLocation), in
// the order it paid them: the in-memory twin of the daily file.
// It panics if the store cannot be read: it is for tests and tools.
func (s *Simulator) PaidPayouts(day string) []Payout {
	all, err := s.store.Payouts(context.Background())
	if err != nil {
		panic(err)
	}
	var out []Payout
	for _, r := range all {
		if r.P.Status == PayoutPaid && r.P.UpdatedAt.In(s.cfg.FileLocation).Format(time.DateOnly) == day {
			out = append(out, r.P)
		}
	}
	slices.SortFunc(out, func(a, b Payout) int { return a.UpdatedAt.Compare(b.UpdatedAt) })
	return out
}

// recordPaid appends p to its day's file, when the Simulator keeps files.
// A failure to write is the bank's problem, not the payout's: the payout
// stays paid and reconciliation will report it as missing from the file.
func (s *Simulator) recordPaid(p Payout) {
	if s.cfg.PayoutFileDir == "" {
		return
	}
	s.fileMu.Lock()
	defer s.fileMu.Unlock()
	path := filepath.Join(s.cfg.PayoutFileDir, PayoutFileName(p.UpdatedAt.In(s.cfg.FileLocation).Format(time.DateOnly)))
	_ = appendPayoutLine(path, p)
}

func appendPayoutLine(path string, p Payout) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	if st, err := f.Stat(); err == nil && st.Size() == 0 {
		w.Write(payoutFileHeader)
	}
	w.Write([]string{p.Reference, p.BankReference, strconv.FormatInt(int64(p.Amount), 10), string(p.Currency), p.UpdatedAt.UTC().Format(time.RFC3339Nano)})
	w.Flush()
	return errors.Join(w.Error(), f.Close())
}

// ReadPayoutFile reads a daily payout file. A missing file is an error the
// caller can test with errors.Is(err, fs.ErrNotExist).
func ReadPayoutFile(path string) ([]Payout, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParsePayoutFile(f)
}

// ParsePayoutFile reads the lines of a daily payout file from r.
func ParsePayoutFile(r io.Reader) ([]Payout, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = len(payoutFileHeader)
	head, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("payout file: %w", err)
	}
	if !slices.Equal(head, payoutFileHeader) {
		return nil, fmt.Errorf("payout file: header is %v, want %v", head, payoutFileHeader)
	}
	var out []Payout
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("payout file: %w", err)
		}
		line, _ := cr.FieldPos(0)
		amt, err := strconv.ParseInt(rec[2], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("payout file line %d: amount %q: %w", line, rec[2], err)
		}
		at, err := time.Parse(time.RFC3339Nano, rec[4])
		if err != nil {
			return nil, fmt.Errorf("payout file line %d: paid_at %q: %w", line, rec[4], err)
		}
		out = append(out, Payout{Reference: rec[0], BankReference: rec[1], Amount: paydesk.Amount(amt), Currency: paydesk.Currency(rec[3]),
			Status: PayoutPaid, UpdatedAt: at})
	}
}
