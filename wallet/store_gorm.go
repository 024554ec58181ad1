package wallet

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/storage"
)

// GormStore keeps wallets in the application database (migration 00004),
// their secrets sealed by a Sealer (sealer.go).
type GormStore struct {
	db     *storage.DB
	sealer *Sealer
}

// NewGormStore returns a Store over db that seals the wallets' secrets with
// sealer, which is required.
func NewGormStore(db *storage.DB, sealer *Sealer) *GormStore {
	if sealer == nil {
		panic("wallet: NewGormStore needs a Sealer")
	}
	return &GormStore{db: db, sealer: sealer}
}

var _ Store = (*GormStore)(nil)

// InTx runs fn in a transaction, or in the one ctx carries.
func (s *GormStore) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return s.db.InTx(ctx, fn)
}

// InTransaction reports whether ctx carries a transaction.
func (s *GormStore) InTransaction(ctx context.Context) bool { return storage.InTxContext(ctx) }

type walletRow struct {
	ID              int64
	Phone           string
	PasswordHash    string
	Currency        string
	CodeID          string `gorm:"column:code_id"`
	CodeSecret      string `gorm:"column:code_secret"` // sealed; hex before secrets were sealed
	TOTPSecret      string `gorm:"column:totp_secret"` // sealed; base32 before secrets were sealed
	NoPasswordLimit int64
	CardToken       *string
	CardLast4       *string `gorm:"column:card_last4"`
	CardBank        *string
	CashAccountID   int64 `gorm:"column:cash_account_id"`
	CouponAccountID int64 `gorm:"column:coupon_account_id"`
	VouchersUntil   *time.Time
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

func (walletRow) TableName() string { return "wallets" }

// walletColumns are the columns scanWallet reads, in its order.
const walletColumns = "id, phone, password_hash, currency, code_id, code_secret, totp_secret, no_password_limit, " +
	"card_token, card_last4, card_bank, cash_account_id, coupon_account_id, vouchers_until, created_at, updated_at"

func scanWallet(sc storage.Scanner, r *walletRow) error { return sc.Scan(r.dest()...) }

// dest are the scan targets of walletColumns, in order.
func (r *walletRow) dest() []any {
	return []any{&r.ID, &r.Phone, &r.PasswordHash, &r.Currency, &r.CodeID, &r.CodeSecret, &r.TOTPSecret, &r.NoPasswordLimit,
		&r.CardToken, &r.CardLast4, &r.CardBank, &r.CashAccountID, &r.CouponAccountID, &r.VouchersUntil, &r.CreatedAt, &r.UpdatedAt}
}

// secrets opens the row's two secrets; legacy reports that either was
// stored in plain form.
func (r walletRow) secrets(s *Sealer) (code []byte, totp string, legacy bool, err error) {
	id := WalletID(r.ID)
	code, legacyCode, err := openSecret(s, id, colCodeSecret, r.CodeSecret)
	if err != nil {
		return nil, "", false, err
	}
	if legacyCode {
		if code, err = hex.DecodeString(r.CodeSecret); err != nil {
			return nil, "", false, fmt.Errorf("wallet %d: corrupt payment-code secret", r.ID)
		}
	}
	t, legacyTOTP, err := openSecret(s, id, colTOTPSecret, r.TOTPSecret)
	if err != nil {
		return nil, "", false, err
	}
	return code, string(t), legacyCode || legacyTOTP, nil
}

func (r walletRow) wallet(s *Sealer) (Wallet, error) {
	secret, totp, _, err := r.secrets(s)
	if err != nil {
		return Wallet{}, err
	}
	w := Wallet{ID: WalletID(r.ID), Phone: r.Phone, PasswordHash: r.PasswordHash, Currency: paydesk.Currency(r.Currency),
		CodeID: r.CodeID, CodeSecret: secret, TOTPSecret: totp, NoPasswordLimit: paydesk.Amount(r.NoPasswordLimit),
		CashAccount: ledger.AccountID(r.CashAccountID), CouponAccount: ledger.AccountID(r.CouponAccountID), CreatedAt: r.CreatedAt}
	if r.CardToken != nil {
		w.Card = &bank.Card{Token: *r.CardToken, Last4: deref(r.CardLast4), BankName: deref(r.CardBank)}
	}
	if r.VouchersUntil != nil {
		w.VouchersUntil = r.VouchersUntil.UTC()
	}
	return w, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// sealSecrets returns the columns that store w's secrets.
func (s *GormStore) sealSecrets(id WalletID, code []byte, totp string) (map[string]any, error) {
	c, err := sealSecret(s.sealer, id, colCodeSecret, code)
	if err != nil {
		return nil, err
	}
	t, err := sealSecret(s.sealer, id, colTOTPSecret, []byte(totp))
	if err != nil {
		return nil, err
	}
	return map[string]any{colCodeSecret: c, colTOTPSecret: t}, nil
}

// CreateWallet inserts w and sets its ID. The secrets are sealed with the
// new id as additional data, so they are written after the insert, in its
// transaction; the row never holds them in plain form.
func (s *GormStore) CreateWallet(ctx context.Context, w *Wallet) error {
	return s.db.InTx(ctx, func(ctx context.Context) error { return s.createWallet(ctx, w) })
}

func (s *GormStore) createWallet(ctx context.Context, w *Wallet) error {
	at := w.CreatedAt.UTC()
	row := walletRow{Phone: w.Phone, PasswordHash: w.PasswordHash, Currency: string(w.Currency), CodeID: w.CodeID,
		NoPasswordLimit: int64(w.NoPasswordLimit), CreatedAt: at, UpdatedAt: at}
	err := s.db.Writer(ctx).Create(&row).Error
	if storage.IsDuplicate(err) {
		// Two unique keys: find out which one, rather than parse the message.
		var n int64
		if err := s.db.Writer(ctx).Model(&walletRow{}).Where("phone = ?", w.Phone).Count(&n).Error; err != nil {
			return fmt.Errorf("create wallet: %w", err)
		}
		if n > 0 {
			return ErrPhoneTaken
		}
		return errCodeIDTaken
	}
	if err != nil {
		return fmt.Errorf("create wallet: %w", err)
	}
	sealed, err := s.sealSecrets(WalletID(row.ID), w.CodeSecret, w.TOTPSecret)
	if err != nil {
		return fmt.Errorf("create wallet: %w", err)
	}
	if err := s.db.Writer(ctx).Model(&walletRow{}).Where("id = ?", row.ID).Updates(sealed).Error; err != nil {
		return fmt.Errorf("create wallet: %w", err)
	}
	w.ID = WalletID(row.ID)
	return nil
}

func (s *GormStore) update(ctx context.Context, id WalletID, fields map[string]any) error {
	fields["updated_at"] = paydesk.SystemClock()
	res := s.db.Writer(ctx).Model(&walletRow{}).Where("id = ?", int64(id)).Updates(fields)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		// MySQL counts changed rows, not matched ones: look before concluding.
		if _, err := s.WalletByID(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// SetAccounts records the wallet's ledger accounts.
func (s *GormStore) SetAccounts(ctx context.Context, id WalletID, cash, coupon ledger.AccountID) error {
	return s.update(ctx, id, map[string]any{"cash_account_id": int64(cash), "coupon_account_id": int64(coupon)})
}

// SetCard records the bound card.
func (s *GormStore) SetCard(ctx context.Context, id WalletID, c bank.Card) error {
	return s.update(ctx, id, map[string]any{"card_token": c.Token, "card_last4": c.Last4, "card_bank": c.BankName})
}

// SetCodeSecret replaces the payment-code secret.
func (s *GormStore) SetCodeSecret(ctx context.Context, id WalletID, secret []byte) error {
	sealed, err := sealSecret(s.sealer, id, colCodeSecret, secret)
	if err != nil {
		return err
	}
	return s.update(ctx, id, map[string]any{colCodeSecret: sealed})
}

// SetNoPasswordLimit changes the no-password limit.
func (s *GormStore) SetNoPasswordLimit(ctx context.Context, id WalletID, limit paydesk.Amount) error {
	return s.update(ctx, id, map[string]any{"no_password_limit": int64(limit)})
}

// WalletByID reads a wallet.
func (s *GormStore) WalletByID(ctx context.Context, id WalletID) (Wallet, error) {
	return s.oneWallet(ctx, "id = ?", int64(id))
}

// WalletByPhone reads the wallet of a normalized phone.
func (s *GormStore) WalletByPhone(ctx context.Context, phone string) (Wallet, error) {
	return s.oneWallet(ctx, "phone = ?", phone)
}

// WalletByCodeID reads the wallet a payment code names, with the balances
// of its cash and coupon accounts (see Wallet.balances) and the code's
// attempts row (into ahead, for Attempts.ClaimCheckAhead).
//
// The balances come from the ledger's table and the attempts row from the
// attempt counter's, joined here rather than read through their owners,
// because every code payment needs all three: one statement instead of
// three on the hottest read path. The balances are read without a lock, as
// Ledger.Balances reads them, and only plan the payment; the ledger checks
// the real balances when it posts.
func (s *GormStore) WalletByCodeID(ctx context.Context, codeID string, ahead *storage.AttemptRead) (Wallet, error) {
	type withBalances struct {
		walletRow
		cash, coupon sql.NullInt64
	}
	scan := func(sc storage.Scanner, r *withBalances) error {
		dest := append(r.walletRow.dest(), &r.cash, &r.coupon)
		return sc.Scan(append(dest, ahead.Dest()...)...)
	}
	r, found, err := storage.QueryOne(ctx, s.db, scan, walletByCodeSQL, ahead.Key, codeID)
	if err != nil {
		return Wallet{}, fmt.Errorf("read wallet: %w", err)
	}
	if !found {
		return Wallet{}, ErrWalletNotFound
	}
	w, err := r.wallet(s.sealer)
	if err != nil {
		return Wallet{}, err
	}
	// A wallet whose accounts are not set up yet (or gone) has no balances
	// to offer; plan then asks the ledger, which says what is wrong.
	if r.cash.Valid && r.coupon.Valid {
		w.balances = &walletBalances{cash: paydesk.Amount(r.cash.Int64), coupon: paydesk.Amount(r.coupon.Int64)}
	}
	return w, nil
}

// walletByCodeSQL is WalletByCodeID's statement: walletColumns of the
// wallet, the balances of its cash and coupon accounts, the attempts row;
// its arguments are the attempt key and the code id.
var walletByCodeSQL = "SELECT w." + strings.ReplaceAll(walletColumns, ", ", ", w.") +
	", cash.balance, coupon.balance, " + storage.AttemptColumnsSQL("att") + " FROM wallets w" +
	" LEFT JOIN ledger_accounts cash ON cash.id = w.cash_account_id" +
	" LEFT JOIN ledger_accounts coupon ON coupon.id = w.coupon_account_id" +
	storage.AttemptJoinSQL("att") +
	" WHERE w.code_id = ? LIMIT 1"

// oneWallet reads the wallet matching where. Every code payment finds its
// wallet by code id, so this goes around gorm (see storage.QueryOne).
func (s *GormStore) oneWallet(ctx context.Context, where string, arg any) (Wallet, error) {
	r, found, err := storage.QueryOne(ctx, s.db, scanWallet, "SELECT "+walletColumns+" FROM wallets WHERE "+where+" LIMIT 1", arg)
	if err != nil {
		return Wallet{}, fmt.Errorf("read wallet: %w", err)
	}
	if !found {
		return Wallet{}, ErrWalletNotFound
	}
	return r.wallet(s.sealer)
}

// UseCode records a used code; the primary key refuses a second use.
func (s *GormStore) UseCode(ctx context.Context, id WalletID, kind byte, counter int64, at time.Time) error {
	// Inside a ledger batch the row is gathered with the batch's others; a
	// second use then fails the batch's flush, and the request retried on
	// its own gets errCodeUsed.
	err := s.db.Insert(ctx, "wallet_used_codes", []string{"wallet_id", "kind", "counter", "used_at"},
		int64(id), string(kind), counter, at.UTC())
	if storage.IsDuplicate(err) {
		return errCodeUsed
	}
	return err
}

// CashAccountsByPhonePrefix returns the cash accounts of wallets by phone.
func (s *GormStore) CashAccountsByPhonePrefix(ctx context.Context, prefix string) (map[string]ledger.AccountID, error) {
	var rows []struct {
		Phone         string
		CashAccountID int64
	}
	err := s.db.Reader(ctx).Raw("SELECT phone, cash_account_id FROM wallets WHERE phone LIKE ? AND cash_account_id <> 0",
		strings.ReplaceAll(prefix, "%", "")+"%").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("cash accounts by phone: %w", err)
	}
	out := make(map[string]ledger.AccountID, len(rows))
	for _, r := range rows {
		out[r.Phone] = ledger.AccountID(r.CashAccountID)
	}
	return out, nil
}

// CodeUsed reports whether a code has paid.
func (s *GormStore) CodeUsed(ctx context.Context, id WalletID, kind byte, counter int64) (bool, error) {
	var n int64
	err := s.db.Reader(ctx).Raw("SELECT COUNT(*) FROM wallet_used_codes WHERE wallet_id = ? AND kind = ? AND counter = ?",
		int64(id), string(kind), counter).Scan(&n).Error
	return n > 0, err
}

// ForgetUsedCodes deletes records of uses before t.
func (s *GormStore) ForgetUsedCodes(ctx context.Context, before time.Time) (int64, error) {
	res := s.db.Writer(ctx).Exec("DELETE FROM wallet_used_codes WHERE used_at < ?", before.UTC())
	return res.RowsAffected, res.Error
}
