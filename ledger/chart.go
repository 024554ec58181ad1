package ledger

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/paydesk/paydesk"
)

// The chart of platform accounts: the platform's own accounts in the book,
// which every merchant's and wallet's money moves against. They are made
// in one place, Ledger.Platform, and every package asks it for them.
const (
	// ClearingAccount mirrors the banks: card debits come from it, payouts
	// and paid withdrawals go to it. It goes negative by design, since it
	// stands for the outside world.
	ClearingAccount = "bank:clearing"
	// MarketingAccount is the platform's marketing budget: it funds coupons
	// when they are issued and vouchers when they are spent, and goes
	// negative by what marketing has cost.
	MarketingAccount = "platform:marketing"
	// CardRefundsAccount holds refunds on their way back to a card: a
	// refund books the card's share here in the refund's transaction, and
	// the money moves on to the clearing account once the bank has credited
	// the card (or to the wallet's cash if the card can no longer take it).
	CardRefundsAccount = "bank:card-refunds"
	// FeeAccount receives every merchant's payment and withdrawal fees.
	FeeAccount = "platform:fees"

	TypeClearing    = "bank_clearing"
	TypeMarketing   = "platform_marketing"
	TypeCardRefunds = "bank_card_refunds"
	TypeFee         = "platform_fee"
)

// Platform is the chart of platform accounts of one book. The codes carry
// no currency, so a book has one currency.
type Platform struct {
	Currency    paydesk.Currency
	Clearing    AccountID
	Marketing   AccountID
	CardRefunds AccountID
	Fees        AccountID
}

// chart caches a ledger's Platform once it is set up. Reading it is one
// atomic load, for the payment path.
type chart struct {
	mu  sync.Mutex // serialises set-ups
	set atomic.Pointer[Platform]
}

// Platform returns the chart of platform accounts in currency, creating
// the accounts that do not exist yet; calling it again, from every
// service and instance, is harmless and, once set up, costs an atomic
// load. The chart is kept for later calls only when it was set up outside
// a transaction (a set-up inside one could still roll back): services set
// it up when they start. A chart in another currency is
// LEDGER_ACCOUNT_CONFLICT.
func (l *Ledger) Platform(ctx context.Context, currency paydesk.Currency) (Platform, error) {
	if p := l.chart.set.Load(); p != nil {
		if p.Currency != currency {
			return Platform{}, ErrAccountConflict.WithMessage("the platform's accounts are in %s, not %s", p.Currency, currency)
		}
		return *p, nil
	}
	inTx := l.store.InTransaction(ctx)
	if !inTx {
		l.chart.mu.Lock()
		defer l.chart.mu.Unlock()
		if p := l.chart.set.Load(); p != nil {
			return l.Platform(ctx, currency)
		}
	}
	p := Platform{Currency: currency}
	for _, a := range []struct {
		id   *AccountID
		code string
		typ  string
		neg  bool
	}{
		{&p.Clearing, ClearingAccount, TypeClearing, true},
		{&p.Marketing, MarketingAccount, TypeMarketing, true},
		{&p.CardRefunds, CardRefundsAccount, TypeCardRefunds, false},
		{&p.Fees, FeeAccount, TypeFee, false},
	} {
		acc, err := l.CreateAccount(ctx, Account{Code: a.code, Type: a.typ, Currency: currency, AllowNegative: a.neg})
		if err != nil {
			return Platform{}, fmt.Errorf("ensure %s: %w", a.code, err)
		}
		*a.id = acc.ID
	}
	if !inTx {
		l.chart.set.Store(&p)
	}
	return p, nil
}
