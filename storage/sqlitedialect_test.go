package storage

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"
	sqlite3 "modernc.org/sqlite/lib"
)

func openSQLiteTest(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "paydesk.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, q := range []string{
		"CREATE TABLE p (id INTEGER PRIMARY KEY, at DATETIME)",
		"CREATE TABLE c (id INTEGER PRIMARY KEY, p INTEGER NOT NULL REFERENCES p (id))",
	} {
		if _, err := db.SQL().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	return db, path
}

type pRow struct {
	ID int64
	At time.Time
}

func (pRow) TableName() string { return "p" }

// UTC times (all the application writes) are stored as the glebarez driver
// stored them and read back as it read them, in UTC, equal with ==. A time
// in another zone is now stored in UTC too (glebarez kept its offset).
func TestSQLiteTimesRoundTripInUTC(t *testing.T) {
	db, _ := openSQLiteTest(t)
	ctx := context.Background()
	at := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	rows := []pRow{{At: at}, {At: at.In(time.FixedZone("CST", 8*3600))}}
	if err := db.Writer(ctx).Create(&rows).Error; err != nil {
		t.Fatal(err)
	}
	if rows[0].ID != 1 || rows[1].ID != 2 {
		t.Fatalf("ids %d, %d: RETURNING did not fill them", rows[0].ID, rows[1].ID)
	}
	if err := db.Writer(ctx).Exec("INSERT INTO p (id, at) VALUES (3, '2026-01-01 00:00:00')").Error; err != nil {
		t.Fatal(err)
	}
	var text []string
	db.Reader(ctx).Raw("SELECT at || '' FROM p ORDER BY id").Scan(&text)
	if want := "2026-01-02 03:04:05.123456789+00:00"; len(text) != 3 || text[0] != want || text[1] != want {
		t.Fatalf("stored %q, want %q twice", text, want)
	}
	var got []pRow
	if err := db.Reader(ctx).Order("id").Find(&got).Error; err != nil {
		t.Fatal(err)
	}
	for i, want := range []time.Time{at, at, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} {
		if got[i].At != want {
			t.Errorf("row %d read back as %v (%s), want %v", i+1, got[i].At, got[i].At.Location(), want)
		}
	}
}

func TestSQLiteConstraintErrors(t *testing.T) {
	db, _ := openSQLiteTest(t)
	ctx := context.Background()
	w := db.Writer(ctx)
	if err := w.Exec("INSERT INTO p (id) VALUES (1)").Error; err != nil {
		t.Fatal(err)
	}
	err := w.Exec("INSERT INTO p (id) VALUES (1)").Error
	if !errors.Is(err, gorm.ErrDuplicatedKey) || !IsDuplicate(err) {
		t.Fatalf("duplicate primary key: %v", err)
	}
	// Without gorm's translation, the code alone tells.
	_, err = db.SQL().Exec("INSERT INTO p (id) VALUES (1)")
	if code := sqliteCode(err); code != sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || !IsDuplicate(err) {
		t.Fatalf("duplicate on database/sql: code %d, %v", code, err)
	}
	if err := w.Exec("INSERT INTO c (p) VALUES (42)").Error; !errors.Is(err, gorm.ErrForeignKeyViolated) {
		t.Fatalf("dangling reference: %v, want a foreign key violation", err)
	}
}

func TestSQLiteBusyIsRetryable(t *testing.T) {
	db, path := openSQLiteTest(t)
	other, err := openSQLitePool(path+"?_pragma=busy_timeout(0)&_txlock=immediate", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	holding, done := make(chan struct{}), make(chan struct{})
	go db.InTx(context.Background(), func(ctx context.Context) error {
		db.Writer(ctx).Exec("INSERT INTO p (id) VALUES (7)")
		close(holding)
		<-done
		return nil
	})
	<-holding
	_, err = other.Exec("INSERT INTO p (id) VALUES (8)")
	close(done)
	if !IsRetryable(err) || sqliteCode(err)&0xff != sqlite3.SQLITE_BUSY {
		t.Fatalf("write while another holds the lock: %v (code %d), want SQLITE_BUSY", err, sqliteCode(err))
	}
}

func TestSQLiteOffsetWithoutLimit(t *testing.T) {
	db, _ := openSQLiteTest(t)
	ctx := context.Background()
	for _, id := range []int{1, 2, 3} {
		db.Writer(ctx).Exec("INSERT INTO p (id) VALUES (?)", id)
	}
	var ids []int64
	if err := db.Reader(ctx).Model(&pRow{}).Order("id").Offset(1).Pluck("id", &ids).Error; err != nil || len(ids) != 2 || ids[0] != 2 {
		t.Fatalf("offset 1: %v, %v", ids, err)
	}
	ids = nil
	if err := db.Reader(ctx).Model(&pRow{}).Order("id").Offset(1).Limit(1).Pluck("id", &ids).Error; err != nil || len(ids) != 1 || ids[0] != 2 {
		t.Fatalf("offset 1 limit 1: %v, %v", ids, err)
	}
	// Limits are literals: a bound LIMIT expires SQLite's prepared
	// statement at every bind, which would defeat the statement cache.
	var rows []pRow
	sql := db.Reader(ctx).Session(&gorm.Session{DryRun: true}).Where("id > ?", 0).Offset(2).Limit(1).Find(&rows).Statement.SQL.String()
	if !strings.HasSuffix(sql, "LIMIT 1 OFFSET 2") {
		t.Fatalf("SQL %q: want literal LIMIT 1 OFFSET 2", sql)
	}
}

func TestSQLiteQuoteTo(t *testing.T) {
	for in, want := range map[string]string{
		"orders":         "`orders`",
		"orders.id":      "`orders`.`id`",
		"`orders`.id":    "`orders`.`id`",
		"we`ird":         "`we``ird`",
		"main.orders.id": "`main`.`orders`.`id`",
	} {
		var b strings.Builder
		sqliteDialector{}.QuoteTo(&b, in)
		if b.String() != want {
			t.Errorf("QuoteTo(%q) = %s, want %s", in, b.String(), want)
		}
	}
}
