package settlement

import (
	"context"
	"fmt"
	"time"

	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/storage"
)

// edge is an entry at the edge of a statement period.
type edge struct {
	Seq          int64
	Amount       int64
	BalanceAfter int64
}

// firstFrom returns the first entry of account at or after t: the earliest
// time, and of the entries posted at that time (a ledger batch stamps all
// its entries alike) the lowest seq. Both steps walk the (account_id,
// created_at) index, so the cost does not grow with the account.
func (st *gormStore) firstFrom(ctx context.Context, account ledger.AccountID, t time.Time) (edge, bool, error) {
	return st.edge(ctx, account, "created_at >= ?", "created_at", "seq", t)
}

// lastBefore returns the last entry of account before t.
func (st *gormStore) lastBefore(ctx context.Context, account ledger.AccountID, t time.Time) (edge, bool, error) {
	return st.edge(ctx, account, "created_at < ?", "created_at DESC", "seq DESC", t)
}

func (st *gormStore) edge(ctx context.Context, account ledger.AccountID, where, byTime, bySeq string, t time.Time) (edge, bool, error) {
	var at []time.Time
	if err := st.db.Reader(ctx).Raw("SELECT created_at FROM ledger_entries WHERE account_id = ? AND "+where+" ORDER BY "+byTime+" LIMIT 1",
		int64(account), t.UTC()).Scan(&at).Error; err != nil {
		return edge{}, false, fmt.Errorf("find statement edge: %w", err)
	}
	if len(at) == 0 {
		return edge{}, false, nil
	}
	var es []edge
	if err := st.db.Reader(ctx).Raw("SELECT seq, amount, balance_after FROM ledger_entries WHERE account_id = ? AND created_at = ? ORDER BY "+bySeq+" LIMIT 1",
		int64(account), at[0]).Scan(&es).Error; err != nil {
		return edge{}, false, fmt.Errorf("find statement edge: %w", err)
	}
	if len(es) == 0 {
		return edge{}, false, fmt.Errorf("find statement edge: no entry at %s", at[0])
	}
	return es[0], true, nil
}

// line is one entry of a statement with its transfer.
type line struct {
	Seq          int64
	Amount       int64
	BalanceAfter int64
	CreatedAt    time.Time
	TransferID   int64
	Kind         string
	Reference    string
	Memo         string
}

// statementPage reads up to limit entries of account with after < seq <=
// through, in seq order, each with its transfer's kind, reference and memo:
// one page of a keyset walk over the unique (account_id, seq) index, then
// one primary-key lookup of the page's transfers. (A JOIN does the same
// work row by row, and on MySQL took fifteen times as long.)
func (st *gormStore) statementPage(ctx context.Context, account ledger.AccountID, after, through int64, limit int, into []line) ([]line, error) {
	db := st.db.Reader(ctx)
	// The index is named: a fresh bulk load can leave the planner's
	// statistics thinking the (account_id, created_at) index is as good,
	// and then every page sorts the whole account.
	hint := " INDEXED BY ux_ledger_entries_account_seq"
	if st.db.Dialect == storage.MySQL {
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
		var l line
		if err := rows.Scan(&l.Seq, &l.Amount, &l.BalanceAfter, &l.CreatedAt, &l.TransferID); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read statement entries: %w", err)
		}
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
