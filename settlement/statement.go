package settlement

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/merchant"
)

// MaxStatementDays bounds the range of one statement.
const MaxStatementDays = 366

// statementPageSize is how many entries a statement reads at a time: the
// memory a download holds, whatever its length.
const statementPageSize = 2000

// StatementHeader is the first line of a statement CSV.
//
// A statement has a section per account, pending, available and frozen, in
// that order (the marketing account is not part of the merchant's cleared
// money and is left out). Each section is an "opening" row, one "entry"
// row per ledger entry in seq order, and a "closing" row. Amounts are in
// major units with two decimals; a debit takes money from the account, a
// credit adds to it; balance is the account's balance after the row. The
// closing row's debit and credit columns hold the section's totals, so
// that opening + credit − debit = closing, to the cent. time is RFC 3339 in
// the merchant's time zone. kind, reference and memo are the ledger
// transfer's: a payment (kind payment, memo its out_trade_no, a credit and
// the fee's debit), a refund or void (kind refund or void, its reference
// naming the order and refund_no), "payout:stl-12-1:freeze" for settlement
// batch 12 leaving pending, "payout:wdr-7-1:paid" for withdrawal 7 reaching
// the bank.
var StatementHeader = []string{"account", "row", "time", "seq", "kind", "reference", "memo", "debit", "credit", "balance", "currency"}

// Statement is a merchant's account statement for a range of business days.
type Statement struct {
	s          *Service
	m          merchant.Merchant
	From, To   Day // both included
	Start, End time.Time
}

// OpenStatement checks a request for the statement of business days from
// to to (both included) of a merchant, so that a bad request is refused
// before anything is written.
func (s *Service) OpenStatement(ctx context.Context, merchantID int64, from, to Day) (*Statement, error) {
	if from.IsZero() || to.IsZero() {
		return nil, paydesk.ErrInvalid.WithMessage("from and to are dates of the form YYYY-MM-DD")
	}
	if to.Before(from) {
		return nil, paydesk.ErrInvalid.WithMessage("to (%s) is before from (%s)", to, from)
	}
	if from.AddDays(MaxStatementDays - 1).Before(to) {
		return nil, paydesk.ErrInvalid.WithMessage("a statement covers at most %d days", MaxStatementDays)
	}
	m, err := s.merchants.Merchant(ctx, merchantID)
	if err != nil {
		return nil, err
	}
	cal := s.calendar(m)
	return &Statement{s: s, m: m, From: from, To: to, Start: cal.Start(from), End: cal.End(to)}, nil
}

// FileName is a name for the statement's download.
func (st *Statement) FileName() string {
	return fmt.Sprintf("statement-%d-%s-%s.csv", st.m.ID, st.From, st.To)
}

// WriteCSV streams the statement to w, a page of entries at a time,
// flushing after each page: memory stays flat however long the range.
//
// A section covers the entries from the first one posted at or after the
// range's start to the last one posted before its end, by seq, so that the
// running balances chain exactly; the opening balance is the balance before
// the first of them.
func (st *Statement) WriteCSV(ctx context.Context, w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(StatementHeader); err != nil {
		return err
	}
	a := st.m.Accounts
	for _, acc := range []struct {
		name string
		id   ledger.AccountID
	}{{"pending", a.Pending}, {"available", a.Available}, {"frozen", a.Frozen}} {
		if err := st.section(ctx, cw, acc.name, acc.id); err != nil {
			return fmt.Errorf("statement of merchant %d, %s: %w", st.m.ID, acc.name, err)
		}
	}
	cw.Flush()
	return cw.Error()
}

func (st *Statement) section(ctx context.Context, cw *csv.Writer, name string, account ledger.AccountID) error {
	book, loc, cur := st.s.ledger, st.m.Location(), string(st.m.Currency)
	first, okFirst, err := book.FirstEntryFrom(ctx, account, st.Start)
	if err != nil {
		return err
	}
	last, okLast, err := book.LastEntryBefore(ctx, account, st.End)
	if err != nil {
		return err
	}
	var opening, closing paydesk.Amount
	if okFirst && okLast && first.Seq <= last.Seq {
		opening, closing = first.BalanceAfter-first.Amount, last.BalanceAfter
	} else {
		before, _, err := book.LastEntryBefore(ctx, account, st.Start)
		if err != nil {
			return err
		}
		opening, closing = before.BalanceAfter, before.BalanceAfter
		first, last = ledger.Entry{Seq: 1}, ledger.Entry{Seq: 0}
	}
	row := make([]string, len(StatementHeader))
	put := func(fields ...string) error {
		copy(row, fields)
		return cw.Write(row)
	}
	if err := put(name, "opening", st.Start.In(loc).Format(time.RFC3339), "", "", "", "", "", "", money(opening), cur); err != nil {
		return err
	}
	var debits, credits paydesk.Amount
	page := make([]ledger.Line, 0, statementPageSize)
	for after := first.Seq - 1; after < last.Seq; {
		if page, err = book.Lines(ctx, account, after, last.Seq, statementPageSize, page); err != nil {
			return err
		}
		if len(page) == 0 {
			return fmt.Errorf("entries %d to %d are missing", after+1, last.Seq)
		}
		for _, l := range page {
			debit, credit := "", ""
			if l.Amount < 0 {
				debits += -l.Amount
				debit = money(-l.Amount)
			} else {
				credits += l.Amount
				credit = money(l.Amount)
			}
			if err := put(name, "entry", l.CreatedAt.In(loc).Format(time.RFC3339), strconv.FormatInt(l.Seq, 10), l.Kind, l.Reference, l.Memo,
				debit, credit, money(l.BalanceAfter), cur); err != nil {
				return err
			}
		}
		after = page[len(page)-1].Seq
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	if opening+credits-debits != closing {
		// The ledger's running balances make this impossible; say so loudly.
		return fmt.Errorf("opening %s + credits %s - debits %s is not the closing %s", money(opening), money(credits), money(debits), money(closing))
	}
	return put(name, "closing", st.End.In(loc).Format(time.RFC3339), "", "", "", "", money(debits), money(credits), money(closing), cur)
}

func money(v paydesk.Amount) string { return v.String() }
