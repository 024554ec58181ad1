package pos_test

import (
	"context"
	"strings"
	"sync"
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

func (s *shop) tickets(t testing.TB) *pos.Tickets {
	t.Helper()
	merchants := merchant.NewService(merchant.NewGormStorage(s.db), s.ledger,
		cashier.NewService(cashier.NewGormStorage(s.db), merchant.NewGormStorage(s.db), storage.NewAttempts(s.db, s.clock), s.clock), s.clock)
	return pos.NewTickets(pos.NewGormTickets(s.db), s.wallets, merchants, s.clock)
}

func TestTickets(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		tickets := s.tickets(t)
		w := s.customer(t, "13900000001", 0)
		manager := cashier.Actor{StaffID: 50, MerchantID: s.merchant.ID, StoreID: s.cashier.StoreID, Role: rbac.Manager}
		req := pos.TicketRequest{IssueNo: "T-1", Phone: "13900000001", Product: "Afternoon tea for two", Price: 16800, ExpiresAt: s.clock().Add(48 * time.Hour)}
		tk, err := tickets.Issue(ctx, manager, req)
		if err != nil || tk.WalletID != w || tk.State != pos.TicketIssued || tk.Currency != "CNY" || len(tk.Token) != 32 {
			t.Fatalf("issue = %+v, %v", tk, err)
		}
		if again, err := tickets.Issue(ctx, manager, req); err != nil || again.ID != tk.ID || again.Token != tk.Token {
			t.Fatalf("issue again = %+v, %v", again, err)
		}
		other := req
		other.Price++
		_, err = tickets.Issue(ctx, manager, other)
		wantCode(t, err, "IDEMPOTENCY_CONFLICT")
		nobody := req
		nobody.IssueNo, nobody.Phone = "T-2", "13900000999"
		_, err = tickets.Issue(ctx, manager, nobody)
		wantCode(t, err, "WALLET_NOT_FOUND")
		past := req
		past.IssueNo, past.ExpiresAt = "T-3", s.clock().Add(-time.Second)
		if _, err := tickets.Issue(ctx, manager, past); paydesk.AsError(err).Kind != paydesk.KindInvalid {
			t.Errorf("a ticket expiring in the past: %v", err)
		}

		// The wallet holds it and shows its QR.
		mine, err := tickets.WalletTickets(ctx, w)
		if err != nil || len(mine) != 1 || mine[0].ID != tk.ID {
			t.Fatalf("wallet tickets = %+v, %v", mine, err)
		}
		if _, err := tickets.WalletTicket(ctx, w+1, tk.ID); paydesk.ErrorCode(err) != "TICKET_NOT_FOUND" {
			t.Errorf("another wallet reads the ticket: %v", err)
		}
		payload := pos.TicketPayload(tk)

		// Another merchant's cashier cannot redeem it.
		rival := cashier.Actor{StaffID: 99, MerchantID: s.merchant.ID + 1000, StoreID: 1, Role: rbac.Cashier}
		_, err = tickets.Redeem(ctx, rival, payload)
		wantCode(t, err, "TICKET_NOT_FOUND")

		// Ten cashiers scan it at once: one redeems it.
		var wg sync.WaitGroup
		errs := make([]error, 10)
		for i := range errs {
			wg.Go(func() { _, errs[i] = tickets.Redeem(ctx, s.cashier, payload) })
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch paydesk.ErrorCode(err) {
			case "":
				ok++
			case "TICKET_ALREADY_REDEEMED":
			default:
				t.Errorf("concurrent redeem: %v", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d of 10 concurrent redeems succeeded, want 1", ok)
		}
		got, _ := tickets.WalletTicket(ctx, w, tk.ID)
		if got.State != pos.TicketRedeemed || got.RedeemedBy != s.cashier.StaffID || got.RedeemedAt.IsZero() {
			t.Fatalf("redeemed ticket = %+v", got)
		}

		// Expired.
		short := req
		short.IssueNo, short.ExpiresAt = "T-4", s.clock().Add(time.Hour)
		tk2, err := tickets.Issue(ctx, s.owner(), short)
		if err != nil {
			t.Fatal(err)
		}
		s.advance(2 * time.Hour)
		_, err = tickets.Redeem(ctx, s.cashier, pos.TicketPayload(tk2))
		wantCode(t, err, "TICKET_EXPIRED")
		if st := tk2.Status(s.clock()); st != pos.TicketExpired {
			t.Errorf("status = %s", st)
		}
		_, err = tickets.Redeem(ctx, s.cashier, "PDTK1.not-a-token")
		wantCode(t, err, "TICKET_PAYLOAD_INVALID")
		_, err = tickets.Redeem(ctx, s.cashier, "PDTK1."+strings.Repeat("A", 32))
		wantCode(t, err, "TICKET_NOT_FOUND")

		// The issuers' lists: the owner sees both, the manager their store's.
		all, err := tickets.Issued(ctx, s.owner(), "", 1)
		if err != nil || len(all.Tickets) != 1 || all.Next == "" {
			t.Fatalf("owner's first page = %+v, %v", all, err)
		}
		rest, err := tickets.Issued(ctx, s.owner(), all.Next, 10)
		if err != nil || len(rest.Tickets) != 1 || rest.Next != "" || rest.Tickets[0].ID == all.Tickets[0].ID {
			t.Fatalf("owner's second page = %+v, %v", rest, err)
		}
		if m, _ := tickets.Issued(ctx, manager, "", 10); len(m.Tickets) != 1 || m.Tickets[0].ID != tk.ID {
			t.Fatalf("manager's list = %+v", m)
		}
		if _, err := tickets.Issued(ctx, s.cashier, "", 10); err == nil {
			t.Error("a cashier lists issued tickets")
		}
	})
}

func FuzzParseTicketPayload(f *testing.F) {
	for _, s := range []string{"PDTK1." + strings.Repeat("A", 32), " PDTK1.abcdefghijklmnopqrstuvwxyz012345\n", "PDTK1.", "PDTK2." + strings.Repeat("A", 32),
		"pdtk1." + strings.Repeat("A", 32), "https://pay.example/p/o/abc", "", strings.Repeat("P", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		token, err := pos.ParseTicketPayload(s)
		if err != nil {
			if paydesk.ErrorCode(err) != "TICKET_PAYLOAD_INVALID" {
				t.Fatalf("ParseTicketPayload(%q): uncoded error %v", s, err)
			}
			return
		}
		if len(token) != 32 || strings.Trim(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			t.Fatalf("ParseTicketPayload(%q) = %q, not a 32-character token", s, token)
		}
		// What parses is exactly the canonical payload, give or take white space.
		canonical := pos.TicketPayload(pos.Ticket{Token: token})
		if strings.TrimSpace(s) != canonical {
			t.Fatalf("ParseTicketPayload(%q) accepted a non-canonical form of %q", s, canonical)
		}
		if again, err := pos.ParseTicketPayload(canonical); err != nil || again != token {
			t.Fatalf("the canonical payload %q parses to %q, %v", canonical, again, err)
		}
	})
}
