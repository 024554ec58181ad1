package pos_test

import (
	"context"
	"testing"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/merchant"
	"github.com/paydesk/paydesk/pos"
	"github.com/paydesk/paydesk/rbac"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// observed registers the day's figures and the members on the shop's POS.
func (s *shop) observed(t testing.TB) (*pos.Stats, *pos.Members) {
	t.Helper()
	merchants := merchant.NewService(merchant.NewGormStorage(s.db), s.ledger,
		cashier.NewService(cashier.NewGormStorage(s.db), merchant.NewGormStorage(s.db), storage.NewAttempts(s.db, s.clock), s.clock), s.clock)
	st := pos.NewStats(pos.NewGormStats(s.db), merchants, s.clock)
	ms := pos.NewMembers(pos.NewGormMembers(s.db), s.wallets)
	s.pos.Observe(st)
	s.pos.Observe(ms)
	return st, ms
}

// setClock moves the clock forward to t.
func (s *shop) setClock(t time.Time) { s.clk.Set(t) }

func wantFigures(t *testing.T, what string, got pos.Figures, gross, refunded paydesk.Amount, paid, refunds int64) {
	t.Helper()
	if got.Gross != gross || got.Refunded != refunded || got.Net != gross-refunded || got.PaidOrders != paid || got.Refunds != refunds {
		t.Errorf("%s = %+v, want gross %d, refunded %d, net %d, %d paid, %d refunds", what, got, gross, refunded, gross-refunded, paid, refunds)
	}
}

// A payment at 23:59:59 and one at 00:00:00 in Shanghai are on two days,
// though both are on the same UTC day.
func TestStatsDayBoundaryInShanghai(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		st, _ := s.observed(t)
		a := s.customer(t, "13900000001", 10000)
		b := s.customer(t, "13900000002", 10000)
		shanghai, _ := time.LoadLocation("Asia/Shanghai")
		lastSecond := time.Date(2026, 11, 25, 23, 59, 59, 0, shanghai)
		s.setClock(lastSecond.Add(-10 * time.Second).UTC()) // paid() moves the clock 10 s for a fresh code
		s.paid(t, a, "D1", 1000)
		s.setClock(lastSecond.UTC())
		s.paid(t, b, "D2", 2000)
		if got := s.clock().In(shanghai); got.Day() != 26 || got.Hour() != 0 || got.Minute() != 0 || got.Second() != 9 {
			t.Fatalf("second payment at %s", got)
		}
		today, err := st.TodayStats(ctx, s.owner())
		if err != nil {
			t.Fatal(err)
		}
		if today.Date != "2026-11-26" || today.TimeZone != "Asia/Shanghai" || today.Currency != "CNY" {
			t.Fatalf("today = %+v", today)
		}
		wantFigures(t, "today", today.Figures, 2000, 0, 1, 0)
		wantFigures(t, "today 00:00", today.Hours[0].Figures, 2000, 0, 1, 0)
		daily, err := st.DailyStats(ctx, s.owner(), 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(daily.Days) != 2 || daily.Days[0].Date != "2026-11-25" || daily.Days[1].Date != "2026-11-26" {
			t.Fatalf("daily = %+v", daily)
		}
		wantFigures(t, "2026-11-25", daily.Days[0].Figures, 1000, 0, 1, 0)
		wantFigures(t, "2026-11-26", daily.Days[1].Figures, 2000, 0, 1, 0)
		for _, bad := range []int{0, -1, 91} {
			if _, err := st.DailyStats(ctx, s.owner(), bad); paydesk.AsError(err).Kind != paydesk.KindInvalid {
				t.Errorf("%d days: %v", bad, err)
			}
		}
	})
}

func TestStatsScopesAndRefunds(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		st, _ := s.observed(t)
		w := s.customer(t, "13900000001", 100000)
		o := s.paid(t, w, "S1", 1000)
		s.paid(t, w, "S2", 500)
		store, err := s.merchantsStore(t)
		if err != nil {
			t.Fatal(err)
		}
		// A store QR payment has no cashier: it counts for the store, the
		// merchant and every cashier of the store, who all see it
		// (merchant.SeesOrder).
		if _, err := s.pos.PayStore(ctx, w, store.QRToken, 300); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.pos.RefundOrder(ctx, s.owner(), o.ID, pos.RefundRequest{RefundNo: "1", Amount: 200}); err != nil {
			t.Fatal(err)
		}
		// Another merchant's figures never mix in.
		other := cashier.Actor{StaffID: s.cashier.StaffID + 1, MerchantID: s.merchant.ID, StoreID: s.cashier.StoreID, Role: rbac.Cashier}
		manager := cashier.Actor{StaffID: 77, MerchantID: s.merchant.ID, StoreID: s.cashier.StoreID, Role: rbac.Manager}
		otherStore := cashier.Actor{StaffID: 78, MerchantID: s.merchant.ID, StoreID: s.cashier.StoreID + 1000, Role: rbac.Manager}
		for _, tt := range []struct {
			name          string
			c             cashier.Actor
			gross, refund paydesk.Amount
			paid, refunds int64
		}{
			{"cashier", s.cashier, 1800, 200, 3, 1},
			{"another cashier", other, 300, 0, 1, 0},
			{"manager", manager, 1800, 200, 3, 1},
			{"another store's manager", otherStore, 0, 0, 0, 0},
			{"owner", s.owner(), 1800, 200, 3, 1},
		} {
			today, err := st.TodayStats(ctx, tt.c)
			if err != nil {
				t.Fatal(err)
			}
			wantFigures(t, tt.name, today.Figures, tt.gross, tt.refund, tt.paid, tt.refunds)
			loc, _ := time.LoadLocation(today.TimeZone)
			hour := s.clock().In(loc).Hour()
			wantFigures(t, tt.name+" this hour", today.Hours[hour].Figures, tt.gross, tt.refund, tt.paid, tt.refunds)
		}
	})
}
