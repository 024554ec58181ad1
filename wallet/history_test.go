package wallet_test

import (
	"context"
	"testing"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

func TestTransactionsNewestFirstInPages(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		id := f.register(t, "13800138000")
		other := f.register(t, "13900139000")
		f.fund(t, id, 5000, "t-1")
		f.fund(t, other, 100, "t-other") // another wallet's movement is not listed
		f.coupon(t, id, 300, day, "gift-1")
		if _, err := f.pay(ctx, id, 1, 1000, "order-1"); err != nil {
			t.Fatal(err)
		}
		f.fund(t, id, 2000, "t-2")

		type row struct {
			kind         string
			cash, coupon paydesk.Amount
		}
		want := []row{{"topup", 2000, 0}, {"payment", -700, -300}, {"coupon_issue", 0, 300}, {"topup", 5000, 0}}
		var got []row
		var cursor int64
		pages := 0
		for {
			p, err := f.svc.Transactions(ctx, id, cursor, 3)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, tx := range p.Items {
				if tx.Reference == "" || tx.At.IsZero() {
					t.Errorf("transaction without a reference or time: %+v", tx)
				}
				got = append(got, row{tx.Kind, tx.Cash, tx.Coupon})
			}
			if p.Next == 0 {
				break
			}
			cursor = p.Next
		}
		if pages != 2 || len(got) != len(want) {
			t.Fatalf("%d pages with %v, want 2 pages with %v", pages, got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("transaction %d = %+v, want %+v", i, got[i], want[i])
			}
		}
		_, err := f.svc.Transactions(ctx, id, -1, 10)
		wantCode(t, "negative cursor", err, "INVALID_ARGUMENT")
	})
}
