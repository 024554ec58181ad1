package wallet_test

import (
	"context"
	"database/sql"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
	"github.com/paydesk/paydesk/wallet"
)

// legacyWallet is a wallets row as paydesk wrote it before secrets were
// sealed (schema 13): the payment-code secret in hex, the TOTP secret in
// base32, both in plain form.
type legacyWallet struct {
	id                  int64
	phone, codeID       string
	codeSecret          []byte
	totpSecret          string
	noPasswordLimit     *int64 // nil: the column's default
	card                *[3]string
	cash, coupon        int64
	createdAt, updateAt time.Time
}

func int64p(n int64) *int64 { return &n }

var legacyWallets = []legacyWallet{
	{id: 3, phone: "13800138000", codeID: "12345678", codeSecret: []byte("0123456789abcdef0123456789abcdef"),
		totpSecret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", noPasswordLimit: int64p(50000),
		card: &[3]string{"tok_4242", "4242", "China Merchants Bank"}, cash: 101, coupon: 102,
		createdAt: time.Date(2025, 3, 1, 8, 30, 15, 123456000, time.UTC), updateAt: time.Date(2026, 1, 2, 3, 4, 5, 654321000, time.UTC)},
	// No card (NULL card columns) and the default no-password limit.
	{id: 7, phone: "13900139000", codeID: "00000001", codeSecret: []byte{0, 1, 2, 0xfe, 0xff},
		totpSecret: "JBSWY3DPEHPK3PXP", cash: 201, coupon: 202,
		createdAt: time.Date(2025, 6, 30, 23, 59, 59, 999999000, time.UTC), updateAt: time.Date(2025, 6, 30, 23, 59, 59, 999999000, time.UTC)},
	// The widest secrets the old columns held: 64 bytes in hex fill
	// code_secret, and a 64-character TOTP secret fills the old totp_secret.
	{id: 1000, phone: "17700177000", codeID: "99999999", codeSecret: []byte(strings.Repeat("k", 64)),
		totpSecret: strings.Repeat("ABCDEFGH", 8), noPasswordLimit: int64p(0),
		card: &[3]string{"tok_x", "0001", ""}, cash: 301, coupon: 302,
		createdAt: time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC), updateAt: time.Date(2025, 1, 1, 0, 0, 0, 1000, time.UTC)},
}

// insert writes w with the statement schema 13 accepts, naming only the
// columns an older paydesk wrote.
func (w legacyWallet) insert(t *testing.T, db *storage.DB) {
	t.Helper()
	cols := []string{"id", "phone", "password_hash", "currency", "code_id", "code_secret", "totp_secret",
		"cash_account_id", "coupon_account_id", "created_at", "updated_at"}
	vals := []any{w.id, w.phone, "$argon2id$v=19$m=64,t=1,p=1$" + w.phone, "CNY", w.codeID, hex.EncodeToString(w.codeSecret), w.totpSecret,
		w.cash, w.coupon, w.createdAt, w.updateAt}
	if w.noPasswordLimit != nil {
		cols, vals = append(cols, "no_password_limit"), append(vals, *w.noPasswordLimit)
	}
	if w.card != nil {
		cols, vals = append(cols, "card_token", "card_last4", "card_bank"), append(vals, w.card[0], w.card[1], w.card[2])
	}
	q := "INSERT INTO wallets (" + strings.Join(cols, ", ") + ") VALUES (?" + strings.Repeat(", ?", len(cols)-1) + ")"
	if _, err := db.SQL().Exec(q, vals...); err != nil {
		t.Fatalf("insert legacy wallet %d: %v", w.id, err)
	}
}

// walletColumns are every column of wallets, read as text so that a value
// changed in any way (type, precision, NULL) shows.
var walletColumns = []string{"id", "phone", "password_hash", "currency", "code_id", "code_secret", "totp_secret",
	"no_password_limit", "card_token", "card_last4", "card_bank", "cash_account_id", "coupon_account_id", "created_at", "updated_at"}

func walletsAsText(t *testing.T, db *storage.DB) map[int64]map[string]sql.NullString {
	t.Helper()
	rows, err := db.SQL().Query("SELECT " + strings.Join(walletColumns, ", ") + " FROM wallets ORDER BY id")
	if err != nil {
		t.Fatalf("read wallets: %v", err)
	}
	defer rows.Close()
	out := map[int64]map[string]sql.NullString{}
	for rows.Next() {
		vals := make([]sql.NullString, len(walletColumns))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatalf("read wallets: %v", err)
		}
		row := map[string]sql.NullString{}
		for i, c := range walletColumns {
			row[c] = vals[i]
		}
		id, err := strconv.ParseInt(row["id"].String, 10, 64)
		if err != nil {
			t.Fatalf("wallet id %q: %v", row["id"].String, err)
		}
		out[id] = row
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read wallets: %v", err)
	}
	return out
}

// Migration 00014 replaces totp_secret on tables that already hold wallets:
// every column of every row survives it, and the start-up pass then seals
// the plaintext secrets, which keep paying.
func TestSecretsMigrationKeepsLegacyWallets(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			db, err := storage.Open(storagetest.DSN(t, d), storage.Options{})
			if err != nil {
				t.Fatalf("open %s: %v", d, err)
			}
			t.Cleanup(func() { db.Close() })
			if err := db.MigrateTo(ctx, 13); err != nil {
				t.Fatalf("migrate to 13: %v", err)
			}
			if v, err := db.MigrationVersion(ctx); err != nil || v != 13 {
				t.Fatalf("schema version %d (%v), want 13", v, err)
			}
			for _, w := range legacyWallets {
				w.insert(t, db)
			}
			before := walletsAsText(t, db)
			if got := before[7]["no_password_limit"].String; got != "100000" {
				t.Fatalf("schema 13's default no-password limit reads %q", got)
			}

			if err := db.Migrate(ctx); err != nil {
				t.Fatalf("migrate to the newest version: %v", err)
			}
			after := walletsAsText(t, db)
			if len(after) != len(before) {
				t.Fatalf("%d wallets before the migration, %d after", len(before), len(after))
			}
			for id, row := range before {
				for _, c := range walletColumns {
					if after[id][c] != row[c] {
						t.Errorf("wallet %d: %s was %+v before the migration, %+v after", id, c, row[c], after[id][c])
					}
				}
			}
			if t.Failed() {
				t.FailNow()
			}
			checkWalletsSchema(t, db)

			// The start-up pass seals the legacy rows; their secrets still pay.
			f := newFixture(t, db)
			n, unreadable, err := wallet.NewGormStore(db, wallet.MustSealer(testDataKey)).SealPlaintextSecrets(ctx)
			if err != nil || n != len(legacyWallets) || len(unreadable) != 0 {
				t.Fatalf("seal plaintext secrets = %d, %v, %v; want %d wallets", n, unreadable, err, len(legacyWallets))
			}
			sealed := walletsAsText(t, db)
			for _, w := range legacyWallets {
				row := sealed[w.id]
				if !isSealed(row["code_secret"].String) || !isSealed(row["totp_secret"].String) {
					t.Fatalf("wallet %d after the pass: %q, %q", w.id, row["code_secret"].String, row["totp_secret"].String)
				}
				for _, c := range walletColumns {
					if c != "code_secret" && c != "totp_secret" && row[c] != before[w.id][c] {
						t.Errorf("wallet %d: the pass changed %s from %+v to %+v", w.id, c, before[w.id][c], row[c])
					}
				}
				code, err := wallet.GeneratePaymentCode(w.codeSecret, w.codeID, f.clock())
				if err != nil {
					t.Fatal(err)
				}
				if got, err := f.svc.ConsumePaymentCode(ctx, code); err != nil || int64(got) != w.id {
					t.Errorf("wallet %d's payment code after migrating and sealing: %d, %v", w.id, got, err)
				}
				if got, err := f.svc.VerifyDynamicPassword(ctx, w.phone, dynamicPasswordOf(t, w.totpSecret, f.clock()), testMerchant); err != nil || int64(got) != w.id {
					t.Errorf("wallet %d's dynamic password after migrating and sealing: %d, %v", w.id, got, err)
				}
			}
		})
	}
}

// checkWalletsSchema fails t unless the replaced totp_secret is NOT NULL and
// wide enough for a sealed secret, and the unique keys on phone and code id
// still hold.
func checkWalletsSchema(t *testing.T, db *storage.DB) {
	t.Helper()
	var nullable string
	var width int64
	q := "SELECT is_nullable, character_maximum_length FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'wallets' AND column_name = 'totp_secret'"
	if db.Dialect == storage.SQLite {
		q = "SELECT CASE \"notnull\" WHEN 1 THEN 'NO' ELSE 'YES' END, CAST(substr(type, instr(type, '(') + 1, length(type) - instr(type, '(') - 1) AS INTEGER) FROM pragma_table_info('wallets') WHERE name = 'totp_secret'"
	}
	if err := db.SQL().QueryRow(q).Scan(&nullable, &width); err != nil {
		t.Fatalf("totp_secret's definition: %v", err)
	}
	if nullable != "NO" || width < 255 {
		t.Errorf("totp_secret is nullable %s, %d characters; want NOT NULL and at least 255", nullable, width)
	}
	w := legacyWallets[0]
	for _, dup := range []struct{ what, phone, codeID string }{
		{"phone", w.phone, "55555555"},
		{"code id", "18800188000", w.codeID},
	} {
		_, err := db.SQL().Exec("INSERT INTO wallets (phone, password_hash, currency, code_id, code_secret, totp_secret, created_at, updated_at) VALUES (?, 'h', 'CNY', ?, 'ab', 'JBSWY3DP', ?, ?)",
			dup.phone, dup.codeID, w.createdAt, w.createdAt)
		if !storage.IsDuplicate(err) {
			t.Errorf("a second wallet with the same %s: %v; want a duplicate-key error", dup.what, err)
		}
	}
}
