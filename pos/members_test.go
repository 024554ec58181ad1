package pos_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/pos"
	"github.com/paydesk/paydesk/rbac"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
	"github.com/paydesk/paydesk/wallet"
)

func TestMembers(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		_, members := s.observed(t)
		var ws []wallet.WalletID
		for i := range 5 {
			ws = append(ws, s.customer(t, fmt.Sprintf("1390000000%d", i), 100000))
		}
		// Wallet i pays i+1 times 100 * (5-i): wallet 0 spends most in one
		// visit, wallet 4 comes most often and last.
		n := 0
		for i, w := range ws {
			for range i + 1 {
				s.paid(t, w, fmt.Sprintf("M%d", n), wallet5(i))
				n++
			}
		}
		o := s.paid(t, ws[0], "M-big", 100)
		if _, _, err := s.pos.RefundOrder(ctx, s.owner(), o.ID, pos.RefundRequest{RefundNo: "1", Amount: 100}); err != nil {
			t.Fatal(err)
		}

		list := func(c cashier.Actor, sort pos.MemberSort, limit int) []pos.Member {
			t.Helper()
			var all []pos.Member
			q := pos.MemberQuery{Sort: sort, Limit: limit}
			for {
				page, err := members.ListMembers(ctx, c, q)
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, page.Members...)
				if page.Next == "" {
					return all
				}
				q.Cursor = page.Next
			}
		}
		bySpend := list(s.owner(), pos.SortBySpend, 2)
		if len(bySpend) != 5 {
			t.Fatalf("%d members, want 5", len(bySpend))
		}
		// Spend: wallet i spent (i+1)*wallet5(i) = (i+1)*(5-i)*100: 500, 800, 900, 800, 500.
		want := []struct {
			w      wallet.WalletID
			visits int64
		}{{ws[2], 3}, {ws[3], 4}, {ws[1], 2}, {ws[4], 5}, {ws[0], 2}}
		for i, m := range bySpend {
			if m.WalletID != want[i].w || m.Visits != want[i].visits {
				t.Errorf("by spend #%d = %+v, want wallet %d with %d visits", i, m, want[i].w, want[i].visits)
			}
		}
		if m := bySpend[4]; m.TotalSpent != 500 || m.Phone != "139****0000" {
			t.Errorf("the refunded member = %+v, want 500 spent net of the refund and a masked phone", m)
		}
		recent := list(s.owner(), pos.SortByRecent, 3)
		if recent[0].WalletID != ws[0] || recent[1].WalletID != ws[4] || !recent[0].LastVisitAt.After(recent[1].LastVisitAt) {
			t.Errorf("by recency = %+v", recent)
		}
		manager := cashier.Actor{StaffID: 9, MerchantID: s.merchant.ID, StoreID: s.cashier.StoreID, Role: rbac.Manager}
		if got := list(manager, pos.SortBySpend, 10); len(got) != 5 {
			t.Errorf("the store's manager sees %d members", len(got))
		}
		otherStore := cashier.Actor{StaffID: 9, MerchantID: s.merchant.ID, StoreID: s.cashier.StoreID + 1000, Role: rbac.Manager}
		if got := list(otherStore, pos.SortBySpend, 10); len(got) != 0 {
			t.Errorf("another store's manager sees %+v", got)
		}
		if _, err := members.ListMembers(ctx, s.cashier, pos.MemberQuery{}); err == nil {
			t.Error("a cashier lists members")
		}
		if _, err := members.ListMembers(ctx, s.owner(), pos.MemberQuery{Sort: "name"}); err == nil {
			t.Error("an unknown sort is accepted")
		}
		page, _ := members.ListMembers(ctx, s.owner(), pos.MemberQuery{Sort: pos.SortBySpend, Limit: 1})
		_, err := members.ListMembers(ctx, s.owner(), pos.MemberQuery{Sort: pos.SortByRecent, Cursor: page.Next})
		wantCode(t, err, "INVALID_CURSOR")
	})
}

// wallet5 is what wallet i pays per visit in TestMembers.
func wallet5(i int) paydesk.Amount { return paydesk.Amount(100 * (5 - i)) }
