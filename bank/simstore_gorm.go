package bank

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/storage"
)

// GormSimStore keeps the simulated bank in paydesk's database, in the
// bank_sim_* tables of migration 00015. Uniqueness of every reference is a
// unique index, and a refund's bound is a conditional UPDATE of its debit,
// so concurrent calls on several instances keep the contract.
type GormSimStore struct{ db *storage.DB }

// NewGormSimStore returns the simulated bank's store in db.
func NewGormSimStore(db *storage.DB) *GormSimStore { return &GormSimStore{db: db} }

var _ SimStore = (*GormSimStore)(nil)

type simCardRow struct {
	Token     string `gorm:"primaryKey"`
	Number    string
	CreatedAt time.Time
}

func (simCardRow) TableName() string { return "bank_sim_cards" }

type simDebitRow struct {
	ID            int64 `gorm:"primaryKey"`
	Reference     string
	CardToken     string
	Amount        int64
	Currency      string
	BankReference string
	Declined      int
	Refunded      int64
	CreatedAt     time.Time
}

func (simDebitRow) TableName() string { return "bank_sim_debits" }

func (r simDebitRow) debit() SimDebit {
	req := DebitRequest{Reference: r.Reference, CardToken: r.CardToken, Amount: paydesk.Amount(r.Amount), Currency: paydesk.Currency(r.Currency)}
	d := SimDebit{Req: req, Declined: r.Declined != 0, Refunded: paydesk.Amount(r.Refunded)}
	if !d.Declined {
		d.Res = DebitResult{Reference: r.Reference, BankReference: r.BankReference, Amount: req.Amount, Currency: req.Currency, At: r.CreatedAt.UTC()}
	}
	return d
}

type simRefundRow struct {
	ID             int64 `gorm:"primaryKey"`
	Reference      string
	DebitReference string
	Amount         int64
	Currency       string
	BankReference  string
	CreatedAt      time.Time
}

func (simRefundRow) TableName() string { return "bank_sim_refunds" }

func (r simRefundRow) refund() SimRefund {
	req := RefundRequest{Reference: r.Reference, DebitReference: r.DebitReference, Amount: paydesk.Amount(r.Amount), Currency: paydesk.Currency(r.Currency)}
	return SimRefund{Req: req, Res: RefundResult{Reference: r.Reference, DebitReference: r.DebitReference, BankReference: r.BankReference,
		Amount: req.Amount, Currency: req.Currency, At: r.CreatedAt.UTC()}}
}

type simPayoutRow struct {
	ID            int64 `gorm:"primaryKey"`
	Reference     string
	AccountNumber string
	AccountHolder string
	AccountBank   string
	Amount        int64
	Currency      string
	BankReference string
	Status        string
	Reason        string
	UpdatedAt     time.Time
}

func (simPayoutRow) TableName() string { return "bank_sim_payouts" }

func (r simPayoutRow) payout() SimPayout {
	req := PayoutRequest{Reference: r.Reference, Account: BankAccount{Number: r.AccountNumber, Holder: r.AccountHolder, BankName: r.AccountBank},
		Amount: paydesk.Amount(r.Amount), Currency: paydesk.Currency(r.Currency)}
	return SimPayout{Req: req, P: Payout{Reference: r.Reference, BankReference: r.BankReference, Amount: req.Amount, Currency: req.Currency,
		Status: PayoutStatus(r.Status), Reason: r.Reason, UpdatedAt: r.UpdatedAt.UTC()}}
}

// first reads the row of model by reference into row; found is false if none.
func first[T any](ctx context.Context, db *gorm.DB, ref string) (T, bool, error) {
	var row T
	err := db.WithContext(ctx).Where("reference = ?", ref).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return row, false, nil
	}
	return row, err == nil, err
}

func (s *GormSimStore) AddCard(ctx context.Context, token, number string, at time.Time) error {
	if err := s.db.Writer(ctx).Create(&simCardRow{Token: token, Number: number, CreatedAt: at.UTC()}).Error; err != nil {
		return fmt.Errorf("bank simulator: bind card: %w", err)
	}
	return nil
}

func (s *GormSimStore) CardNumber(ctx context.Context, token string) (string, bool, error) {
	var row simCardRow
	err := s.db.Writer(ctx).Where("token = ?", token).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("bank simulator: card: %w", err)
	}
	return row.Number, true, nil
}

func (s *GormSimStore) Debit(ctx context.Context, ref string) (SimDebit, bool, error) {
	row, found, err := first[simDebitRow](ctx, s.db.Writer(ctx), ref)
	if err != nil {
		return SimDebit{}, false, fmt.Errorf("bank simulator: debit: %w", err)
	}
	return row.debit(), found, nil
}

func (s *GormSimStore) AddDebit(ctx context.Context, d SimDebit) (SimDebit, bool, error) {
	declined := 0
	if d.Declined {
		declined = 1
	}
	at := d.Res.At
	if at.IsZero() {
		at = time.Now()
	}
	row := simDebitRow{Reference: d.Req.Reference, CardToken: d.Req.CardToken, Amount: int64(d.Req.Amount), Currency: string(d.Req.Currency),
		BankReference: d.Res.BankReference, Declined: declined, CreatedAt: at.UTC()}
	err := s.db.Writer(ctx).Create(&row).Error
	if storage.IsDuplicate(err) {
		stored, _, err := s.Debit(ctx, d.Req.Reference)
		return stored, false, err
	}
	if err != nil {
		return SimDebit{}, false, fmt.Errorf("bank simulator: debit: %w", err)
	}
	return row.debit(), true, nil
}

func (s *GormSimStore) Debits(ctx context.Context) ([]DebitResult, error) {
	var rows []simDebitRow
	if err := s.db.Writer(ctx).Where("declined = 0").Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("bank simulator: debits: %w", err)
	}
	out := make([]DebitResult, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.debit().Res)
	}
	return out, nil
}

func (s *GormSimStore) Refund(ctx context.Context, ref string) (SimRefund, bool, error) {
	row, found, err := first[simRefundRow](ctx, s.db.Writer(ctx), ref)
	if err != nil {
		return SimRefund{}, false, fmt.Errorf("bank simulator: refund: %w", err)
	}
	return row.refund(), found, nil
}

func (s *GormSimStore) AddRefund(ctx context.Context, r SimRefund) (SimRefund, bool, error) {
	row := simRefundRow{Reference: r.Req.Reference, DebitReference: r.Req.DebitReference, Amount: int64(r.Req.Amount), Currency: string(r.Req.Currency),
		BankReference: r.Res.BankReference, CreatedAt: r.Res.At.UTC()}
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		// The bound and the record in one transaction: the conditional
		// UPDATE locks the debit's row, so concurrent refunds of one debit
		// take turns and never add up to more than it.
		res := s.db.Writer(ctx).Exec(`UPDATE bank_sim_debits SET refunded = refunded + ?
		  WHERE reference = ? AND declined = 0 AND currency = ? AND refunded + ? <= amount`,
			row.Amount, row.DebitReference, row.Currency, row.Amount)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			d, found, err := first[simDebitRow](ctx, s.db.Writer(ctx), row.DebitReference)
			if err != nil {
				return err
			}
			dd := d.debit()
			if err := refundFits(&dd, found, r.Req); err != nil {
				return err
			}
			return fmt.Errorf("refund of debit %s did not apply", row.DebitReference)
		}
		return s.db.Writer(ctx).Create(&row).Error
	})
	if storage.IsDuplicate(err) {
		stored, _, err := s.Refund(ctx, r.Req.Reference)
		return stored, false, err
	}
	if err != nil {
		// A refund of this reference may have won meanwhile and used up the debit.
		if stored, found, rerr := s.Refund(ctx, r.Req.Reference); rerr == nil && found {
			return stored, false, nil
		}
		var pe *paydesk.Error
		if errors.As(err, &pe) {
			return SimRefund{}, false, err
		}
		return SimRefund{}, false, fmt.Errorf("bank simulator: refund: %w", err)
	}
	return row.refund(), true, nil
}

func (s *GormSimStore) Refunds(ctx context.Context) ([]RefundResult, error) {
	var rows []simRefundRow
	if err := s.db.Writer(ctx).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("bank simulator: refunds: %w", err)
	}
	out := make([]RefundResult, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.refund().Res)
	}
	return out, nil
}

func (s *GormSimStore) Payout(ctx context.Context, ref string) (SimPayout, bool, error) {
	row, found, err := first[simPayoutRow](ctx, s.db.Writer(ctx), ref)
	if err != nil {
		return SimPayout{}, false, fmt.Errorf("bank simulator: payout: %w", err)
	}
	return row.payout(), found, nil
}

func (s *GormSimStore) AddPayout(ctx context.Context, p SimPayout) (SimPayout, bool, error) {
	row := simPayoutRow{Reference: p.Req.Reference, AccountNumber: p.Req.Account.Number, AccountHolder: p.Req.Account.Holder, AccountBank: p.Req.Account.BankName,
		Amount: int64(p.Req.Amount), Currency: string(p.Req.Currency), BankReference: p.P.BankReference, Status: string(p.P.Status), Reason: p.P.Reason,
		UpdatedAt: p.P.UpdatedAt.UTC()}
	err := s.db.Writer(ctx).Create(&row).Error
	if storage.IsDuplicate(err) {
		stored, _, err := s.Payout(ctx, p.Req.Reference)
		return stored, false, err
	}
	if err != nil {
		return SimPayout{}, false, fmt.Errorf("bank simulator: payout: %w", err)
	}
	return row.payout(), true, nil
}

func (s *GormSimStore) DecidePayout(ctx context.Context, ref string, status PayoutStatus, reason string, at time.Time) (SimPayout, bool, error) {
	res := s.db.Writer(ctx).Exec("UPDATE bank_sim_payouts SET status = ?, reason = ?, updated_at = ? WHERE reference = ? AND status = ?",
		string(status), reason, at.UTC(), ref, string(PayoutSubmitted))
	if res.Error != nil {
		return SimPayout{}, false, fmt.Errorf("bank simulator: decide payout: %w", res.Error)
	}
	p, found, err := s.Payout(ctx, ref)
	if err != nil {
		return SimPayout{}, false, err
	}
	if !found {
		return SimPayout{}, false, ErrPayoutNotFound
	}
	return p, res.RowsAffected == 1, nil
}

func (s *GormSimStore) SubmittedPayouts(ctx context.Context) ([]string, error) {
	var refs []string
	if err := s.db.Writer(ctx).Model(&simPayoutRow{}).Where("status = ?", string(PayoutSubmitted)).Order("id").Pluck("reference", &refs).Error; err != nil {
		return nil, fmt.Errorf("bank simulator: submitted payouts: %w", err)
	}
	return refs, nil
}

func (s *GormSimStore) Payouts(ctx context.Context) ([]SimPayout, error) {
	var rows []simPayoutRow
	if err := s.db.Writer(ctx).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("bank simulator: payouts: %w", err)
	}
	out := make([]SimPayout, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.payout())
	}
	return out, nil
}
