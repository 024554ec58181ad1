package mobileapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/pos"
	"github.com/paydesk/paydesk/wallet"
)

// sampleOrders makes the objects the access matrix's after-payment rows
// act on, once per world, through the services (a sample cannot fail a
// test: on error it gives 0 or "", and the route answers 404 or 400).
var sampleOrders = &afterPaymentSamples{paidOrders: map[*world]int64{}, tickets: map[*world]int64{}}

type afterPaymentSamples struct {
	mu         sync.Mutex
	paidOrders map[*world]int64
	tickets    map[*world]int64
}

// paid is an order of 500.00 that Cashiers[0] took from the world's
// customer: the owner and Managers[0] may refund a cent of it per call.
func (s *afterPaymentSamples) paid(api *testAPI, w *world) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.paidOrders[w]; !ok {
		o, _ := api.paidOrder(w.Cashiers[0], w.Customer, 50000)
		s.paidOrders[w] = o.ID
	}
	return s.paidOrders[w]
}

// ticket is a ticket of the world's customer.
func (s *afterPaymentSamples) ticket(api *testAPI, w *world) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.tickets[w]; !ok {
		s.tickets[w] = api.issueTicket(w.Owner, w.Customer).ID
	}
	return s.tickets[w]
}

// ticketRequest is a new ticket for the world's customer, as POST /v1/tickets takes it.
func (s *afterPaymentSamples) ticketRequest(api *testAPI, w *world) map[string]any {
	return map[string]any{"issue_no": api.outTradeNo("tk"), "phone": w.Customer.Phone, "product": "Tea for two",
		"price": 6800, "expires_at": api.Clock.Now().Add(24 * time.Hour)}
}

// ticketPayload is the QR of a new ticket of the world's customer.
func (s *afterPaymentSamples) ticketPayload(api *testAPI, w *world) string {
	return pos.TicketPayload(api.issueTicket(w.Owner, w.Customer))
}

// paidOrder takes a scan-code payment of amount from c as m, through the service.
func (api *testAPI) paidOrder(m *member, c *customer, amount int64) (pos.Order, error) {
	api.Clock.Advance(wallet.PaymentCodeStep)
	o, err := api.POS.TakeScanPayment(context.Background(), m.actor(), pos.ScanPayment{OutTradeNo: api.outTradeNo("paid"),
		Amount: paydesk.Amount(amount), PaymentCode: api.codeNow(c)})
	if err == nil && o.State != pos.Paid {
		err = fmt.Errorf("order %d is %s", o.ID, o.State)
	}
	return o, err
}

// issueTicket gives c a ticket valid for a day, as by, through the service.
func (api *testAPI) issueTicket(by *member, c *customer) pos.Ticket {
	t, _ := api.Server.cfg.Tickets.Issue(context.Background(), by.actor(), pos.TicketRequest{IssueNo: api.outTradeNo("tk"), Phone: c.Phone,
		Product: "Tea for two", Price: 6800, ExpiresAt: api.Clock.Now().Add(24 * time.Hour)})
	return t
}

// mustPay is paidOrder for the test's own goroutine.
func (api *testAPI) mustPay(t *testing.T, m *member, c *customer, amount int64) pos.Order {
	t.Helper()
	o, err := api.paidOrder(m, c, amount)
	if err != nil {
		t.Fatalf("pay %d as %s %d: %v", amount, m.Role, m.ID, err)
	}
	return o
}

// listIDs pages through GET path (a list answering items and next_cursor)
// as token and returns the ids it shows, in order.
func (api *testAPI) listIDs(t *testing.T, path, token string) []int64 {
	t.Helper()
	var ids []int64
	cursor := ""
	for range 100 {
		sep := "?"
		if containsQuery(path) {
			sep = "&"
		}
		p := path
		if cursor != "" {
			p += sep + "cursor=" + cursor
		}
		r := api.request(t, "GET", p, token, nil)
		wantStatus(t, r, http.StatusOK)
		items, _ := r.JSON["items"].([]any)
		for _, it := range items {
			ids = append(ids, num(t, it.(map[string]any), "id"))
		}
		next, _ := r.JSON["next_cursor"].(string)
		if next == "" {
			return ids
		}
		cursor = next
	}
	t.Fatalf("GET %s: the pages never end", path)
	return nil
}

func containsQuery(path string) bool { return strings.Contains(path, "?") }

// A cashier never sees another cashier's orders, a manager never another
// store's: through the list, one order, refunds, and today's data.
func TestOrderScopesOverHTTP(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		w := api.newWorld(t)
		c0, c1, c2 := w.Cashiers[0], w.Cashiers[1], w.Cashiers[2] // c0, c1 in store 0; c2 in store 1
		o0 := api.mustPay(t, c0, w.Customer, 1000)
		o1 := api.mustPay(t, c1, w.Customer, 2000)
		o2 := api.mustPay(t, c2, w.Customer, 4000)
		api.mustPay(t, c0, w.Customer, 300)
		if r := api.request(t, "POST", fmt.Sprintf("/v1/orders/%d/refunds", o0.ID), w.Owner.Access, map[string]any{"refund_no": "R1", "amount": 100}); r.Status != http.StatusCreated {
			t.Fatalf("refund: %d %s", r.Status, r.Raw)
		}

		lists := []struct {
			who   *member
			query string
			n     int
		}{{c0, "", 2}, {c1, "", 1}, {c2, "", 1}, {w.Managers[0], "", 3}, {w.Managers[1], "", 1}, {w.Owner, "", 4},
			{c0, "?cashier_id=" + fmt.Sprint(c1.ID), 0}, {w.Managers[0], "?store_id=" + fmt.Sprint(w.Stores[1].ID), 0},
			{w.Owner, "?store_id=" + fmt.Sprint(w.Stores[1].ID), 1}, {w.Owner, "?state=PARTIALLY_REFUNDED", 1}, {w.Rival.Owner, "", 0}}
		for _, l := range lists {
			if got := api.listIDs(t, "/v1/orders"+l.query, l.who.Access); len(got) != l.n {
				t.Errorf("%s %d lists %s: %v, want %d orders", l.who.Role, l.who.ID, l.query, got, l.n)
			}
		}
		// Small pages give the same orders as one big one.
		if all, paged := api.listIDs(t, "/v1/orders", w.Owner.Access), api.listIDs(t, "/v1/orders?limit=1", w.Owner.Access); fmt.Sprint(all) != fmt.Sprint(paged) {
			t.Errorf("pages of one show %v, one page shows %v", paged, all)
		}
		r := api.request(t, "GET", "/v1/orders?out_trade_no="+o1.OutTradeNo, c0.Access, nil)
		if wantStatus(t, r, http.StatusOK); len(r.JSON["items"].([]any)) != 0 {
			t.Errorf("cashier 0 finds cashier 1's order by out_trade_no: %s", r.Raw)
		}

		for _, g := range []struct {
			who   *member
			order pos.Order
		}{{c0, o1}, {c1, o0}, {w.Managers[0], o2}, {w.Managers[1], o0}, {w.Rival.Owner, o0}} {
			for _, path := range []string{"/v1/orders/%d", "/v1/orders/%d/refunds"} {
				r := api.request(t, "GET", fmt.Sprintf(path, g.order.ID), g.who.Access, nil)
				wantError(t, r, http.StatusNotFound, "ORDER_NOT_FOUND")
			}
		}
		wantError(t, api.request(t, "POST", fmt.Sprintf("/v1/orders/%d/refunds", o2.ID), w.Managers[0].Access,
			map[string]any{"refund_no": "X", "amount": 1}), http.StatusNotFound, "ORDER_NOT_FOUND")
		wantError(t, api.request(t, "POST", fmt.Sprintf("/v1/orders/%d/void", o2.ID), w.Managers[0].Access, nil), http.StatusNotFound, "ORDER_NOT_FOUND")
		if r := api.request(t, "GET", fmt.Sprintf("/v1/orders/%d/refunds", o0.ID), c0.Access, nil); r.Status != http.StatusOK || len(r.JSON["items"].([]any)) != 1 {
			t.Errorf("cashier 0's own refunds: %d %s", r.Status, r.Raw)
		}

		today := []struct {
			who           *member
			gross, refund int64
			paid          int64
		}{{c0, 1300, 100, 2}, {c1, 2000, 0, 1}, {c2, 4000, 0, 1}, {w.Managers[0], 3300, 100, 3}, {w.Managers[1], 4000, 0, 1}, {w.Owner, 7300, 100, 4}, {w.Rival.Owner, 0, 0, 0}}
		for _, d := range today {
			r := api.request(t, "GET", "/v1/stats/today", d.who.Access, nil)
			wantStatus(t, r, http.StatusOK)
			if num(t, r.JSON, "gross") != d.gross || num(t, r.JSON, "refunded") != d.refund || num(t, r.JSON, "net") != d.gross-d.refund ||
				num(t, r.JSON, "paid_orders") != d.paid || len(r.JSON["hours"].([]any)) != 24 || str(t, r.JSON, "time_zone") != "Asia/Shanghai" {
				t.Errorf("%s %d today: %s", d.who.Role, d.who.ID, r.Raw)
			}
		}
		r = api.request(t, "GET", "/v1/stats/daily?days=30", c0.Access, nil)
		wantStatus(t, r, http.StatusOK)
		days := r.JSON["days"].([]any)
		if len(days) != 30 || num(t, days[29].(map[string]any), "gross") != 1300 {
			t.Errorf("daily: %s", r.Raw)
		}
		for _, bad := range []string{"0", "91", "abc", "-1", "07"} {
			wantError(t, api.request(t, "GET", "/v1/stats/daily?days="+bad, w.Owner.Access, nil), http.StatusBadRequest, "INVALID_QUERY")
		}
		for _, bad := range []string{"cursor=nope", "cursor=bzEuMTIzLjA"} {
			wantError(t, api.request(t, "GET", "/v1/orders?"+bad, w.Owner.Access, nil), http.StatusBadRequest, "INVALID_CURSOR")
		}
		for _, bad := range []string{"state=LOST", "method=cash", "kind=x", "from=yesterday", "limit=0", "limit=101", "store_id=x"} {
			wantError(t, api.request(t, "GET", "/v1/orders?"+bad, w.Owner.Access, nil), http.StatusBadRequest, "INVALID_QUERY")
		}
	})
}

func TestRefundsAndVoidOverHTTP(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		w := api.newWorld(t)
		o := api.mustPay(t, w.Cashiers[0], w.Customer, 10000)
		path := fmt.Sprintf("/v1/orders/%d/refunds", o.ID)
		r := api.request(t, "POST", path, w.Managers[0].Access, map[string]any{"refund_no": "R-1", "amount": 2500, "reason": "cold"})
		wantStatus(t, r, http.StatusCreated)
		to := r.JSON["to"].(map[string]any)
		if num(t, r.JSON, "amount") != 2500 || num(t, to, "cash") != 2500 || num(t, r.JSON, "fee_returned") != 10 ||
			str(t, r.JSON["order"].(map[string]any), "state") != "PARTIALLY_REFUNDED" {
			t.Fatalf("refund: %s", r.Raw)
		}
		id := num(t, r.JSON, "id")
		r = api.request(t, "POST", path, w.Owner.Access, map[string]any{"refund_no": "R-1", "amount": 2500})
		if wantStatus(t, r, http.StatusOK); num(t, r.JSON, "id") != id {
			t.Fatalf("retried refund: %s", r.Raw)
		}
		wantError(t, api.request(t, "POST", path, w.Owner.Access, map[string]any{"refund_no": "R-1", "amount": 2501}), http.StatusUnprocessableEntity, "IDEMPOTENCY_CONFLICT")
		wantError(t, api.request(t, "POST", path, w.Owner.Access, map[string]any{"refund_no": "R-2", "amount": 7501}), http.StatusUnprocessableEntity, "REFUND_EXCEEDS_PAID")
		wantError(t, api.request(t, "POST", path, w.Owner.Access, map[string]any{"refund_no": "bad no", "amount": 1}), http.StatusBadRequest, "INVALID_REFUND_NO")
		wantError(t, api.request(t, "POST", path, w.Cashiers[0].Access, map[string]any{"refund_no": "R-3", "amount": 1}), http.StatusForbidden, "FORBIDDEN")
		wantError(t, api.request(t, "POST", fmt.Sprintf("/v1/orders/%d/void", o.ID), w.Owner.Access, nil), http.StatusConflict, "VOID_NOT_ALLOWED")
		r = api.request(t, "GET", path, w.Cashiers[0].Access, nil)
		if wantStatus(t, r, http.StatusOK); len(r.JSON["items"].([]any)) != 1 {
			t.Fatalf("refunds: %s", r.Raw)
		}
		if got := api.cash(t, w.Customer); got != worldCash-10000+2500 {
			t.Errorf("customer cash = %d", got)
		}

		// A void of today's payment gives everything back.
		v := api.mustPay(t, w.Cashiers[0], w.Customer, 800)
		r = api.request(t, "POST", fmt.Sprintf("/v1/orders/%d/void", v.ID), w.Managers[0].Access, nil)
		if order(t, r)["state"] != "REVOKED" || num(t, r.JSON, "refunded") != 800 {
			t.Fatalf("void: %s", r.Raw)
		}
		// An unpaid order closes.
		qr, _ := api.newQROrder(w.Cashiers[0], 100)
		if order(t, api.request(t, "POST", fmt.Sprintf("/v1/orders/%d/void", qr.ID), w.Owner.Access, nil))["state"] != "CLOSED" {
			t.Fatal("void of an unpaid order did not close it")
		}
		api.mustBeSound(t)
	})
}

func TestMembersAndTicketsOverHTTP(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		w := api.newWorld(t)
		other := api.newCustomer(t)
		api.fund(t, other, 100000)
		api.mustPay(t, w.Cashiers[0], w.Customer, 500)
		api.mustPay(t, w.Cashiers[2], other, 9000)
		api.mustPay(t, w.Cashiers[0], w.Customer, 700)

		r := api.request(t, "GET", "/v1/members", w.Owner.Access, nil)
		wantStatus(t, r, http.StatusOK)
		items := r.JSON["items"].([]any)
		if len(items) != 2 || num(t, items[0].(map[string]any), "wallet_id") != int64(other.ID) || num(t, items[1].(map[string]any), "visits") != 2 {
			t.Fatalf("members by spend: %s", r.Raw)
		}
		r = api.request(t, "GET", "/v1/members?sort=recent", w.Managers[0].Access, nil)
		if wantStatus(t, r, http.StatusOK); len(r.JSON["items"].([]any)) != 1 {
			t.Fatalf("store 0's members: %s", r.Raw)
		}
		wantError(t, api.request(t, "GET", "/v1/members?sort=name", w.Owner.Access, nil), http.StatusBadRequest, "INVALID_QUERY")

		// Ticket check: issue by phone, the wallet shows it, a cashier redeems it once.
		r = api.request(t, "POST", "/v1/tickets", w.Managers[0].Access, map[string]any{"issue_no": "TK-1", "phone": w.Customer.Phone,
			"product": "Mooncake box", "price": 16800, "expires_at": api.Clock.Now().Add(48 * time.Hour)})
		wantStatus(t, r, http.StatusCreated)
		if _, leaked := r.JSON["qr_payload"]; leaked {
			t.Errorf("the merchant's view carries the QR: %s", r.Raw)
		}
		tid := num(t, r.JSON, "id")
		r = api.request(t, "POST", "/v1/tickets", w.Managers[0].Access, map[string]any{"issue_no": "TK-1", "phone": w.Customer.Phone,
			"product": "Mooncake box", "price": 16800, "expires_at": api.Clock.Now().Add(48 * time.Hour)})
		if wantStatus(t, r, http.StatusOK); num(t, r.JSON, "id") != tid {
			t.Fatalf("issued again: %s", r.Raw)
		}
		r = api.request(t, "GET", "/v1/wallet/tickets", w.Customer.Access, nil)
		wantStatus(t, r, http.StatusOK)
		mine := r.JSON["items"].([]any)[0].(map[string]any)
		payload := str(t, mine, "qr_payload")
		if num(t, mine, "id") != tid || str(t, mine, "state") != "ISSUED" || str(t, mine, "merchant_name") != w.Merchant.Name {
			t.Fatalf("wallet tickets: %s", r.Raw)
		}
		png := api.request(t, "GET", fmt.Sprintf("/v1/wallet/tickets/%d/qr.png", tid), w.Customer.Access, nil)
		if png.Status != http.StatusOK || png.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("ticket QR: %d %s", png.Status, png.Header.Get("Content-Type"))
		}
		wantError(t, api.request(t, "GET", fmt.Sprintf("/v1/wallet/tickets/%d", tid), other.Access, nil), http.StatusNotFound, "TICKET_NOT_FOUND")
		wantError(t, api.request(t, "POST", "/v1/tickets/redeem", w.Rival.Owner.Access, map[string]any{"qr_payload": payload}), http.StatusNotFound, "TICKET_NOT_FOUND")
		r = api.request(t, "POST", "/v1/tickets/redeem", w.Cashiers[2].Access, map[string]any{"qr_payload": payload})
		if wantStatus(t, r, http.StatusOK); str(t, r.JSON, "state") != "REDEEMED" {
			t.Fatalf("redeem: %s", r.Raw)
		}
		wantError(t, api.request(t, "POST", "/v1/tickets/redeem", w.Cashiers[0].Access, map[string]any{"qr_payload": payload}), http.StatusConflict, "TICKET_ALREADY_REDEEMED")
		wantError(t, api.request(t, "POST", "/v1/tickets/redeem", w.Cashiers[0].Access, map[string]any{"qr_payload": "hello"}), http.StatusBadRequest, "TICKET_PAYLOAD_INVALID")
		wantError(t, api.request(t, "POST", "/v1/tickets", w.Cashiers[0].Access, map[string]any{}), http.StatusForbidden, "FORBIDDEN")
		if ids := api.listIDs(t, "/v1/tickets?limit=1", w.Owner.Access); len(ids) != 1 || ids[0] != tid {
			t.Errorf("issued tickets: %v", ids)
		}
		if ids := api.listIDs(t, "/v1/tickets", w.Managers[1].Access); len(ids) != 0 {
			t.Errorf("store 1's manager sees store 0's tickets: %v", ids)
		}
	})
}
