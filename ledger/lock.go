package ledger

import (
	"context"
	"slices"
)

// Lock reads accounts for update inside the transaction that ctx carries,
// in id order (the order every batch locks in, so the two cannot deadlock).
// Until that transaction ends nobody else can post to them, so a caller can
// decide postings on their balances (a refund taken from a merchant's
// pending balance first, then from its available balance) and then Post
// them in the same transaction.
func (l *Ledger) Lock(ctx context.Context, ids ...AccountID) (map[AccountID]Account, error) {
	if !l.store.InTransaction(ctx) {
		return nil, ErrInvalidTransfer.WithMessage("ledger: Lock needs a transaction in ctx")
	}
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	locked, err := l.store.LockAccounts(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[AccountID]Account, len(locked))
	for id, a := range locked {
		out[id] = *a
	}
	for _, id := range ids {
		if _, ok := out[id]; !ok {
			return nil, ErrAccountNotFound.WithMessage("ledger account %d does not exist", id)
		}
	}
	return out, nil
}
