package wallet_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
	"github.com/paydesk/paydesk/wallet"
)

func TestCheckDataKey(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		right := wallet.NewGormStore(db, wallet.MustSealer(testDataKey))
		wrong := wallet.NewGormStore(db, wallet.MustSealer([]byte("another-data-key-of-32-bytes-!!!")))
		if err := wrong.CheckDataKey(ctx); err != nil {
			t.Fatalf("an empty database: %v", err)
		}
		// Rows in plain form say nothing about the key.
		legacy := f.register(t, "13800138000")
		f.setStoredSecrets(t, legacy, storedSecrets{code: "ab", totp: "JBSWY3DPEHPK3PXP"})
		if err := wrong.CheckDataKey(ctx); err != nil {
			t.Fatalf("only plaintext rows: %v", err)
		}

		a := f.register(t, "13900139000")
		b := f.register(t, "13700137000")
		if err := right.CheckDataKey(ctx); err != nil {
			t.Fatalf("the right key: %v", err)
		}
		err := wrong.CheckDataKey(ctx)
		if !errors.Is(err, wallet.ErrDataKeyWrong) {
			t.Fatalf("the wrong key: %v; want ErrDataKeyWrong", err)
		}
		if s := f.storedSecrets(t, b); strings.Contains(err.Error(), s.code) || strings.Contains(err.Error(), s.totp) {
			t.Fatalf("the error shows a sealed secret: %v", err)
		}
		// The newest row copied from another does not open, but the one
		// before it does: the key is right.
		f.setStoredSecrets(t, b, f.storedSecrets(t, a))
		if err := right.CheckDataKey(ctx); err != nil {
			t.Fatalf("the right key with one copied row: %v", err)
		}
	})
}
