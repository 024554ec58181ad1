package pos

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/merchant"
	"github.com/paydesk/paydesk/rbac"
)

// Stats is today's data (今日数据) and the daily history, for a cashier,
// a store or a whole merchant. It never scans orders: as an Observer of the
// POS it adds every payment and refund, inside the transaction that makes
// it, to hourly rollup rows keyed by the merchant's local day and hour, and
// a question reads at most 24 rows (today) or 24 per day (history),
// however many orders there are.
type Stats struct {
	store     StatsStorage
	merchants MerchantDirectory
	clock     paydesk.Clock
	// zones caches each merchant's time zone and currency, which never change.
	zones sync.Map // merchant id -> merchantZone
}

type merchantZone struct {
	loc      *time.Location
	currency paydesk.Currency
}

// MerchantDirectory finds merchants (their time zone and currency);
// *merchant.Service is one.
type MerchantDirectory interface {
	Merchant(ctx context.Context, id int64) (merchant.Merchant, error)
}

// NewStats returns the day's figures; register it with Service.Observe.
func NewStats(store StatsStorage, merchants MerchantDirectory, clock paydesk.Clock) *Stats {
	return &Stats{store: store, merchants: merchants, clock: clock}
}

var _ RefundObserver = (*Stats)(nil)

// ScopeKind is what a rollup row or member row counts for.
type ScopeKind string

const (
	ScopeMerchant ScopeKind = "m"
	ScopeStore    ScopeKind = "s"
	ScopeCashier  ScopeKind = "c"
	// ScopeStoreQR counts a store's static-QR orders, which no cashier
	// took and every cashier of the store sees (merchant.SeesOrder).
	ScopeStoreQR ScopeKind = "q"
)

// Scope is a merchant, one of its stores or one of its cashiers.
type Scope struct {
	Kind ScopeKind
	ID   int64
}

// scopeOf is what the caller's figures cover: SPEC §1's cashier (own),
// manager (store) and owner (merchant).
// A cashier's figures are their own orders' and their store's static-QR
// orders', the orders merchant.SeesOrder shows them.
func scopesOf(c cashier.Actor) []Scope {
	switch c.Role {
	case rbac.Owner:
		return []Scope{{ScopeMerchant, c.MerchantID}}
	case rbac.Manager:
		return []Scope{{ScopeStore, c.StoreID}}
	}
	return []Scope{{ScopeCashier, c.StaffID}, {ScopeStoreQR, c.StoreID}}
}

// orderScopes are the rollups an order counts in.
func orderScopes(o Order) []Scope {
	sc := []Scope{{ScopeMerchant, o.MerchantID}, {ScopeStore, o.StoreID}}
	if o.CashierID != 0 {
		sc = append(sc, Scope{ScopeCashier, o.CashierID})
	} else {
		sc = append(sc, Scope{ScopeStoreQR, o.StoreID})
	}
	return sc
}

// Figures are the takings of a period.
type Figures struct {
	Gross      paydesk.Amount // paid
	Refunded   paydesk.Amount // refunded in the period, whenever the order was paid
	Net        paydesk.Amount // Gross - Refunded
	PaidOrders int64
	Refunds    int64
}

func (f *Figures) add(g Figures) {
	f.Gross += g.Gross
	f.Refunded += g.Refunded
	f.PaidOrders += g.PaidOrders
	f.Refunds += g.Refunds
	f.Net = f.Gross - f.Refunded
}

// HourFigures are the figures of one local hour (0 to 23).
type HourFigures struct {
	Hour int
	Figures
}

// Today is the day so far, in the merchant's time zone.
type Today struct {
	Date     string // YYYY-MM-DD, local
	TimeZone string
	Currency paydesk.Currency
	Figures
	// Hours has all 24 hours of the day, zeros included.
	Hours []HourFigures
}

// DayFigures are the figures of one local day.
type DayFigures struct {
	Date string // YYYY-MM-DD
	Figures
}

// Daily is a run of days ending today, oldest first, zeros included.
type Daily struct {
	TimeZone string
	Currency paydesk.Currency
	Days     []DayFigures
}

// MaxHistoryDays bounds DailyStats.
const MaxHistoryDays = 90

// TodayStats returns today's figures for the caller's scope: a cashier's
// own orders, a manager's store, an owner's merchant.
func (s *Stats) TodayStats(ctx context.Context, c cashier.Actor) (Today, error) {
	z, err := s.zone(ctx, c.MerchantID)
	if err != nil {
		return Today{}, err
	}
	now := s.clock().In(z.loc)
	var rows []StatsRow
	for _, sc := range scopesOf(c) {
		got, err := s.store.HourlyStats(ctx, c.MerchantID, sc, dayKey(now))
		if err != nil {
			return Today{}, err
		}
		rows = append(rows, got...)
	}
	t := Today{Date: now.Format(time.DateOnly), TimeZone: z.loc.String(), Currency: z.currency, Hours: make([]HourFigures, 24)}
	for h := range t.Hours {
		t.Hours[h].Hour = h
	}
	for _, r := range rows {
		if r.Hour >= 0 && r.Hour < 24 {
			t.Hours[r.Hour].add(r.Figures)
			t.Figures.add(r.Figures)
		}
	}
	return t, nil
}

// DailyStats returns the figures of the last days days (today included)
// for the caller's scope; days is 1 to MaxHistoryDays.
func (s *Stats) DailyStats(ctx context.Context, c cashier.Actor, days int) (Daily, error) {
	if days < 1 || days > MaxHistoryDays {
		return Daily{}, paydesk.ErrInvalid.WithMessage("days must be from 1 to %d", MaxHistoryDays)
	}
	z, err := s.zone(ctx, c.MerchantID)
	if err != nil {
		return Daily{}, err
	}
	today := s.clock().In(z.loc)
	first := time.Date(today.Year(), today.Month(), today.Day()-(days-1), 12, 0, 0, 0, z.loc)
	byDay := map[int]Figures{}
	for _, sc := range scopesOf(c) {
		rows, err := s.store.DailyStats(ctx, c.MerchantID, sc, dayKey(first), dayKey(today))
		if err != nil {
			return Daily{}, err
		}
		for _, r := range rows {
			f := byDay[r.Day]
			f.add(r.Figures)
			byDay[r.Day] = f
		}
	}
	d := Daily{TimeZone: z.loc.String(), Currency: z.currency, Days: make([]DayFigures, days)}
	for i := range d.Days {
		// Noon steps over days safely, whatever daylight saving does.
		day := time.Date(first.Year(), first.Month(), first.Day()+i, 12, 0, 0, 0, z.loc)
		d.Days[i].Date = day.Format(time.DateOnly)
		d.Days[i].add(byDay[dayKey(day)])
	}
	return d, nil
}

// OrderChanged counts a payment in its local hour.
func (s *Stats) OrderChanged(ctx context.Context, o Order, change Change) error {
	if change != ChangePaid {
		return nil
	}
	at := o.PaidAt
	if at.IsZero() {
		at = o.UpdatedAt
	}
	return s.count(ctx, o, at, Figures{Gross: o.Amount, PaidOrders: 1})
}

// RefundSucceeded counts a refund (or a void) in the local hour it happened,
// for the scopes of the order it belongs to.
func (s *Stats) RefundSucceeded(ctx context.Context, o Order, r Refund) error {
	return s.count(ctx, o, r.CreatedAt, Figures{Refunded: r.Amount, Refunds: 1})
}

func (s *Stats) count(ctx context.Context, o Order, at time.Time, f Figures) error {
	z, err := s.zone(ctx, o.MerchantID)
	if err != nil {
		return err
	}
	local := at.In(z.loc)
	return s.store.AddStats(ctx, o.MerchantID, orderScopes(o), dayKey(local), local.Hour(), f)
}

func (s *Stats) zone(ctx context.Context, merchantID int64) (merchantZone, error) {
	if z, ok := s.zones.Load(merchantID); ok {
		return z.(merchantZone), nil
	}
	m, err := s.merchants.Merchant(ctx, merchantID)
	if err != nil {
		return merchantZone{}, fmt.Errorf("stats of merchant %d: %w", merchantID, err)
	}
	z := merchantZone{loc: m.Location(), currency: m.Currency}
	s.zones.Store(merchantID, z)
	return z, nil
}

// dayKey is a local date as the rollups key it: yyyymmdd.
func dayKey(t time.Time) int {
	y, m, d := t.Date()
	return y*10000 + int(m)*100 + d
}

// StatsRow is one rollup row as storage returns it: an hour of a day, or a
// whole day summed.
type StatsRow struct {
	Day  int
	Hour int
	Figures
}

// StatsStorage keeps the rollups.
type StatsStorage interface {
	// AddStats adds f to the rollup rows of the scopes at a local day and
	// hour, creating them as needed, in the transaction carried by ctx.
	AddStats(ctx context.Context, merchantID int64, scopes []Scope, day, hour int, f Figures) error
	// HourlyStats returns the rows of one day of a scope.
	HourlyStats(ctx context.Context, merchantID int64, sc Scope, day int) ([]StatsRow, error)
	// DailyStats returns a scope's days from first to last, one row per day with any figures.
	DailyStats(ctx context.Context, merchantID int64, sc Scope, first, last int) ([]StatsRow, error)
}
