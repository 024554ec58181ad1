package pos_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/pos"
	"github.com/paydesk/paydesk/rbac"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// staff returns an actor of the shop's merchant with the given role, in
// store storeID (0 for an owner). Orders record the actor's ids as they
// are; the POS does not need the staff row to exist.
func (s *shop) staff(id int64, role rbac.Role, storeID int64) cashier.Actor {
	return cashier.Actor{StaffID: id, MerchantID: s.merchant.ID, StoreID: storeID, Role: role}
}

func ids(os []pos.Order) []int64 {
	out := make([]int64, len(os))
	for i, o := range os {
		out[i] = o.ID
	}
	return out
}

func TestListOrdersScopesFiltersAndPages(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		storeA, storeB := int64(9001), int64(9002)
		a1, a2, b1 := s.staff(101, rbac.Cashier, storeA), s.staff(102, rbac.Cashier, storeA), s.staff(103, rbac.Cashier, storeB)
		managerA := s.staff(201, rbac.Manager, storeA)
		owner := s.owner()
		rival := cashier.Actor{StaffID: 301, MerchantID: s.merchant.ID + 1000, Role: rbac.Owner}

		// 30 orders over three cashiers; several share a timestamp, so the
		// id breaks ties.
		mine := map[int64][]int64{}
		for i := range 30 {
			c := []cashier.Actor{a1, a2, b1}[i%3]
			o, err := s.pos.CreateCollectionQR(ctx, c, pos.Collection{OutTradeNo: fmt.Sprintf("L%02d", i), Amount: 100})
			if err != nil {
				t.Fatal(err)
			}
			mine[c.StaffID] = append([]int64{o.ID}, mine[c.StaffID]...) // newest first
			if i%4 == 0 {
				s.advance(time.Second)
			}
		}
		all := func(c cashier.Actor, f pos.OrderFilter) []int64 {
			t.Helper()
			var got []int64
			for pages := 0; ; pages++ {
				page, err := s.pos.ListOrders(ctx, c, f)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, ids(page.Orders)...)
				if page.Next == "" {
					return got
				}
				if pages > 50 {
					t.Fatal("the pages never end")
				}
				f.Cursor = page.Next
			}
		}
		if got := all(a1, pos.OrderFilter{Limit: 3}); fmt.Sprint(got) != fmt.Sprint(mine[a1.StaffID]) {
			t.Errorf("cashier a1 sees %v, want exactly own %v", got, mine[a1.StaffID])
		}
		// A cashier asking for a colleague's orders gets none, never theirs.
		if got := all(a1, pos.OrderFilter{CashierID: a2.StaffID}); len(got) != 0 {
			t.Errorf("cashier a1 filtering on a2 sees %v", got)
		}
		if got := all(managerA, pos.OrderFilter{Limit: 7}); len(got) != 20 {
			t.Errorf("manager of store A sees %d orders, want 20", len(got))
		}
		if got := all(managerA, pos.OrderFilter{StoreID: storeB}); len(got) != 0 {
			t.Errorf("manager of store A sees store B's %v", got)
		}
		if got := all(owner, pos.OrderFilter{Limit: 4}); len(got) != 30 {
			t.Errorf("owner sees %d orders, want 30", len(got))
		}
		if got := all(owner, pos.OrderFilter{StoreID: storeB}); fmt.Sprint(got) != fmt.Sprint(mine[b1.StaffID]) {
			t.Errorf("owner filtering store B sees %v, want %v", got, mine[b1.StaffID])
		}
		if got := all(rival, pos.OrderFilter{}); len(got) != 0 {
			t.Errorf("another merchant sees %v", got)
		}

		// Pages stay stable while new orders arrive: the next page goes on
		// where the last one ended, and the new orders wait for a new list.
		first, err := s.pos.ListOrders(ctx, owner, pos.OrderFilter{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			s.advance(time.Second)
			if _, err := s.pos.CreateCollectionQR(ctx, a1, pos.Collection{OutTradeNo: fmt.Sprintf("N%d", i), Amount: 100}); err != nil {
				t.Fatal(err)
			}
		}
		rest := all(owner, pos.OrderFilter{Limit: 10, Cursor: first.Next})
		seen := map[int64]bool{}
		for _, id := range append(ids(first.Orders), rest...) {
			if seen[id] {
				t.Fatalf("order %d shown twice", id)
			}
			seen[id] = true
		}
		if len(seen) != 30 {
			t.Fatalf("paging through while orders arrive shows %d of the 30 older orders", len(seen))
		}

		// Filters.
		paid := s.paid(t, s.customer(t, "13900000001", 10000), "P1", 100)
		if got := all(owner, pos.OrderFilter{State: pos.Paid}); fmt.Sprint(got) != fmt.Sprint([]int64{paid.ID}) {
			t.Errorf("state PAID: %v", got)
		}
		if got := all(owner, pos.OrderFilter{Method: pos.MethodScan}); len(got) != 1 {
			t.Errorf("method scan: %v", got)
		}
		if got := all(owner, pos.OrderFilter{From: paid.CreatedAt, To: paid.CreatedAt.Add(time.Second)}); len(got) != 1 {
			t.Errorf("time range around the paid order: %v", got)
		}
		if got := all(owner, pos.OrderFilter{To: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}); len(got) != 0 {
			t.Errorf("orders before the start: %v", got)
		}
		if got := all(owner, pos.OrderFilter{OutTradeNo: "L05"}); len(got) != 1 {
			t.Errorf("by out_trade_no: %v", got)
		}
		if got := all(a1, pos.OrderFilter{OutTradeNo: "L01"}); len(got) != 0 {
			t.Errorf("cashier a1 finds a2's order by out_trade_no: %v", got)
		}
		if _, err := s.pos.OrderByOutTradeNo(ctx, a1, "L01"); paydesk.ErrorCode(err) != "ORDER_NOT_FOUND" {
			t.Errorf("a1 reads a2's order by out_trade_no: %v", err)
		}

		for _, bad := range []string{"x", "!!!", "bzE.MTIz", "bzEuMTIzLjA", "bzEuLTEuNQ", string(make([]byte, 100))} {
			_, err := s.pos.ListOrders(ctx, owner, pos.OrderFilter{Cursor: bad})
			wantCode(t, err, "INVALID_CURSOR")
		}
	})
}
