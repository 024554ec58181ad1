package storagetest

import (
	"context"
	"reflect"
	"testing"

	"github.com/paydesk/paydesk/storage"
)

// ScanMatchesGorm inserts rows with gorm and fails t unless query, read
// with scan (as storage.QueryOne and QueryAll do), returns the rows gorm's
// Find reads back into the same row type, which matches columns to fields
// by name. It catches a column list and a scan function that disagree, or
// that leave a column out, as long as rows give every column a value its
// neighbours of the same type do not have, and nullable columns both NULL
// and a value.
func ScanMatchesGorm[T any](t testing.TB, db *storage.DB, rows []T, scan func(storage.Scanner, *T) error, query string) {
	t.Helper()
	ctx := context.Background()
	if len(rows) == 0 {
		t.Fatal("no rows to compare")
	}
	if err := db.Writer(ctx).Create(&rows).Error; err != nil {
		t.Fatalf("insert %T: %v", rows[0], err)
	}
	var want []T
	if err := db.Reader(ctx).Find(&want).Error; err != nil {
		t.Fatalf("gorm read of %T: %v", rows[0], err)
	}
	got, err := storage.QueryAll(ctx, db, scan, query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	if len(got) != len(want) {
		t.Fatalf("%s read %d rows, gorm %d", query, len(got), len(want))
	}
	// Neither read orders its rows; pair them up by value.
	used := make([]bool, len(want))
next:
	for _, g := range got {
		for i, w := range want {
			if !used[i] && reflect.DeepEqual(g, w) {
				used[i] = true
				continue next
			}
		}
		t.Errorf("%s read %+v, which gorm did not read; gorm read %+v", query, g, want)
	}
}
