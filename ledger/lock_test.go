package ledger_test

import (
	"context"
	"testing"

	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// Lock reads balances inside the caller's transaction, and a transfer
// posted there sees and keeps them.
func TestLockInsideATransaction(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		b := newBook(t, db)
		if _, err := b.Lock(ctx, b.merchant.ID); err == nil {
			t.Fatal("Lock outside a transaction succeeded")
		}
		if _, err := b.Post(ctx, ledger.Transfer{Reference: "t1", Kind: "test", Postings: []ledger.Posting{{Source: b.world.ID, Destination: b.merchant.ID, Amount: 500}}}, nil); err != nil {
			t.Fatal(err)
		}
		err := db.InTx(ctx, func(ctx context.Context) error {
			got, err := b.Lock(ctx, b.merchant.ID, b.customer.ID, b.merchant.ID)
			if err != nil {
				return err
			}
			if len(got) != 2 || got[b.merchant.ID].Balance != 500 || got[b.customer.ID].Balance != 0 {
				t.Errorf("locked = %+v", got)
			}
			_, err = b.Post(ctx, ledger.Transfer{Reference: "t2", Kind: "test", Postings: []ledger.Posting{{Source: b.merchant.ID, Destination: b.customer.ID, Amount: got[b.merchant.ID].Balance}}}, nil)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if b.balance(t, b.merchant) != 0 || b.balance(t, b.customer) != 500 {
			t.Fatalf("after the locked transfer: merchant %d, customer %d", b.balance(t, b.merchant), b.balance(t, b.customer))
		}
		err = db.InTx(ctx, func(ctx context.Context) error {
			_, err := b.Lock(ctx, 999999)
			return err
		})
		if err == nil {
			t.Fatal("Lock of an unknown account succeeded")
		}
		b.mustBeSound(t)
	})
}
