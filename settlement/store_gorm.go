package settlement

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/storage"
)

// gormStore keeps batches, withdrawals, payout attempts and bank accounts
// in the application database, and reads the ledger's tables for the
// day's totals and for statements. Methods that write run in the
// transaction ctx carries.
type gormStore struct{ db *storage.DB }

// payoutCols are the columns batches and withdrawals share.
type payoutCols struct {
	State       string
	Attempt     int
	Reference   string
	Offline     bool
	Reason      string
	Version     int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
	SubmittedAt *time.Time
	PaidAt      *time.Time
	FailedAt    *time.Time
}

func (p payoutCols) payout() Payout {
	return Payout{State: State(p.State), Attempt: p.Attempt, Reference: p.Reference, Offline: p.Offline, Reason: p.Reason,
		Version: p.Version, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt, SubmittedAt: p.SubmittedAt, PaidAt: p.PaidAt, FailedAt: p.FailedAt}
}

type batchRow struct {
	ID          int64
	MerchantID  int64
	BusinessDay string
	Currency    string
	DayStart    time.Time
	DayEnd      time.Time
	DueAt       time.Time
	Payments    int64
	Refunds     int64
	Fees        int64
	Net         int64
	Adjustment  int64
	Amount      int64
	Entries     int64
	Cols        payoutCols `gorm:"embedded"`
}

func (batchRow) TableName() string { return "settlement_batches" }

func (r batchRow) batch() Batch {
	d, _ := ParseDay(r.BusinessDay)
	return Batch{ID: r.ID, MerchantID: r.MerchantID, BusinessDay: d, Currency: paydesk.Currency(r.Currency),
		DayStart: r.DayStart, DayEnd: r.DayEnd, DueAt: r.DueAt, Payments: paydesk.Amount(r.Payments), Refunds: paydesk.Amount(r.Refunds),
		Fees: paydesk.Amount(r.Fees), Net: paydesk.Amount(r.Net), Adjustment: paydesk.Amount(r.Adjustment), Amount: paydesk.Amount(r.Amount),
		Entries: r.Entries, Payout: r.Cols.payout()}
}

type withdrawalRow struct {
	ID          int64
	MerchantID  int64
	RequestNo   string
	BusinessDay string
	Amount      int64
	Fee         int64
	Currency    string
	StaffID     int64
	Cols        payoutCols `gorm:"embedded"`
}

func (withdrawalRow) TableName() string { return "withdrawals" }

func (r withdrawalRow) withdrawal() Withdrawal {
	return Withdrawal{ID: r.ID, MerchantID: r.MerchantID, RequestNo: r.RequestNo, Amount: paydesk.Amount(r.Amount), Fee: paydesk.Amount(r.Fee),
		Currency: paydesk.Currency(r.Currency), StaffID: r.StaffID, Payout: r.Cols.payout()}
}

// Attempt statuses. SUBMITTING means the bank has not confirmed it has the
// payout; the bank's own statuses follow.
const (
	attemptSubmitting = "SUBMITTING"
	channelBank       = "bank"
	channelOffline    = "offline"
)

// attempt is one payout as the bank sees it.
type attempt struct {
	ID            int64
	Reference     string
	Kind          string
	SubjectID     int64
	MerchantID    int64
	Attempt       int
	Channel       string
	Amount        int64
	Currency      string
	AccountNumber string
	AccountHolder string
	BankName      string
	Status        string
	BankReference string
	Reason        string
	BankAt        *time.Time
	NextCheckAt   time.Time
	Tries         int
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

func (attempt) TableName() string { return "payout_attempts" }

func (a attempt) request() bank.PayoutRequest {
	return bank.PayoutRequest{Reference: a.Reference, Amount: paydesk.Amount(a.Amount), Currency: paydesk.Currency(a.Currency),
		Account: bank.BankAccount{Number: a.AccountNumber, Holder: a.AccountHolder, BankName: a.BankName}}
}

func (a attempt) final() bool { return bank.PayoutStatus(a.Status).Final() }

type bankAccountRow struct {
	MerchantID int64 `gorm:"primaryKey;autoIncrement:false"`
	Number     string
	Holder     string
	BankName   string
	UpdatedAt  time.Time
}

func (bankAccountRow) TableName() string { return "merchant_bank_accounts" }

type cursorRow struct {
	MerchantID int64 `gorm:"primaryKey;autoIncrement:false"`
	CutThrough string
	Carry      int64
	// CutAt is when CutThrough was cut, if that was before the day ended
	// (dev-mode settle now): the next day's batch starts there.
	CutAt     *time.Time
	UpdatedAt time.Time
}

func (cursorRow) TableName() string { return "settlement_cursors" }

// updatePayout changes the row id of table if it still has version,
// bumping the version. It reports whether it did.
func (st *gormStore) updatePayout(ctx context.Context, table string, id, version int64, set map[string]any) (bool, error) {
	set["version"] = gorm.Expr("version + 1")
	res := st.db.Writer(ctx).Table(table).Where("id = ? AND version = ?", id, version).Updates(set)
	if res.Error != nil {
		return false, fmt.Errorf("update %s %d: %w", table, id, res.Error)
	}
	return res.RowsAffected == 1, nil
}

func (st *gormStore) batch(ctx context.Context, lock bool, where string, args ...any) (Batch, error) {
	var rows []batchRow
	q := st.db.Reader(ctx)
	if lock {
		q = st.db.Writer(ctx)
	}
	sql := "SELECT * FROM settlement_batches WHERE " + where + " LIMIT 1"
	if lock {
		sql += st.db.ForUpdate()
	}
	if err := q.Raw(sql, args...).Scan(&rows).Error; err != nil {
		return Batch{}, fmt.Errorf("read settlement batch: %w", err)
	}
	if len(rows) == 0 {
		return Batch{}, ErrBatchNotFound
	}
	return rows[0].batch(), nil
}

func (st *gormStore) withdrawal(ctx context.Context, where string, args ...any) (Withdrawal, error) {
	var rows []withdrawalRow
	if err := st.db.Reader(ctx).Where(where, args...).Limit(1).Find(&rows).Error; err != nil {
		return Withdrawal{}, fmt.Errorf("read withdrawal: %w", err)
	}
	if len(rows) == 0 {
		return Withdrawal{}, ErrWithdrawalNotFound
	}
	return rows[0].withdrawal(), nil
}

func (st *gormStore) attempt(ctx context.Context, lock bool, ref string) (attempt, error) {
	var rows []attempt
	q := st.db.Reader(ctx)
	sql := "SELECT * FROM payout_attempts WHERE reference = ? LIMIT 1"
	if lock {
		q, sql = st.db.Writer(ctx), sql+st.db.ForUpdate()
	}
	if err := q.Raw(sql, ref).Scan(&rows).Error; err != nil {
		return attempt{}, fmt.Errorf("read payout %s: %w", ref, err)
	}
	if len(rows) == 0 {
		return attempt{}, ErrPayoutNotFound.WithMessage("no payout %s", ref)
	}
	return rows[0], nil
}

// openAttempts lists the bank payouts without a final answer whose time to
// be checked has come.
func (st *gormStore) openAttempts(ctx context.Context, now time.Time, limit int) ([]attempt, error) {
	var rows []attempt
	err := st.db.Reader(ctx).Where("status IN ? AND next_check_at <= ? AND channel = ?", []string{attemptSubmitting, string(bank.PayoutSubmitted)}, now, channelBank).
		Order("next_check_at").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list open payouts: %w", err)
	}
	return rows, nil
}

// updateAttempt changes an attempt that is still in one of the statuses from.
func (st *gormStore) updateAttempt(ctx context.Context, ref string, from []string, set map[string]any) (bool, error) {
	res := st.db.Writer(ctx).Model(&attempt{}).Where("reference = ? AND status IN ?", ref, from).Updates(set)
	if res.Error != nil {
		return false, fmt.Errorf("update payout %s: %w", ref, res.Error)
	}
	return res.RowsAffected == 1, nil
}

func (st *gormStore) bankAccount(ctx context.Context, merchantID int64) (BankAccount, error) {
	var rows []bankAccountRow
	if err := st.db.Reader(ctx).Where("merchant_id = ?", merchantID).Limit(1).Find(&rows).Error; err != nil {
		return BankAccount{}, fmt.Errorf("read bank account: %w", err)
	}
	if len(rows) == 0 {
		return BankAccount{}, ErrNoBankAccount
	}
	r := rows[0]
	return BankAccount{MerchantID: r.MerchantID, BankAccount: bank.BankAccount{Number: r.Number, Holder: r.Holder, BankName: r.BankName}, UpdatedAt: r.UpdatedAt}, nil
}

// lockBankAccount reads the merchant's bank account for update: the row
// every withdrawal of the merchant locks, so that their daily limit is
// checked one at a time.
func (st *gormStore) lockBankAccount(ctx context.Context, merchantID int64) (BankAccount, error) {
	var rows []bankAccountRow
	if err := st.db.Writer(ctx).Raw("SELECT * FROM merchant_bank_accounts WHERE merchant_id = ?"+st.db.ForUpdate(), merchantID).Scan(&rows).Error; err != nil {
		return BankAccount{}, fmt.Errorf("lock bank account: %w", err)
	}
	if len(rows) == 0 {
		return BankAccount{}, ErrNoBankAccount
	}
	r := rows[0]
	return BankAccount{MerchantID: r.MerchantID, BankAccount: bank.BankAccount{Number: r.Number, Holder: r.Holder, BankName: r.BankName}, UpdatedAt: r.UpdatedAt}, nil
}

func (st *gormStore) saveBankAccount(ctx context.Context, a BankAccount) error {
	// One upsert: an UPDATE that changes nothing reports no rows on MySQL,
	// which is not "no such row" (binding the same account again).
	row := bankAccountRow{MerchantID: a.MerchantID, Number: a.Number, Holder: a.Holder, BankName: a.BankName, UpdatedAt: a.UpdatedAt}
	err := st.db.Writer(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "merchant_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"number", "holder", "bank_name", "updated_at"})}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("save bank account: %w", err)
	}
	return nil
}

// merchantIDs lists every merchant, for the scheduler.
func (st *gormStore) merchantIDs(ctx context.Context) ([]int64, error) {
	var ids []int64
	if err := st.db.Reader(ctx).Raw("SELECT id FROM merchants ORDER BY id").Scan(&ids).Error; err != nil {
		return nil, fmt.Errorf("list merchants: %w", err)
	}
	return ids, nil
}

// cursor returns the merchant's cursor, creating it at start when it has none.
func (st *gormStore) cursor(ctx context.Context, merchantID int64, start Day, now time.Time) (cursorRow, error) {
	var rows []cursorRow
	if err := st.db.Reader(ctx).Where("merchant_id = ?", merchantID).Limit(1).Find(&rows).Error; err != nil {
		return cursorRow{}, fmt.Errorf("read settlement cursor: %w", err)
	}
	if len(rows) == 1 {
		return rows[0], nil
	}
	c := cursorRow{MerchantID: merchantID, CutThrough: start.String(), UpdatedAt: now}
	if err := st.db.Writer(ctx).Create(&c).Error; err != nil && !storage.IsDuplicate(err) {
		return cursorRow{}, fmt.Errorf("create settlement cursor: %w", err)
	} else if err != nil {
		return st.cursor(ctx, merchantID, start, now)
	}
	return c, nil
}

func (st *gormStore) batchesLimit(ctx context.Context, limit int, where string, args ...any) ([]Batch, error) {
	var rows []batchRow
	if err := st.db.Reader(ctx).Where(where, args...).Order("id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list settlement batches: %w", err)
	}
	out := make([]Batch, len(rows))
	for i, r := range rows {
		out[i] = r.batch()
	}
	return out, nil
}

// lockFailed reads the merchant's FAILED batches, oldest first, for update.
func (st *gormStore) lockFailed(ctx context.Context, merchantID int64) ([]Batch, error) {
	var rows []batchRow
	if err := st.db.Writer(ctx).Raw("SELECT * FROM settlement_batches WHERE merchant_id = ? AND state = ? ORDER BY id"+st.db.ForUpdate(),
		merchantID, string(Failed)).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("lock failed batches: %w", err)
	}
	out := make([]Batch, len(rows))
	for i, r := range rows {
		out[i] = r.batch()
	}
	return out, nil
}
