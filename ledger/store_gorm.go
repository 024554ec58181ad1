package ledger

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/storage"
)

// GormStore keeps the ledger in the application database. The posting path
// writes hand-built multi-row statements: on MySQL one SELECT, one INSERT per
// table and one UPDATE per batch, whatever the batch size; on SQLite a few
// of each, of fixed sizes that hit the connection's statement cache.
type GormStore struct {
	db *storage.DB
}

// NewGormStore returns a Store over db.
func NewGormStore(db *storage.DB) *GormStore { return &GormStore{db: db} }

var _ Store = (*GormStore)(nil)

type retryable struct{ error }

func (r retryable) Retryable() bool { return true }
func (r retryable) Unwrap() error   { return r.error }

// InTx runs fn in a transaction, marking errors a retry may cure. It is the
// poster's batch, so it runs on the batch pool (storage.DB.InBatchTx),
// where the gathered writes go in one round trip.
func (s *GormStore) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	err := s.db.InBatchTx(ctx, fn)
	if storage.IsRetryable(err) {
		return retryable{err}
	}
	return err
}

// InTransaction reports whether ctx carries a transaction.
func (s *GormStore) InTransaction(ctx context.Context) bool { return storage.InTxContext(ctx) }

// Bulk gathers the writes of a batch's Work (see storage.Bulk).
func (s *GormStore) Bulk(ctx context.Context) (context.Context, Bulk) {
	return s.db.WithBulk(ctx)
}

// LocksRows is true on MySQL, whose row locks let batches of several
// instances overlap.
func (s *GormStore) LocksRows() bool { return s.db.Dialect == storage.MySQL }

type accountRow struct {
	ID            int64
	Code          string
	Type          string
	Currency      string
	AllowNegative bool
	Balance       int64
	Seq           int64
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

func (accountRow) TableName() string { return "ledger_accounts" }

func (r accountRow) account() Account {
	return Account{ID: AccountID(r.ID), Code: r.Code, Type: r.Type, Currency: paydesk.Currency(r.Currency),
		AllowNegative: r.AllowNegative, Balance: paydesk.Amount(r.Balance), Seq: r.Seq, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// CreateAccount inserts a and sets its ID.
func (s *GormStore) CreateAccount(ctx context.Context, a *Account) error {
	row := accountRow{Code: a.Code, Type: a.Type, Currency: string(a.Currency), AllowNegative: a.AllowNegative, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
	if err := s.db.Writer(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("create account %s: %w", a.Code, err)
	}
	a.ID = AccountID(row.ID)
	return nil
}

// Account reads one account.
func (s *GormStore) Account(ctx context.Context, id AccountID) (Account, error) {
	return s.oneAccount(ctx, "id = ?", int64(id))
}

// accountColumns are the columns scanAccount reads, in its order.
const accountColumns = "id, code, type, currency, allow_negative, balance, seq, created_at, updated_at"

func scanAccount(sc storage.Scanner, r *accountRow) error {
	return sc.Scan(&r.ID, &r.Code, &r.Type, &r.Currency, &r.AllowNegative, &r.Balance, &r.Seq, &r.CreatedAt, &r.UpdatedAt)
}

// Accounts reads several accounts in one statement (one per InLists list),
// with database/sql (storage.QueryAll): it is on every payment's path
// (Ledger.Balances, for the payer's balance), where gorm's Find added
// about 60% to the query's own CPU (SQLite profile, issue 20: 77 → 48 µs
// of server CPU per payment).
func (s *GormStore) Accounts(ctx context.Context, ids []AccountID) (map[AccountID]Account, error) {
	out := make(map[AccountID]Account, len(ids))
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = int64(id)
	}
	for _, list := range s.db.InLists(args) {
		rows, err := storage.QueryAll(ctx, s.db, scanAccount,
			"SELECT "+accountColumns+" FROM ledger_accounts WHERE id IN ("+placeholders(len(list))+")", list...)
		if err != nil {
			return nil, fmt.Errorf("read accounts: %w", err)
		}
		for _, r := range rows {
			a := r.account()
			out[a.ID] = a
		}
	}
	return out, nil
}

// AccountByCode reads one account by its code.
func (s *GormStore) AccountByCode(ctx context.Context, code string) (Account, error) {
	return s.oneAccount(ctx, "code = ?", code)
}

// oneAccount reads the account that where (a condition on one unique
// column, with one parameter) selects.
func (s *GormStore) oneAccount(ctx context.Context, where string, arg any) (Account, error) {
	r, found, err := storage.QueryOne(ctx, s.db, scanAccount, "SELECT "+accountColumns+" FROM ledger_accounts WHERE "+where+" LIMIT 1", arg)
	if err != nil {
		return Account{}, fmt.Errorf("read account: %w", err)
	}
	if !found {
		return Account{}, ErrAccountNotFound.WithMessage("no ledger account %v", arg)
	}
	return r.account(), nil
}

// LockAccounts reads ids for update, in ascending order so that concurrent
// batches on MySQL always lock in the same order and cannot deadlock. On
// SQLite the IN list is padded to a power of two (storage.DB.InLists), so
// that one cached statement serves batches of any size.
func (s *GormStore) LockAccounts(ctx context.Context, ids []AccountID) (map[AccountID]*Account, error) {
	out := make(map[AccountID]*Account, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	sorted := slices.Clone(ids)
	slices.Sort(sorted) // lists in order too, should there be several
	args := make([]any, len(sorted))
	for i, id := range sorted {
		args[i] = int64(id)
	}
	pool := s.db.Writer(ctx).Statement.ConnPool
	for _, list := range s.db.InLists(args) {
		q := "SELECT " + accountColumns + " FROM ledger_accounts WHERE id IN (" +
			placeholders(len(list)) + ") ORDER BY id" + s.db.ForUpdate()
		err := func() error {
			rows, err := pool.QueryContext(ctx, q, list...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var r accountRow
				if err := scanAccount(rows, &r); err != nil {
					return err
				}
				a := r.account()
				out[a.ID] = &a
			}
			return rows.Err()
		}()
		if err != nil {
			return nil, fmt.Errorf("lock accounts: %w", err)
		}
	}
	return out, nil
}

// TransfersByReference returns the already recorded transfers among refs,
// with the IN list padded on SQLite as in LockAccounts.
func (s *GormStore) TransfersByReference(ctx context.Context, refs []string) (map[string]RecordedTransfer, error) {
	out := map[string]RecordedTransfer{}
	if len(refs) == 0 {
		return out, nil
	}
	args := make([]any, len(refs))
	for i, r := range refs {
		args[i] = r
	}
	pool := s.db.Writer(ctx).Statement.ConnPool
	for _, list := range s.db.InLists(args) {
		err := func() error {
			rows, err := pool.QueryContext(ctx,
				"SELECT id, reference, digest, created_at FROM ledger_transfers WHERE reference IN ("+placeholders(len(list))+")", list...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var ref string
				var t RecordedTransfer
				if err := rows.Scan(&t.ID, &ref, &t.Digest, &t.CreatedAt); err != nil {
					return err
				}
				out[ref] = t
			}
			return rows.Err()
		}()
		if err != nil {
			return nil, fmt.Errorf("find transfers: %w", err)
		}
	}
	return out, nil
}

// CommittedTransfers reads refs on the fresh pool (storage.DB.Fresh), with
// a shared lock on MySQL: a transaction whose connection died at its
// COMMIT still holds its inserted rows until the server has committed or
// rolled it back, and the locked read waits for that.
func (s *GormStore) CommittedTransfers(ctx context.Context, refs []string) (map[string]RecordedTransfer, error) {
	out := map[string]RecordedTransfer{}
	if len(refs) == 0 {
		return out, nil
	}
	args := make([]any, len(refs))
	for i, r := range refs {
		args[i] = r
	}
	q := "SELECT id, reference, digest, created_at FROM ledger_transfers WHERE reference IN (" + placeholders(len(refs)) + ")" + s.db.ForShare()
	rows, err := s.db.Fresh().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("find committed transfers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ref string
		var t RecordedTransfer
		if err := rows.Scan(&t.ID, &ref, &t.Digest, &t.CreatedAt); err != nil {
			return nil, fmt.Errorf("find committed transfers: %w", err)
		}
		out[ref] = t
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find committed transfers: %w", err)
	}
	return out, nil
}

// The multi-row statements below come in the row counts storage.DB.Chunks
// gives: one per 500 rows on MySQL; on SQLite powers of two, so that a few
// statement texts per table, prepared once per connection, serve batches
// of every size.

// InsertTransfers inserts the transfer rows and reads back their IDs by
// reference: a multi-row insert's IDs are consecutive only under some of
// MySQL's auto-increment lock modes, so we do not rely on that. A
// reference recorded meanwhile is a retryable error.
func (s *GormStore) InsertTransfers(ctx context.Context, ts []NewTransfer) ([]int64, error) {
	pool := s.db.Writer(ctx).Statement.ConnPool
	refs := make([]string, len(ts))
	start := 0
	for _, n := range s.db.Chunks(len(ts)) {
		chunk := ts[start : start+n]
		args := make([]any, 0, 5*len(chunk))
		for i, t := range chunk {
			args = append(args, t.Reference, t.Kind, t.Digest, t.Memo, t.CreatedAt)
			refs[start+i] = t.Reference
		}
		start += n
		q := valuesSQL("INSERT INTO ledger_transfers (reference, kind, digest, memo, created_at) VALUES ", "(?,?,?,?,?)", len(chunk))
		if _, err := pool.ExecContext(ctx, q, args...); err != nil {
			err = fmt.Errorf("insert transfers: %w", err)
			if storage.IsDuplicate(err) {
				// The reference is the table's only unique key: another
				// instance recorded one of ts after the poster looked
				// them up. Run again, the look-up finds it (issue 20).
				return nil, retryable{err}
			}
			return nil, err
		}
	}
	got, err := s.TransfersByReference(ctx, refs)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(ts))
	for i, r := range refs {
		t, ok := got[r]
		if !ok {
			return nil, fmt.Errorf("insert transfers: transfer %s not found after its insert", r)
		}
		ids[i] = t.ID
	}
	return ids, nil
}

// InsertEntries inserts entries in multi-row statements.
func (s *GormStore) InsertEntries(ctx context.Context, es []Entry) error {
	pool := s.db.Writer(ctx).Statement.ConnPool
	start := 0
	for _, n := range s.db.Chunks(len(es)) {
		chunk := es[start : start+n]
		start += n
		args := make([]any, 0, 6*len(chunk))
		for _, e := range chunk {
			args = append(args, e.TransferID, int64(e.AccountID), e.Seq, int64(e.Amount), int64(e.BalanceAfter), e.CreatedAt)
		}
		q := valuesSQL("INSERT INTO ledger_entries (transfer_id, account_id, seq, amount, balance_after, created_at) VALUES ", "(?,?,?,?,?,?)", len(chunk))
		if _, err := pool.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("insert entries: %w", err)
		}
	}
	return nil
}

// SaveBalances writes new balances in one statement per chunk, with CASE
// expressions that both databases understand. (A lost update, which the row
// locks make impossible, would still be caught: the entries' unique
// (account_id, seq) index refuses a second entry with the same number.)
// Chunks keep the accounts' order, ascending ids from the ledger.
func (s *GormStore) SaveBalances(ctx context.Context, as []*Account) error {
	pool := s.db.Writer(ctx).Statement.ConnPool
	start := 0
	for _, n := range s.db.Chunks(len(as)) {
		chunk := as[start : start+n]
		start += n
		var bal, seq strings.Builder
		balArgs := make([]any, 0, 2*len(chunk))
		seqArgs := make([]any, 0, 2*len(chunk))
		idArgs := make([]any, 0, len(chunk))
		var updated time.Time
		for _, a := range chunk {
			bal.WriteString(" WHEN ? THEN ?")
			balArgs = append(balArgs, int64(a.ID), int64(a.Balance))
			seq.WriteString(" WHEN ? THEN ?")
			seqArgs = append(seqArgs, int64(a.ID), a.Seq)
			idArgs = append(idArgs, int64(a.ID))
			updated = a.UpdatedAt
		}
		q := "UPDATE ledger_accounts SET balance = CASE id" + bal.String() + " END, seq = CASE id" + seq.String() +
			" END, updated_at = ? WHERE id IN (" + placeholders(len(chunk)) + ")"
		args := append(append(append(balArgs, seqArgs...), updated), idArgs...)
		res, err := pool.ExecContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("save balances: %w", err)
		}
		if got, err := res.RowsAffected(); err == nil && got != int64(len(chunk)) {
			return fmt.Errorf("save balances: updated %d of %d accounts", got, len(chunk))
		}
	}
	return nil
}

type entryRow struct {
	ID           int64
	TransferID   int64
	AccountID    int64
	Seq          int64
	Amount       int64
	BalanceAfter int64
	CreatedAt    time.Time
}

func (entryRow) TableName() string { return "ledger_entries" }

func (r entryRow) entry() Entry {
	return Entry{ID: r.ID, TransferID: r.TransferID, AccountID: AccountID(r.AccountID), Seq: r.Seq,
		Amount: paydesk.Amount(r.Amount), BalanceAfter: paydesk.Amount(r.BalanceAfter), CreatedAt: r.CreatedAt}
}

// Entries lists an account's entries in seq order.
func (s *GormStore) Entries(ctx context.Context, f EntryFilter) ([]Entry, error) {
	q := s.db.Reader(ctx).Where("account_id = ? AND seq > ?", int64(f.AccountID), f.AfterSeq)
	if !f.From.IsZero() {
		q = q.Where("created_at >= ?", f.From)
	}
	if !f.To.IsZero() {
		q = q.Where("created_at < ?", f.To)
	}
	var rows []entryRow
	if err := q.Order("seq").Limit(f.Limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list entries: %w", err)
	}
	out := make([]Entry, len(rows))
	for i, r := range rows {
		out[i] = r.entry()
	}
	return out, nil
}

type transferRow struct {
	ID        int64
	Reference string
	Kind      string
	Digest    string
	Memo      string
	CreatedAt time.Time
}

func (transferRow) TableName() string { return "ledger_transfers" }

// TransferByReference reads a transfer and rebuilds its postings from its
// entries (each posting is a debit entry followed by its credit entry).
func (s *GormStore) TransferByReference(ctx context.Context, ref string) (Transfer, error) {
	var ts []transferRow
	if err := s.db.Reader(ctx).Where("reference = ?", ref).Limit(1).Find(&ts).Error; err != nil {
		return Transfer{}, fmt.Errorf("read transfer: %w", err)
	}
	if len(ts) == 0 {
		return Transfer{}, paydesk.ErrNotFound.WithMessage("no transfer %s", ref)
	}
	var es []entryRow
	if err := s.db.Reader(ctx).Where("transfer_id = ?", ts[0].ID).Order("id").Find(&es).Error; err != nil {
		return Transfer{}, fmt.Errorf("read transfer entries: %w", err)
	}
	t := Transfer{ID: ts[0].ID, Reference: ts[0].Reference, Kind: ts[0].Kind, Memo: ts[0].Memo, CreatedAt: ts[0].CreatedAt}
	for i := 0; i+1 < len(es); i += 2 {
		t.Postings = append(t.Postings, Posting{Source: AccountID(es[i].AccountID), Destination: AccountID(es[i+1].AccountID), Amount: paydesk.Amount(es[i+1].Amount)})
	}
	return t, nil
}

// Check runs the integrity queries over the whole book.
func (s *GormStore) Check(ctx context.Context) (CheckReport, error) {
	db := s.db.Reader(ctx)
	r := CheckReport{SumByCurrency: map[paydesk.Currency]paydesk.Amount{}}
	var sums []struct {
		Currency string
		Total    int64
	}
	if err := db.Raw("SELECT currency, SUM(balance) AS total FROM ledger_accounts GROUP BY currency").Scan(&sums).Error; err != nil {
		return r, fmt.Errorf("check sums: %w", err)
	}
	for _, s := range sums {
		r.SumByCurrency[paydesk.Currency(s.Currency)] = paydesk.Amount(s.Total)
	}
	if err := db.Raw(`SELECT a.id FROM ledger_accounts a
		LEFT JOIN (SELECT account_id, SUM(amount) AS total, COUNT(*) AS n, MAX(seq) AS last FROM ledger_entries GROUP BY account_id) e ON e.account_id = a.id
		WHERE a.balance <> COALESCE(e.total, 0) OR a.seq <> COALESCE(e.n, 0) OR a.seq <> COALESCE(e.last, 0)`).Scan(&r.Drifted).Error; err != nil {
		return r, fmt.Errorf("check drift: %w", err)
	}
	if err := db.Raw("SELECT transfer_id FROM ledger_entries GROUP BY transfer_id HAVING SUM(amount) <> 0").Scan(&r.Unbalanced).Error; err != nil {
		return r, fmt.Errorf("check transfers: %w", err)
	}
	if err := db.Raw("SELECT id FROM ledger_accounts WHERE balance < 0 AND allow_negative = ?", false).Scan(&r.Negative).Error; err != nil {
		return r, fmt.Errorf("check negatives: %w", err)
	}
	db.Raw("SELECT COUNT(*) FROM ledger_accounts").Scan(&r.Accounts)
	db.Raw("SELECT COUNT(*) FROM ledger_entries").Scan(&r.Entries)
	return r, nil
}

// valuesSQL is prefix followed by rows copies of one, comma-separated.
func valuesSQL(prefix, one string, rows int) string {
	var b strings.Builder
	b.Grow(len(prefix) + rows*(len(one)+1))
	b.WriteString(prefix)
	for i := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(one)
	}
	return b.String()
}

func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?,", n-1) + "?"
}
