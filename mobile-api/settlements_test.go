package mobileapi

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/merchant"
	"github.com/paydesk/paydesk/push"
	"github.com/paydesk/paydesk/settlement"
	"github.com/paydesk/paydesk/wallet"
)

// testBankSecret signs the harness bank's payout callbacks.
const testBankSecret = "paydesk-test-bank-callback-secret-0123"

// settledBatches remembers the batch settledBatch made per API and merchant.
var settledBatches sync.Map

// settledBatch returns the id of a settlement batch of merchant m, made
// once: a sale posted now, its business day cut by a settlement service
// whose clock is two days ahead (the harness's own clock stays, so that
// the tokens the access matrix holds stay valid). It panics on a failure:
// the matrix's samples cannot fail a test.
func (api *testAPI) settledBatch(m merchant.Merchant) int64 {
	key := fmt.Sprintf("%p/%d", api, m.ID)
	if id, ok := settledBatches.Load(key); ok {
		return id.(int64)
	}
	ctx := context.Background()
	plat, err := api.Ledger.Platform(ctx, m.Currency)
	if err != nil {
		panic(err)
	}
	if _, err := api.Ledger.Post(ctx, ledger.Transfer{Reference: "test:sale:" + key, Kind: "payment", Memo: "matrix sale",
		Postings: []ledger.Posting{{Source: plat.Clearing, Destination: m.Accounts.Pending, Amount: 1_000}}}, nil); err != nil {
		panic(err)
	}
	later := settlement.New(settlement.Deps{DB: api.DB, Ledger: api.Ledger, Merchants: api.Merchants, Bank: api.Bank,
		Clock: func() time.Time { return api.Clock.Now().Add(48 * time.Hour) }}, settlement.Config{})
	b, ok, err := later.CutDay(ctx, m.ID, settlement.DayOf(api.Clock.Now().In(m.Location())))
	if err != nil || !ok {
		panic(fmt.Sprintf("cut the matrix's day: %v %v", ok, err))
	}
	settledBatches.Store(key, b.ID)
	return b.ID
}

// relogIn logs members in again after the clock moved past their tokens' life.
func (api *testAPI) relogIn(t *testing.T, ms ...*member) {
	t.Helper()
	for _, m := range ms {
		api.logIn(t, m)
	}
}

// scan takes a scan-code payment of amount from c at cashier m, over HTTP.
func (api *testAPI) scan(t *testing.T, m *member, c *customer, amount int64) map[string]any {
	t.Helper()
	api.Clock.Advance(wallet.PaymentCodeStep) // a code is single use per step
	r := api.request(t, "POST", "/v1/payments/scan", m.Access, map[string]any{"out_trade_no": api.outTradeNo("sale"), "amount": amount,
		"payment_code": api.codeNow(c)})
	wantStatus(t, r, http.StatusCreated)
	return r.JSON
}

// balances is GET /v1/balance as m.
func (api *testAPI) balances(t *testing.T, m *member) map[string]any {
	t.Helper()
	r := api.request(t, "GET", "/v1/balance", m.Access, nil)
	wantStatus(t, r, http.StatusOK)
	if num(t, r.JSON, "book") != num(t, r.JSON, "pending")+num(t, r.JSON, "available")+num(t, r.JSON, "frozen") || str(t, r.JSON, "currency") != "CNY" {
		t.Fatalf("balance %v", r.JSON)
	}
	return r.JSON
}

// nextDay moves the clock past the merchant's next cut-off (and its grace)
// and runs the scheduler; the tokens of ms are renewed.
func (api *testAPI) nextDay(t *testing.T, ms ...*member) {
	t.Helper()
	loc := merchant.Merchant{}.Location()
	now := api.Clock.Now().In(loc)
	next := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 3, 0, 0, loc)
	api.Clock.Advance(next.Sub(now))
	if err := api.Settlement.Tick(context.Background()); err != nil {
		t.Fatalf("tick: %v", err)
	}
	api.relogIn(t, ms...)
}

// waitFor polls until cond holds: a callback from the bank arrives over
// HTTP on the bank's goroutine, after Complete has returned.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestMoneyRoutes runs the merchant's money through the API: balances as
// payments come in, a settlement paid by the bank's signed callback over
// HTTP, one that fails and comes back to available, a withdrawal of it,
// the lists, a statement agreeing with the balances, and the events.
func TestMoneyRoutes(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		ctx := context.Background()
		w := api.newWorld(t)
		owner, manager := w.Owner, w.Managers[0]
		c := api.newCustomer(t)
		api.fund(t, c, 200_000)
		day1 := settlement.DayOf(api.Clock.Now().In(w.Merchant.Location()))

		o := api.scan(t, w.Cashiers[0], c, 10_000)
		net := 10_000 - num(t, o, "fee")
		for _, m := range []*member{owner, manager} {
			if b := api.balances(t, m); num(t, b, "pending") != net || num(t, b, "book") != net {
				t.Fatalf("%s's balance after a sale: %v", m.Role, b)
			}
		}
		if _, err := api.Settlement.SetBankAccount(ctx, w.Merchant.ID, bank.BankAccount{Number: "6222020200112233", Holder: "Lotus Ltd"}); err != nil {
			t.Fatal(err)
		}

		// Day 1 is cut and submitted; the bank pays and calls back.
		api.nextDay(t, owner, manager, w.Cashiers[0], w.Rival.Owner)
		r := api.request(t, "GET", "/v1/settlements", manager.Access, nil)
		wantStatus(t, r, http.StatusOK)
		items := r.JSON["items"].([]any)
		if len(items) != 1 || r.JSON["next_cursor"] != nil {
			t.Fatalf("settlements %s", r.Raw)
		}
		b1 := items[0].(map[string]any)
		if str(t, b1, "state") != "SUBMITTED" || num(t, b1, "amount") != net || str(t, b1, "business_day") != day1.String() {
			t.Fatalf("day 1's batch %v", b1)
		}
		path := fmt.Sprintf("/v1/settlements/%d", num(t, b1, "id"))
		wantError(t, api.request(t, "GET", path, w.Rival.Owner.Access, nil), http.StatusNotFound, "SETTLEMENT_NOT_FOUND")
		if b := api.balances(t, owner); num(t, b, "frozen") != net || num(t, b, "pending") != 0 {
			t.Fatalf("balance while paying out: %v", b)
		}
		if err := api.Bank.Complete(str(t, b1, "reference"), bank.PayoutPaid, ""); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the PAID callback", func() bool {
			b, _ := api.Settlement.Batch(ctx, w.Merchant.ID, num(t, b1, "id"))
			return b.State == settlement.Paid
		})
		r = api.request(t, "GET", path, owner.Access, nil)
		wantStatus(t, r, http.StatusOK)
		if str(t, r.JSON, "state") != "PAID" || r.JSON["paid_at"] == nil {
			t.Fatalf("paid batch %s", r.Raw)
		}
		if b := api.balances(t, owner); num(t, b, "book") != 0 {
			t.Fatalf("balance after the payout: %v", b)
		}

		// Day 2 is paid to a closed account: FAILED, the money in available.
		api.scan(t, w.Cashiers[0], c, 50_000)
		if _, err := api.Settlement.SetBankAccount(ctx, w.Merchant.ID, bank.BankAccount{Number: bank.SimAccountClosed, Holder: "Lotus Ltd"}); err != nil {
			t.Fatal(err)
		}
		api.nextDay(t, owner, manager, w.Cashiers[0], w.Rival.Owner)
		bs, _, _ := api.Settlement.Batches(ctx, w.Merchant.ID, 0, 1)
		if err := api.Bank.Complete(bs[0].Reference, bank.PayoutFailed, "account closed"); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the FAILED callback", func() bool {
			b, _ := api.Settlement.Batch(ctx, w.Merchant.ID, bs[0].ID)
			return b.State == settlement.Failed
		})
		bal := api.balances(t, owner)
		avail := num(t, bal, "available")
		if avail != int64(bs[0].Amount) || num(t, bal, "reserved_for_retry") != avail || num(t, bal, "withdrawable") != avail || len(bal["failed"].([]any)) != 1 {
			t.Fatalf("balance %v after the failed payout of %s", bal, bs[0].Amount)
		}

		// The owner withdraws part of it to a working account.
		if _, err := api.Settlement.SetBankAccount(ctx, w.Merchant.ID, bank.BankAccount{Number: "6222020200445566", Holder: "Lotus Ltd"}); err != nil {
			t.Fatal(err)
		}
		req := map[string]any{"request_no": "wd-1", "amount": 20_000}
		wantError(t, api.request(t, "POST", "/v1/withdrawals", manager.Access, req), http.StatusForbidden, "FORBIDDEN")
		r = api.request(t, "POST", "/v1/withdrawals", owner.Access, req)
		wantStatus(t, r, http.StatusOK)
		wd := r.JSON
		if str(t, wd, "state") != "SUBMITTED" || num(t, wd, "amount") != 20_000 {
			t.Fatalf("withdrawal %s", r.Raw)
		}
		if again := api.request(t, "POST", "/v1/withdrawals", owner.Access, req); again.Status != http.StatusOK || num(t, again.JSON, "id") != num(t, wd, "id") {
			t.Fatalf("the same request again: %d %s", again.Status, again.Raw)
		}
		wantError(t, api.request(t, "POST", "/v1/withdrawals", owner.Access, map[string]any{"request_no": "wd-1", "amount": 20_001}),
			http.StatusUnprocessableEntity, "IDEMPOTENCY_CONFLICT")
		wantError(t, api.request(t, "POST", "/v1/withdrawals", owner.Access, map[string]any{"request_no": "wd-2", "amount": avail}),
			http.StatusUnprocessableEntity, "MERCHANT_INSUFFICIENT_BALANCE")
		wantError(t, api.request(t, "POST", "/v1/withdrawals", owner.Access, map[string]any{"request_no": "wd-3", "amount": 99}),
			http.StatusBadRequest, "WITHDRAWAL_BELOW_MINIMUM")
		if b := api.balances(t, owner); num(t, b, "available") != avail-20_000 || num(t, b, "frozen") != 20_000 || num(t, b, "reserved_for_retry") != 0 ||
			len(b["failed"].([]any)) != 0 || len(b["in_flight"].(map[string]any)["withdrawals"].([]any)) != 1 {
			t.Fatalf("balance during the withdrawal: %v", b)
		}
		// Withdrawing from the failed batch's money closed it: it says so.
		if b, _ := api.Settlement.Batch(ctx, w.Merchant.ID, bs[0].ID); b.State != settlement.Settled || !strings.Contains(b.Reason, "wd-1") {
			t.Fatalf("the failed batch after the withdrawal: %+v", b)
		}

		// The bank's callback for it: a forged one is refused and changes
		// nothing; the genuine one, delivered twice, changes once.
		cb := bank.Callback{ID: "cb-wd-1", Reference: str(t, wd, "reference"), BankReference: "P1", Status: bank.PayoutPaid, Amount: 20_000, Currency: "CNY", At: api.Clock.Now()}
		body, sig, _ := bank.SignCallback([]byte(testBankSecret), cb)
		_, forged, _ := bank.SignCallback([]byte("not-the-bank"), cb)
		for _, s := range []string{forged, "", "00"} {
			wantError(t, api.requestWith(t, "POST", "/v1/bank/callbacks", "", rawBody(string(body)), http.Header{bank.SignatureHeader: {s}}),
				http.StatusUnauthorized, "BANK_CALLBACK_INVALID")
		}
		if b := api.balances(t, owner); num(t, b, "frozen") != 20_000 {
			t.Fatalf("a forged callback moved money: %v", b)
		}
		for i, want := range []bool{true, false} {
			r := api.requestWith(t, "POST", "/v1/bank/callbacks", "", rawBody(string(body)), http.Header{bank.SignatureHeader: {sig}})
			wantStatus(t, r, http.StatusOK)
			if r.JSON["changed"] != want {
				t.Fatalf("delivery %d of the callback: %s", i+1, r.Raw)
			}
		}
		if b := api.balances(t, owner); num(t, b, "frozen") != 0 || num(t, b, "available") != avail-20_000 {
			t.Fatalf("balance after the withdrawal: %v", b)
		}
		r = api.request(t, "GET", "/v1/withdrawals", owner.Access, nil)
		wantStatus(t, r, http.StatusOK)
		if ws := r.JSON["items"].([]any); len(ws) != 1 || ws[0].(map[string]any)["state"] != "PAID" {
			t.Fatalf("withdrawals %s", r.Raw)
		}
		if r := api.request(t, "GET", "/v1/withdrawals", w.Rival.Owner.Access, nil); r.Status != http.StatusOK || len(r.JSON["items"].([]any)) != 0 {
			t.Fatalf("the rival sees withdrawals: %s", r.Raw)
		}

		// The statement of the three days agrees with the balances.
		today := settlement.DayOf(api.Clock.Now().In(w.Merchant.Location()))
		r = api.request(t, "GET", "/v1/statements.csv?from="+day1.String()+"&to="+today.String(), owner.Access, nil)
		wantStatus(t, r, http.StatusOK)
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") || !strings.Contains(r.Header.Get("Content-Disposition"), "statement-") {
			t.Fatalf("statement headers %v", r.Header)
		}
		closing := checkStatement(t, r.Raw)
		if b := api.balances(t, owner); closing["pending"] != num(t, b, "pending") || closing["available"] != num(t, b, "available") || closing["frozen"] != 0 {
			t.Fatalf("statement closes at %v, balance %v", closing, b)
		}
		wantError(t, api.request(t, "GET", "/v1/statements.csv?from="+today.String()+"&to="+day1.String(), owner.Access, nil), http.StatusBadRequest, "INVALID_ARGUMENT")
		wantError(t, api.request(t, "GET", "/v1/statements.csv?from=yesterday&to="+day1.String(), owner.Access, nil), http.StatusBadRequest, "INVALID_QUERY")

		// Every change was pushed, after it committed.
		events, err := api.Outbox.MerchantEvents(ctx, w.Merchant.ID, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		var lastBatch, lastWithdrawal map[string]any
		for _, e := range events {
			if e.Type == push.SettlementUpdated || e.Type == push.WithdrawalUpdated {
				var d map[string]any
				json.Unmarshal(e.Data, &d)
				got = append(got, fmt.Sprintf("%s:%v", e.Type, d["state"]))
				if e.Type == push.SettlementUpdated {
					lastBatch = d
				} else {
					lastWithdrawal = d
				}
			}
		}
		// A batch is pushed in the shape the API answers it (view.Batch):
		// the last event of a batch is the batch as GET now shows it.
		status, rest := api.do(t, "GET", fmt.Sprintf("/v1/settlements/%v", lastBatch["id"]), owner.Access, nil)
		if status != http.StatusOK || !reflect.DeepEqual(rest, lastBatch) {
			t.Fatalf("settlement.updated's data\n%v\nGET /v1/settlements/{id} (%d)\n%v", lastBatch, status, rest)
		}
		// So is a withdrawal (view.Withdrawal), as GET /v1/withdrawals lists it.
		status, list := api.do(t, "GET", "/v1/withdrawals", owner.Access, nil)
		var listed any
		if items, ok := list["items"].([]any); ok {
			for _, it := range items {
				if it.(map[string]any)["id"] == lastWithdrawal["id"] {
					listed = it
				}
			}
		}
		if status != http.StatusOK || !reflect.DeepEqual(listed, any(lastWithdrawal)) {
			t.Fatalf("withdrawal.updated's data\n%v\nGET /v1/withdrawals (%d)\n%v", lastWithdrawal, status, list)
		}
		want := "settlement.updated:NOT_DUE settlement.updated:AWAITING_PAYMENT settlement.updated:SUBMITTED settlement.updated:PAID " +
			"settlement.updated:NOT_DUE settlement.updated:AWAITING_PAYMENT settlement.updated:SUBMITTED settlement.updated:FAILED " +
			"settlement.updated:SETTLED withdrawal.updated:SUBMITTED withdrawal.updated:PAID"
		if strings.Join(got, " ") != want {
			t.Fatalf("events:\n%s\nwant\n%s", strings.Join(got, " "), want)
		}
	})
}

// checkStatement parses a statement CSV, checks every section's arithmetic
// to the cent, and returns each account's closing balance in minor units.
func checkStatement(t testing.TB, raw []byte) map[string]int64 {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil || len(rows) == 0 || strings.Join(rows[0], ",") != strings.Join(settlement.StatementHeader, ",") {
		t.Fatalf("statement is not the CSV: %v\n%s", err, raw)
	}
	cents := func(s string) int64 {
		if s == "" {
			return 0
		}
		var whole, frac int64
		neg := strings.HasPrefix(s, "-")
		if _, err := fmt.Sscanf(strings.TrimPrefix(s, "-"), "%d.%02d", &whole, &frac); err != nil {
			t.Fatalf("amount %q: %v", s, err)
		}
		if neg {
			return -(whole*100 + frac)
		}
		return whole*100 + frac
	}
	closing := map[string]int64{}
	var running, debits, credits int64
	for i, r := range rows[1:] {
		switch r[1] {
		case "opening":
			running, debits, credits = cents(r[9]), 0, 0
		case "entry":
			debits += cents(r[7])
			credits += cents(r[8])
			running += cents(r[8]) - cents(r[7])
			if running != cents(r[9]) {
				t.Fatalf("row %d: balance %s, the rows before add up to %d", i+2, r[9], running)
			}
		case "closing":
			if running != cents(r[9]) || debits != cents(r[7]) || credits != cents(r[8]) {
				t.Fatalf("%s closes at %s (debits %s credits %s); the entries add up to %d (%d, %d)", r[0], r[9], r[7], r[8], running, debits, credits)
			}
			closing[r[0]] = running
		}
	}
	if len(closing) != 3 {
		t.Fatalf("statement has sections %v", closing)
	}
	return closing
}

// TestManualPayoutRoutes: a merchant the operator put in manual payout
// mode sees it on GET /v1/balance with what arrives when; at the due date
// the batch settles into available and the owner withdraws part of it.
func TestManualPayoutRoutes(t *testing.T) {
	eachAPI(t, func(t *testing.T, api *testAPI) {
		ctx := context.Background()
		w := api.newWorld(t)
		owner := w.Owner
		c := api.newCustomer(t)
		api.fund(t, c, 200_000)
		if _, err := api.Settlement.SetBankAccount(ctx, w.Merchant.ID, bank.BankAccount{Number: "6222020200112233", Holder: "Lotus Ltd"}); err != nil {
			t.Fatal(err)
		}
		if b := api.balances(t, owner); str(t, b, "payout_mode") != "auto" {
			t.Fatalf("default payout mode: %v", b)
		}
		if err := api.Settlement.SetPayoutMode(ctx, w.Merchant.ID, settlement.PayoutManual); err != nil {
			t.Fatal(err)
		}
		o := api.scan(t, w.Cashiers[0], c, 30_000)
		net := 30_000 - num(t, o, "fee")
		if b := api.balances(t, owner); str(t, b, "payout_mode") != "manual" || num(t, b, "withdrawable") != 0 || num(t, b, "pending") != net {
			t.Fatalf("balance before the cut-off: %v", b)
		}
		// T+1: cut-off and due date come together; the batch settles.
		api.nextDay(t, owner, w.Rival.Owner, w.Cashiers[0])
		b := api.balances(t, owner)
		if num(t, b, "available") != net || num(t, b, "withdrawable") != net || num(t, b, "pending") != 0 || len(b["upcoming"].([]any)) != 0 {
			t.Fatalf("balance after settling: %v", b)
		}
		r := api.request(t, "GET", "/v1/settlements", owner.Access, nil)
		wantStatus(t, r, http.StatusOK)
		if items := r.JSON["items"].([]any); len(items) != 1 || items[0].(map[string]any)["state"] != "SETTLED" {
			t.Fatalf("settlements %s", r.Raw)
		}
		// A sale of the new day is upcoming with its due date.
		api.scan(t, w.Cashiers[0], c, 5_000)
		api.Clock.Advance(24 * time.Hour)
		if err := api.Settlement.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		api.relogIn(t, owner, w.Rival.Owner)
		if b := api.balances(t, owner); len(b["upcoming"].([]any)) > 1 {
			t.Fatalf("upcoming %v", b["upcoming"])
		}
		// The owner withdraws part of it; the same request_no is the same withdrawal.
		req := map[string]any{"request_no": "man-1", "amount": 10_000}
		r = api.request(t, "POST", "/v1/withdrawals", owner.Access, req)
		wantStatus(t, r, http.StatusOK)
		if again := api.request(t, "POST", "/v1/withdrawals", owner.Access, req); num(t, again.JSON, "id") != num(t, r.JSON, "id") {
			t.Fatalf("the same request_no again: %s", again.Raw)
		}
		b = api.balances(t, owner)
		if num(t, b, "frozen") != 10_000 || len(b["in_flight"].(map[string]any)["withdrawals"].([]any)) != 1 {
			t.Fatalf("balance during the withdrawal: %v", b)
		}
		if rb := api.balances(t, w.Rival.Owner); num(t, rb, "book") != 0 || str(t, rb, "payout_mode") != "auto" {
			t.Fatalf("the rival's balance: %v", rb)
		}
		rep, err := api.Settlement.Check(ctx, w.Merchant.ID)
		if err != nil || !rep.OK() {
			t.Fatalf("check: %s %v", rep, err)
		}
		today := settlement.DayOf(api.Clock.Now().In(w.Merchant.Location()))
		r = api.request(t, "GET", "/v1/statements.csv?from="+today.AddDays(-3).String()+"&to="+today.String(), owner.Access, nil)
		wantStatus(t, r, http.StatusOK)
		closing := checkStatement(t, r.Raw)
		if closing["pending"] != num(t, b, "pending") || closing["available"] != num(t, b, "available") || closing["frozen"] != num(t, b, "frozen") {
			t.Fatalf("statement closes at %v, balance %v", closing, b)
		}
	})
}
