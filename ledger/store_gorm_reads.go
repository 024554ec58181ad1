package ledger

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/storage"
)

// The SQL of reads.go: statements, totals and movements.

// EdgeEntry finds the entry in two steps that both walk the (account_id,
// created_at) index, so that the cost does not grow with the account.
func (s *GormStore) EdgeEntry(ctx context.Context, account AccountID, t time.Time, last bool) (Entry, bool, error) {
	where, byTime, bySeq := "created_at >= ?", "created_at", "seq"
	if last {
		where, byTime, bySeq = "created_at < ?", "created_at DESC", "seq DESC"
	}
	var at []time.Time
	if err := s.db.Reader(ctx).Raw("SELECT created_at FROM ledger_entries WHERE account_id = ? AND "+where+" ORDER BY "+byTime+" LIMIT 1",
		int64(account), t.UTC()).Scan(&at).Error; err != nil {
		return Entry{}, false, fmt.Errorf("find statement edge: %w", err)
	}
	if len(at) == 0 {
		return Entry{}, false, nil
	}
	var es []entryRow
	if err := s.db.Reader(ctx).Raw("SELECT id, transfer_id, account_id, seq, amount, balance_after, created_at FROM ledger_entries WHERE account_id = ? AND created_at = ? ORDER BY "+bySeq+" LIMIT 1",
		int64(account), at[0]).Scan(&es).Error; err != nil {
		return Entry{}, false, fmt.Errorf("find statement edge: %w", err)
	}
	if len(es) == 0 {
		return Entry{}, false, fmt.Errorf("find statement edge: no entry at %s", at[0])
	}
	return es[0].entry(), true, nil
}

// Lines is one page of a keyset walk over the unique (account_id, seq)
// index, then one primary-key lookup of the page's transfers. (A JOIN does
// the same work row by row, and on MySQL took fifteen times as long.)
func (s *GormStore) Lines(ctx context.Context, account AccountID, after, through int64, limit int, into []Line) ([]Line, error) {
	db := s.db.Reader(ctx)
	// The index is named: a fresh bulk load can leave the planner's
	// statistics thinking the (account_id, created_at) index is as good,
	// and then every page sorts the whole account.
	hint := " INDEXED BY ux_ledger_entries_account_seq"
	if s.db.Dialect == storage.MySQL {
		hint = " FORCE INDEX (ux_ledger_entries_account_seq)"
	}
	rows, err := db.Raw(`SELECT seq, amount, balance_after, created_at, transfer_id FROM ledger_entries`+hint+`
		WHERE account_id = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?`, int64(account), after, through, limit).Rows()
	if err != nil {
		return nil, fmt.Errorf("read statement entries: %w", err)
	}
	into = into[:0]
	ids := make([]int64, 0, limit)
	seen := make(map[int64]bool, limit)
	for rows.Next() {
		var l Line
		var amount, balance int64
		if err := rows.Scan(&l.Seq, &amount, &balance, &l.CreatedAt, &l.TransferID); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read statement entries: %w", err)
		}
		l.Amount, l.BalanceAfter = paydesk.Amount(amount), paydesk.Amount(balance)
		into = append(into, l)
		if !seen[l.TransferID] {
			seen[l.TransferID] = true
			ids = append(ids, l.TransferID)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(ids) == 0 {
		return into, err
	}
	type info struct{ kind, reference, memo string }
	transfers := make(map[int64]info, len(ids))
	trows, err := db.Raw("SELECT id, kind, reference, memo FROM ledger_transfers WHERE id IN ?", ids).Rows()
	if err != nil {
		return nil, fmt.Errorf("read statement transfers: %w", err)
	}
	defer trows.Close()
	for trows.Next() {
		var id int64
		var t info
		if err := trows.Scan(&id, &t.kind, &t.reference, &t.memo); err != nil {
			return nil, fmt.Errorf("read statement transfers: %w", err)
		}
		transfers[id] = t
	}
	if err := trows.Err(); err != nil {
		return nil, err
	}
	for i := range into {
		t := transfers[into[i].TransferID]
		into[i].Kind, into[i].Reference, into[i].Memo = t.kind, t.reference, t.memo
	}
	return into, nil
}

// Totals sums in one statement.
func (s *GormStore) Totals(ctx context.Context, f TotalsFilter) (Totals, error) {
	var t struct{ Entries, KindIn, KindOut, OtherIn, OtherOut int64 }
	err := s.db.Reader(ctx).Raw(`SELECT COUNT(*) AS entries,
		COALESCE(SUM(CASE WHEN t.kind = ? AND e.amount > 0 THEN e.amount ELSE 0 END), 0) AS kind_in,
		COALESCE(SUM(CASE WHEN t.kind = ? AND e.amount < 0 THEN -e.amount ELSE 0 END), 0) AS kind_out,
		COALESCE(SUM(CASE WHEN t.kind <> ? AND e.amount > 0 THEN e.amount ELSE 0 END), 0) AS other_in,
		COALESCE(SUM(CASE WHEN t.kind <> ? AND e.amount < 0 THEN -e.amount ELSE 0 END), 0) AS other_out
		FROM ledger_entries e JOIN ledger_transfers t ON t.id = e.transfer_id
		WHERE e.account_id = ? AND e.created_at >= ? AND e.created_at < ? AND t.kind <> ?`,
		f.Kind, f.Kind, f.Kind, f.Kind, int64(f.AccountID), f.From.UTC(), f.To.UTC(), f.Except).Scan(&t).Error
	if err != nil {
		return Totals{}, fmt.Errorf("sum entries: %w", err)
	}
	return Totals{Entries: t.Entries, KindIn: paydesk.Amount(t.KindIn), KindOut: paydesk.Amount(t.KindOut),
		OtherIn: paydesk.Amount(t.OtherIn), OtherOut: paydesk.Amount(t.OtherOut)}, nil
}

// Movements groups the accounts' entries by transfer in one statement,
// with a sum per account.
func (s *GormStore) Movements(ctx context.Context, accounts []AccountID, before int64, limit int) ([]Movement, error) {
	var q strings.Builder
	q.WriteString("SELECT t.id, t.reference, t.kind, t.memo, t.created_at")
	args := make([]any, 0, 2*len(accounts)+2)
	for i, a := range accounts {
		fmt.Fprintf(&q, ",\n\t\tSUM(CASE WHEN e.account_id = ? THEN e.amount ELSE 0 END) AS a%d", i)
		args = append(args, int64(a))
	}
	q.WriteString("\n\t\tFROM ledger_entries e JOIN ledger_transfers t ON t.id = e.transfer_id\n\t\tWHERE e.account_id IN (" + placeholders(len(accounts)) + ")")
	for _, a := range accounts {
		args = append(args, int64(a))
	}
	if before > 0 {
		q.WriteString(" AND e.transfer_id < ?")
		args = append(args, before)
	}
	q.WriteString(" GROUP BY t.id, t.reference, t.kind, t.memo, t.created_at ORDER BY t.id DESC LIMIT ?")
	args = append(args, limit)
	rows, err := s.db.Reader(ctx).Raw(q.String(), args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("list movements: %w", err)
	}
	defer rows.Close()
	var out []Movement
	sums := make([]int64, len(accounts))
	dest := make([]any, 5+len(accounts))
	for rows.Next() {
		var m Movement
		dest[0], dest[1], dest[2], dest[3], dest[4] = &m.TransferID, &m.Reference, &m.Kind, &m.Memo, &m.CreatedAt
		for i := range sums {
			dest[5+i] = &sums[i]
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("list movements: %w", err)
		}
		m.Amounts = make(map[AccountID]paydesk.Amount, len(accounts))
		for i, a := range accounts {
			m.Amounts[a] = paydesk.Amount(sums[i])
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list movements: %w", err)
	}
	return out, nil
}
