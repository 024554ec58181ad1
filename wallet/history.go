package wallet

import (
	"context"
	"fmt"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/ledger"
)

// Transaction is one movement of a wallet's money: one ledger transfer seen
// from the wallet. Vouchers are not the wallet's money, so a payment shows
// only what it took from cash and coupons.
type Transaction struct {
	ID        int64 // the ledger transfer's id; also the paging cursor
	Reference string
	Kind      string // topup, payment, refund, coupon_issue, coupon_expiry, ...
	Memo      string
	// Cash and Coupon are the changes of the two balances: negative is money out.
	Cash   paydesk.Amount
	Coupon paydesk.Amount
	At     time.Time
}

// TransactionPage is one page of history. Next is the cursor of the next
// (older) page, 0 when there is none.
type TransactionPage struct {
	Items []Transaction
	Next  int64
}

// Transactions lists the wallet's movements, newest first, limit per page
// (1 to 100, default 20), starting below the cursor before (0: from the newest).
func (s *Service) Transactions(ctx context.Context, id WalletID, before int64, limit int) (TransactionPage, error) {
	if before < 0 {
		return TransactionPage{}, paydesk.ErrInvalid.WithMessage("cursor must not be negative")
	}
	if limit <= 0 {
		limit = 20
	}
	limit = min(limit, 100)
	w, err := s.wallet(ctx, id)
	if err != nil {
		return TransactionPage{}, err
	}
	// One more than asked tells whether another page exists.
	ms, err := s.ledger.Movements(ctx, []ledger.AccountID{w.CashAccount, w.CouponAccount}, before, limit+1)
	if err != nil {
		return TransactionPage{}, fmt.Errorf("wallet %d: transactions: %w", id, err)
	}
	items := make([]Transaction, len(ms))
	for i, m := range ms {
		items[i] = Transaction{ID: m.TransferID, Reference: m.Reference, Kind: m.Kind, Memo: m.Memo,
			Cash: m.Amounts[w.CashAccount], Coupon: m.Amounts[w.CouponAccount], At: m.CreatedAt}
	}
	var p TransactionPage
	if len(items) > limit {
		items = items[:limit]
		p.Next = items[limit-1].ID
	}
	p.Items = items
	return p, nil
}
