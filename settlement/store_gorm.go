package settlement

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/storage"
)

// GormStore keeps batches, withdrawals, payout attempts, cursors, bank
// accounts and payout modes in the application database.
type GormStore struct{ db *storage.DB }

// NewGormStore returns a Store over db.
func NewGormStore(db *storage.DB) *GormStore { return &GormStore{db: db} }

var _ Store = (*GormStore)(nil)

// InTx runs fn in a transaction.
func (st *GormStore) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return st.db.InTx(ctx, fn)
}

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

// attemptRow is an Attempt as payout_attempts holds it.
type attemptRow Attempt

func (attemptRow) TableName() string { return "payout_attempts" }

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
	CutAt      *time.Time
	UpdatedAt  time.Time
}

func (cursorRow) TableName() string { return "settlement_cursors" }

func (r cursorRow) cursor() Cursor {
	return Cursor{MerchantID: r.MerchantID, CutThrough: r.CutThrough, Carry: r.Carry, CutAt: r.CutAt, UpdatedAt: r.UpdatedAt}
}

type payoutModeRow struct {
	MerchantID int64 `gorm:"primaryKey;autoIncrement:false"`
	Mode       string
	UpdatedAt  time.Time
}

func (payoutModeRow) TableName() string { return "merchant_payout_modes" }

func batches(rows []batchRow) []Batch {
	out := make([]Batch, len(rows))
	for i, r := range rows {
		out[i] = r.batch()
	}
	return out
}

func withdrawals(rows []withdrawalRow) []Withdrawal {
	out := make([]Withdrawal, len(rows))
	for i, r := range rows {
		out[i] = r.withdrawal()
	}
	return out
}

func attempts(rows []attemptRow) []Attempt {
	out := make([]Attempt, len(rows))
	for i, r := range rows {
		out[i] = Attempt(r)
	}
	return out
}

// MerchantIDs lists every merchant, for the scheduler.
func (st *GormStore) MerchantIDs(ctx context.Context) ([]int64, error) {
	var ids []int64
	if err := st.db.Reader(ctx).Raw("SELECT id FROM merchants ORDER BY id").Scan(&ids).Error; err != nil {
		return nil, fmt.Errorf("list merchants: %w", err)
	}
	return ids, nil
}

// Cursor returns the merchant's cursor, creating it at start when it has none.
func (st *GormStore) Cursor(ctx context.Context, merchantID int64, start Day, now time.Time) (Cursor, error) {
	if c, ok, err := st.FindCursor(ctx, merchantID); err != nil || ok {
		return c, err
	}
	c := cursorRow{MerchantID: merchantID, CutThrough: start.String(), UpdatedAt: now}
	if err := st.db.Writer(ctx).Create(&c).Error; err != nil && !storage.IsDuplicate(err) {
		return Cursor{}, fmt.Errorf("create settlement cursor: %w", err)
	} else if err != nil {
		return st.Cursor(ctx, merchantID, start, now)
	}
	return c.cursor(), nil
}

// FindCursor reads the merchant's cursor.
func (st *GormStore) FindCursor(ctx context.Context, merchantID int64) (Cursor, bool, error) {
	var rows []cursorRow
	if err := st.db.Reader(ctx).Where("merchant_id = ?", merchantID).Limit(1).Find(&rows).Error; err != nil {
		return Cursor{}, false, fmt.Errorf("read settlement cursor: %w", err)
	}
	if len(rows) == 0 {
		return Cursor{}, false, nil
	}
	return rows[0].cursor(), true, nil
}

// LockCursor reads the merchant's cursor for update.
func (st *GormStore) LockCursor(ctx context.Context, merchantID int64) (Cursor, error) {
	var c cursorRow
	if err := st.db.Writer(ctx).Raw("SELECT * FROM settlement_cursors WHERE merchant_id = ?"+st.db.ForUpdate(), merchantID).Scan(&c).Error; err != nil {
		return Cursor{}, fmt.Errorf("lock settlement cursor: %w", err)
	}
	return c.cursor(), nil
}

// MoveCursor moves the cursor conditionally on where it was.
func (st *GormStore) MoveCursor(ctx context.Context, from string, c Cursor) (bool, error) {
	var cutAt any
	if c.CutAt != nil {
		cutAt = c.CutAt.UTC()
	}
	res := st.db.Writer(ctx).Model(&cursorRow{}).Where("merchant_id = ? AND cut_through = ?", c.MerchantID, from).
		Updates(map[string]any{"cut_through": c.CutThrough, "carry": c.Carry, "cut_at": cutAt, "updated_at": c.UpdatedAt})
	if res.Error != nil {
		return false, fmt.Errorf("move settlement cursor: %w", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// CreateBatch inserts b at version 1.
func (st *GormStore) CreateBatch(ctx context.Context, b Batch) (Batch, error) {
	row := batchRow{MerchantID: b.MerchantID, BusinessDay: b.BusinessDay.String(), Currency: string(b.Currency), DayStart: b.DayStart.UTC(), DayEnd: b.DayEnd.UTC(),
		DueAt: b.DueAt.UTC(), Payments: int64(b.Payments), Refunds: int64(b.Refunds), Fees: int64(b.Fees), Net: int64(b.Net),
		Adjustment: int64(b.Adjustment), Amount: int64(b.Amount), Entries: b.Entries,
		Cols: payoutCols{State: string(b.State), Version: 1, CreatedAt: b.CreatedAt, UpdatedAt: b.UpdatedAt}}
	if err := st.db.Writer(ctx).Create(&row).Error; err != nil {
		return Batch{}, fmt.Errorf("create batch: %w", err)
	}
	return row.batch(), nil
}

func (st *GormStore) batch(ctx context.Context, where string, args ...any) (Batch, error) {
	var rows []batchRow
	if err := st.db.Reader(ctx).Raw("SELECT * FROM settlement_batches WHERE "+where+" LIMIT 1", args...).Scan(&rows).Error; err != nil {
		return Batch{}, fmt.Errorf("read settlement batch: %w", err)
	}
	if len(rows) == 0 {
		return Batch{}, ErrBatchNotFound
	}
	return rows[0].batch(), nil
}

// Batch reads a batch by id, of merchantID unless that is 0.
func (st *GormStore) Batch(ctx context.Context, merchantID, id int64) (Batch, error) {
	if merchantID == 0 {
		return st.batch(ctx, "id = ?", id)
	}
	return st.batch(ctx, "merchant_id = ? AND id = ?", merchantID, id)
}

// BatchOfDay reads the merchant's batch of business day d.
func (st *GormStore) BatchOfDay(ctx context.Context, merchantID int64, d Day) (Batch, error) {
	return st.batch(ctx, "merchant_id = ? AND business_day = ?", merchantID, d.String())
}

// Batches pages the merchant's batches by id, newest first. Batches are
// cut in day order, so id order is business-day order.
func (st *GormStore) Batches(ctx context.Context, merchantID, before int64, limit int) ([]Batch, error) {
	q := st.db.Reader(ctx).Where("merchant_id = ?", merchantID)
	if before > 0 {
		q = q.Where("id < ?", before)
	}
	var rows []batchRow
	if err := q.Order("id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list settlement batches: %w", err)
	}
	return batches(rows), nil
}

// BatchesIn lists batches in state across merchants.
func (st *GormStore) BatchesIn(ctx context.Context, state State, dueBy time.Time, bankOnly bool, limit int) ([]Batch, error) {
	q := st.db.Reader(ctx).Where("state = ?", string(state))
	if !dueBy.IsZero() {
		q = q.Where("due_at <= ?", dueBy)
	}
	if bankOnly {
		q = q.Where("offline = ?", false)
	}
	var rows []batchRow
	if err := q.Order("id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list settlement batches: %w", err)
	}
	return batches(rows), nil
}

// MerchantBatchesIn lists the merchant's batches in state by id.
func (st *GormStore) MerchantBatchesIn(ctx context.Context, merchantID int64, state State, limit int) ([]Batch, error) {
	q := st.db.Reader(ctx).Where("merchant_id = ? AND state = ?", merchantID, string(state)).Order("id")
	if limit > 0 {
		q = q.Limit(limit)
	}
	var rows []batchRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list %s batches: %w", state, err)
	}
	return batches(rows), nil
}

// UpcomingBatches lists the merchant's NOT_DUE and AWAITING_PAYMENT batches by due date.
func (st *GormStore) UpcomingBatches(ctx context.Context, merchantID int64, limit int) ([]Batch, error) {
	var rows []batchRow
	if err := st.db.Reader(ctx).Where("merchant_id = ? AND state IN ?", merchantID, []string{string(NotDue), string(AwaitingPayment)}).
		Order("due_at, id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list upcoming batches: %w", err)
	}
	return batches(rows), nil
}

// LockOpenBatches reads the batches netting may take from, for update.
func (st *GormStore) LockOpenBatches(ctx context.Context, merchantID int64) ([]Batch, error) {
	var rows []batchRow
	err := st.db.Writer(ctx).Raw("SELECT * FROM settlement_batches WHERE merchant_id = ? AND state IN (?, ?) AND amount > 0 ORDER BY business_day DESC"+st.db.ForUpdate(),
		merchantID, string(NotDue), string(AwaitingPayment)).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("find batches to net against: %w", err)
	}
	return batches(rows), nil
}

// LockFailedBatches reads the merchant's FAILED batches, oldest first, for update.
func (st *GormStore) LockFailedBatches(ctx context.Context, merchantID int64) ([]Batch, error) {
	var rows []batchRow
	if err := st.db.Writer(ctx).Raw("SELECT * FROM settlement_batches WHERE merchant_id = ? AND state = ? ORDER BY id"+st.db.ForUpdate(),
		merchantID, string(Failed)).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("lock failed batches: %w", err)
	}
	return batches(rows), nil
}

// PayoutSums adds up open and in-flight money in two statements.
func (st *GormStore) PayoutSums(ctx context.Context, merchantID int64) (open, inFlight paydesk.Amount, err error) {
	db := st.db.Writer(ctx)
	var sums struct{ Open, InFlight int64 }
	if err := db.Raw(`SELECT COALESCE(SUM(CASE WHEN state IN (?, ?) THEN amount ELSE 0 END), 0) AS open,
		COALESCE(SUM(CASE WHEN state = ? THEN amount ELSE 0 END), 0) AS in_flight FROM settlement_batches WHERE merchant_id = ?`,
		string(NotDue), string(AwaitingPayment), string(Submitted), merchantID).Scan(&sums).Error; err != nil {
		return 0, 0, fmt.Errorf("sum batches: %w", err)
	}
	var wd int64
	if err := db.Raw("SELECT COALESCE(SUM(amount), 0) FROM withdrawals WHERE merchant_id = ? AND state = ?", merchantID, string(Submitted)).Scan(&wd).Error; err != nil {
		return 0, 0, fmt.Errorf("sum withdrawals: %w", err)
	}
	return paydesk.Amount(sums.Open), paydesk.Amount(sums.InFlight + wd), nil
}

// UpdatePayout changes a batch or withdrawal if it still has version.
func (st *GormStore) UpdatePayout(ctx context.Context, kind string, id, version int64, set map[string]any) (bool, error) {
	table := "settlement_batches"
	if kind == KindWithdrawal {
		table = "withdrawals"
	}
	set["version"] = gorm.Expr("version + 1")
	res := st.db.Writer(ctx).Table(table).Where("id = ? AND version = ?", id, version).Updates(set)
	if res.Error != nil {
		return false, fmt.Errorf("update %s %d: %w", table, id, res.Error)
	}
	return res.RowsAffected == 1, nil
}

// CreateWithdrawal inserts w at version 1.
func (st *GormStore) CreateWithdrawal(ctx context.Context, w Withdrawal, day Day) (Withdrawal, error) {
	row := withdrawalRow{MerchantID: w.MerchantID, RequestNo: w.RequestNo, BusinessDay: day.String(), Amount: int64(w.Amount), Fee: int64(w.Fee),
		Currency: string(w.Currency), StaffID: w.StaffID, Cols: payoutCols{State: string(w.State), Version: 1, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}}
	if err := st.db.Writer(ctx).Create(&row).Error; err != nil {
		if storage.IsDuplicate(err) {
			return Withdrawal{}, errors.Join(errDuplicateRequest, err)
		}
		return Withdrawal{}, fmt.Errorf("create withdrawal: %w", err)
	}
	return row.withdrawal(), nil
}

func (st *GormStore) withdrawal(ctx context.Context, where string, args ...any) (Withdrawal, error) {
	var rows []withdrawalRow
	if err := st.db.Reader(ctx).Where(where, args...).Limit(1).Find(&rows).Error; err != nil {
		return Withdrawal{}, fmt.Errorf("read withdrawal: %w", err)
	}
	if len(rows) == 0 {
		return Withdrawal{}, ErrWithdrawalNotFound
	}
	return rows[0].withdrawal(), nil
}

// Withdrawal reads a withdrawal by id, of merchantID unless that is 0.
func (st *GormStore) Withdrawal(ctx context.Context, merchantID, id int64) (Withdrawal, error) {
	if merchantID == 0 {
		return st.withdrawal(ctx, "id = ?", id)
	}
	return st.withdrawal(ctx, "merchant_id = ? AND id = ?", merchantID, id)
}

// WithdrawalByRequestNo reads the merchant's withdrawal of requestNo.
func (st *GormStore) WithdrawalByRequestNo(ctx context.Context, merchantID int64, requestNo string) (Withdrawal, error) {
	return st.withdrawal(ctx, "merchant_id = ? AND request_no = ?", merchantID, requestNo)
}

// Withdrawals pages the merchant's withdrawals by id, newest first.
func (st *GormStore) Withdrawals(ctx context.Context, merchantID, before int64, limit int) ([]Withdrawal, error) {
	q := st.db.Reader(ctx).Where("merchant_id = ?", merchantID)
	if before > 0 {
		q = q.Where("id < ?", before)
	}
	var rows []withdrawalRow
	if err := q.Order("id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list withdrawals: %w", err)
	}
	return withdrawals(rows), nil
}

// MerchantWithdrawalsIn lists the merchant's withdrawals in state by id.
func (st *GormStore) MerchantWithdrawalsIn(ctx context.Context, merchantID int64, state State, limit int) ([]Withdrawal, error) {
	var rows []withdrawalRow
	if err := st.db.Reader(ctx).Where("merchant_id = ? AND state = ?", merchantID, string(state)).Order("id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list %s withdrawals: %w", state, err)
	}
	return withdrawals(rows), nil
}

// WithdrawnOn sums the merchant's withdrawals of day but the failed ones.
func (st *GormStore) WithdrawnOn(ctx context.Context, merchantID int64, day Day) (paydesk.Amount, error) {
	var used int64
	if err := st.db.Writer(ctx).Raw("SELECT COALESCE(SUM(amount), 0) FROM withdrawals WHERE merchant_id = ? AND business_day = ? AND state <> ?",
		merchantID, day.String(), string(Failed)).Scan(&used).Error; err != nil {
		return 0, fmt.Errorf("sum today's withdrawals: %w", err)
	}
	return paydesk.Amount(used), nil
}

// CreateAttempt records a payout attempt and sets its ID.
func (st *GormStore) CreateAttempt(ctx context.Context, a *Attempt) error {
	row := attemptRow(*a)
	if err := st.db.Writer(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("record payout %s: %w", a.Reference, err)
	}
	a.ID = row.ID
	return nil
}

// Attempt reads the attempt ref, for update if lock.
func (st *GormStore) Attempt(ctx context.Context, ref string, lock bool) (Attempt, error) {
	var rows []attemptRow
	q := st.db.Reader(ctx)
	sql := "SELECT * FROM payout_attempts WHERE reference = ? LIMIT 1"
	if lock {
		q, sql = st.db.Writer(ctx), sql+st.db.ForUpdate()
	}
	if err := q.Raw(sql, ref).Scan(&rows).Error; err != nil {
		return Attempt{}, fmt.Errorf("read payout %s: %w", ref, err)
	}
	if len(rows) == 0 {
		return Attempt{}, ErrPayoutNotFound.WithMessage("no payout %s", ref)
	}
	return Attempt(rows[0]), nil
}

// OpenAttempts lists the unanswered bank payouts due for a check.
func (st *GormStore) OpenAttempts(ctx context.Context, now time.Time, limit int) ([]Attempt, error) {
	var rows []attemptRow
	err := st.db.Reader(ctx).Where("status IN ? AND next_check_at <= ? AND channel = ?", []string{attemptSubmitting, string(bank.PayoutSubmitted)}, now, channelBank).
		Order("next_check_at").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list open payouts: %w", err)
	}
	return attempts(rows), nil
}

// PaidAttempts lists the bank payouts paid in [from, to).
func (st *GormStore) PaidAttempts(ctx context.Context, from, to time.Time) ([]Attempt, error) {
	var rows []attemptRow
	if err := st.db.Reader(ctx).Where("channel = ? AND status = ? AND bank_at >= ? AND bank_at < ?", channelBank, string(bank.PayoutPaid), from.UTC(), to.UTC()).
		Order("reference").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list paid payouts: %w", err)
	}
	return attempts(rows), nil
}

// UpdateAttempt changes an attempt that is still in one of the statuses from.
func (st *GormStore) UpdateAttempt(ctx context.Context, ref string, from []string, set map[string]any) (bool, error) {
	res := st.db.Writer(ctx).Model(&attemptRow{}).Where("reference = ? AND status IN ?", ref, from).Updates(set)
	if res.Error != nil {
		return false, fmt.Errorf("update payout %s: %w", ref, res.Error)
	}
	return res.RowsAffected == 1, nil
}

func (r bankAccountRow) account() BankAccount {
	return BankAccount{MerchantID: r.MerchantID, BankAccount: bank.BankAccount{Number: r.Number, Holder: r.Holder, BankName: r.BankName}, UpdatedAt: r.UpdatedAt}
}

// BankAccount reads the merchant's bound account.
func (st *GormStore) BankAccount(ctx context.Context, merchantID int64) (BankAccount, error) {
	var rows []bankAccountRow
	if err := st.db.Reader(ctx).Where("merchant_id = ?", merchantID).Limit(1).Find(&rows).Error; err != nil {
		return BankAccount{}, fmt.Errorf("read bank account: %w", err)
	}
	if len(rows) == 0 {
		return BankAccount{}, ErrNoBankAccount
	}
	return rows[0].account(), nil
}

// LockBankAccount reads the merchant's bank account for update.
func (st *GormStore) LockBankAccount(ctx context.Context, merchantID int64) (BankAccount, error) {
	var rows []bankAccountRow
	if err := st.db.Writer(ctx).Raw("SELECT * FROM merchant_bank_accounts WHERE merchant_id = ?"+st.db.ForUpdate(), merchantID).Scan(&rows).Error; err != nil {
		return BankAccount{}, fmt.Errorf("lock bank account: %w", err)
	}
	if len(rows) == 0 {
		return BankAccount{}, ErrNoBankAccount
	}
	return rows[0].account(), nil
}

// SaveBankAccount binds a, in one upsert: an UPDATE that changes nothing
// reports no rows on MySQL, which is not "no such row" (binding the same
// account again).
func (st *GormStore) SaveBankAccount(ctx context.Context, a BankAccount) error {
	row := bankAccountRow{MerchantID: a.MerchantID, Number: a.Number, Holder: a.Holder, BankName: a.BankName, UpdatedAt: a.UpdatedAt}
	err := st.db.Writer(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "merchant_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"number", "holder", "bank_name", "updated_at"})}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("save bank account: %w", err)
	}
	return nil
}

// PayoutMode reads the merchant's payout mode.
func (st *GormStore) PayoutMode(ctx context.Context, merchantID int64) (PayoutMode, bool, error) {
	var rows []payoutModeRow
	if err := st.db.Reader(ctx).Where("merchant_id = ?", merchantID).Limit(1).Find(&rows).Error; err != nil {
		return "", false, fmt.Errorf("read payout mode: %w", err)
	}
	if len(rows) == 0 {
		return "", false, nil
	}
	return PayoutMode(rows[0].Mode), true, nil
}

// SavePayoutMode sets the merchant's payout mode, in one upsert.
func (st *GormStore) SavePayoutMode(ctx context.Context, merchantID int64, mode PayoutMode, at time.Time) error {
	row := payoutModeRow{MerchantID: merchantID, Mode: string(mode), UpdatedAt: at}
	err := st.db.Writer(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "merchant_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"mode", "updated_at"})}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("save payout mode: %w", err)
	}
	return nil
}
