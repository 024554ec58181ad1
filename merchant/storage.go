package merchant

import (
	"context"

	"github.com/paydesk/paydesk"
)

// Storage is what the merchant service needs from the database.
type Storage interface {
	paydesk.TxRunner
	CreateMerchant(ctx context.Context, m *Merchant) error
	SetMerchantAccounts(ctx context.Context, id int64, a Accounts) error
	Merchant(ctx context.Context, id int64) (Merchant, error)
	// MerchantByMarker finds the merchant with a marker, ErrMerchantNotFound if none.
	MerchantByMarker(ctx context.Context, marker string) (Merchant, error)
	// Merchants lists merchants by id, after afterID, at most limit.
	Merchants(ctx context.Context, afterID int64, limit int) ([]Merchant, error)
	UpdateMerchantTerms(ctx context.Context, id int64, t Terms) error
	CreateStore(ctx context.Context, s *Store) error
	Store(ctx context.Context, merchantID, id int64) (Store, error)
	StoreByQRToken(ctx context.Context, token string) (Store, error)
	Stores(ctx context.Context, merchantID int64) ([]Store, error)
	UpdateStore(ctx context.Context, st Store) error
}
