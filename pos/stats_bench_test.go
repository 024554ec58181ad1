package pos_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/merchant"
	"github.com/paydesk/paydesk/pos"
	"github.com/paydesk/paydesk/rbac"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// BenchmarkStatsToday answers "today's data" for a merchant with 1,000,000
// orders over the last 90 days, on each database, for the three scopes
// (owner: the merchant, manager: a store, cashier: own). The orders and
// their rollups are seeded with multi-row INSERTs in one transaction, not
// through the POS, so the seed takes seconds. The median of the per-call
// times is reported as p50-ns/op beside Go's mean ns/op.
//
//	go test -v -run '^$' -bench StatsToday -benchtime 2000x -timeout 60m ./pos/
func BenchmarkStatsToday(b *testing.B) {
	const orders = 1_000_000
	for _, d := range storagetest.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			db := storagetest.Open(b, d)
			s := newShop(b, db)
			merchants := merchant.NewService(merchant.NewGormStorage(db), s.ledger,
				cashier.NewService(cashier.NewGormStorage(db), merchant.NewGormStorage(db), storage.NewAttempts(db, s.clock), s.clock), s.clock)
			stats := pos.NewStats(pos.NewGormStats(db), merchants, s.clock)
			start := time.Now()
			seedOrders(b, db, s, orders)
			b.Logf("%s: seeded %d orders and their rollups in %s", d, orders, time.Since(start).Round(time.Millisecond))
			var n int64
			db.Reader(context.Background()).Raw("SELECT COUNT(*) FROM orders WHERE merchant_id = ?", s.merchant.ID).Scan(&n)
			if n != orders {
				b.Fatalf("%d orders seeded, want %d", n, orders)
			}

			for _, sc := range []struct {
				name string
				c    cashier.Actor
			}{{"owner", s.owner()}, {"manager", cashier.Actor{StaffID: 1, MerchantID: s.merchant.ID, StoreID: s.cashier.StoreID, Role: rbac.Manager}}, {"cashier", s.cashier}} {
				b.Run(sc.name, func(b *testing.B) {
					ctx := context.Background()
					took := make([]time.Duration, 0, b.N)
					b.ResetTimer()
					for range b.N {
						t0 := time.Now()
						today, err := stats.TodayStats(ctx, sc.c)
						took = append(took, time.Since(t0))
						if err != nil || today.PaidOrders == 0 {
							b.Fatalf("today = %+v, %v", today.Figures, err)
						}
					}
					b.StopTimer()
					slices.Sort(took)
					b.ReportMetric(float64(took[len(took)/2].Nanoseconds()), "p50-ns/op")
				})
			}
		})
	}
}

// seedOrders writes n paid orders of the shop's merchant, spread over the
// 90 days before the shop's clock across 5 stores and 20 cashiers (the
// shop's own cashier among them), and the hourly rollups they add up to.
func seedOrders(b *testing.B, db *storage.DB, s *shop, n int) {
	b.Helper()
	ctx := context.Background()
	loc := s.merchant.Location()
	now := s.clock()
	rng := rand.New(rand.NewPCG(7, 11))
	stores := []int64{s.cashier.StoreID, 9_000_001, 9_000_002, 9_000_003, 9_000_004}
	type key struct {
		kind   string
		id     int64
		day, h int
	}
	type sums struct{ amount, count int64 }
	rollup := map[key]*sums{}
	add := func(k key, amount int64) {
		r := rollup[k]
		if r == nil {
			r = &sums{}
			rollup[k] = r
		}
		r.amount += amount
		r.count++
	}
	cols := []string{"merchant_id", "store_id", "cashier_id", "out_trade_no", "kind", "method", "subject", "amount", "currency", "state",
		"wallet_id", "funding_voucher", "funding_coupon", "funding_cash", "funding_card", "funding_detail", "fee", "refunded", "close_reason",
		"request_digest", "expires_at", "paid_at", "created_at", "updated_at"}
	const chunk = 1000
	digest := strings.Repeat("0", 64)
	// Oldest first, as real orders arrive, so ids and times grow together.
	span := 90 * 24 * time.Hour
	step := span / time.Duration(n)
	err := db.InTx(ctx, func(ctx context.Context) error {
		w := db.Writer(ctx)
		if db.Dialect == storage.MySQL {
			// The seed's keys are unique by construction: let InnoDB
			// buffer the unique indexes' changes instead of checking each.
			if err := w.Exec("SET SESSION unique_checks = 0").Error; err != nil {
				return err
			}
			defer w.Exec("SET SESSION unique_checks = 1")
		}
		args := make([]any, 0, chunk*len(cols))
		for i := range n {
			at := now.Add(-span + step*time.Duration(i)).UTC()
			store := stores[i%len(stores)]
			cashier := int64(8_000_000 + i%20)
			if i%20 == 0 {
				cashier = s.cashier.StaffID
				store = s.cashier.StoreID
			}
			amount := int64(100 + rng.IntN(9900))
			fee := (amount*38 + 5000) / 10000
			args = append(args, s.merchant.ID, store, cashier, fmt.Sprintf("BENCH-%07d", i), "pos", "scan", "", amount, "CNY", "PAID",
				int64(1), 0, 0, amount, 0, "{}", fee, 0, "", digest, at, at, at, at)
			local := at.In(loc)
			day := local.Year()*10000 + int(local.Month())*100 + local.Day()
			for _, k := range []key{{"m", s.merchant.ID, day, local.Hour()}, {"s", store, day, local.Hour()}, {"c", cashier, day, local.Hour()}} {
				add(k, amount)
			}
			if len(args) == chunk*len(cols) || i == n-1 {
				if err := bulkInsert(w, db.Dialect, "orders", cols, args); err != nil {
					return err
				}
				args = args[:0]
			}
		}
		rcols := []string{"merchant_id", "scope", "scope_id", "stat_day", "stat_hour", "paid_amount", "paid_count", "refunded_amount", "refund_count"}
		args = args[:0]
		rows := 0
		for k, v := range rollup {
			args = append(args, s.merchant.ID, k.kind, k.id, k.day, k.h, v.amount, v.count, 0, 0)
			rows++
			if rows == chunk {
				if err := bulkInsert(w, db.Dialect, "stats_hourly", rcols, args); err != nil {
					return err
				}
				args, rows = args[:0], 0
			}
		}
		if rows > 0 {
			return bulkInsert(w, db.Dialect, "stats_hourly", rcols, args)
		}
		return nil
	})
	if err != nil {
		b.Fatalf("seed: %v", err)
	}
}

// bulkInsert writes rows (args, len(cols) values per row) in one INSERT.
// MySQL gets placeholders, which its driver fills in client-side. SQLite
// gets the values written into the statement: its driver binds parameters
// in time that grows with the square of their number, minutes for a
// million rows. The values are the seed's own numbers, plain strings and
// times, written the way the driver writes them.
func bulkInsert(w *gorm.DB, d storage.Dialect, table string, cols []string, args []any) error {
	var q strings.Builder
	q.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ",") + ") VALUES ")
	if d == storage.MySQL {
		one := "(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")"
		q.WriteString(strings.TrimSuffix(strings.Repeat(one+",", len(args)/len(cols)), ","))
		return w.Exec(q.String(), args...).Error
	}
	for i, a := range args {
		switch {
		case i == 0:
			q.WriteByte('(')
		case i%len(cols) == 0:
			q.WriteString("),(")
		default:
			q.WriteByte(',')
		}
		switch v := a.(type) {
		case string:
			q.WriteString("'" + strings.ReplaceAll(v, "'", "''") + "'")
		case time.Time:
			q.WriteString("'" + v.Format("2006-01-02 15:04:05.999999999-07:00") + "'")
		default:
			fmt.Fprint(&q, v)
		}
	}
	q.WriteByte(')')
	return w.Exec(q.String()).Error
}
