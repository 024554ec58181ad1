// Package banktest is the contract every bank.Channel must keep, written
// once and run against each implementation (today the Simulator; tomorrow
// a real bank's sandbox adapter, which maps the bank's published test cards
// to the bank.SimCard* numbers).
package banktest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/bank"
)

// Card returns details of a card with number that expire in two years.
func Card(number string) bank.CardDetails {
	return bank.CardDetails{Number: number, Holder: "Li Lei", ExpiryMonth: 12, ExpiryYear: time.Now().Year() + 2}
}

// RunChannelContract runs the contract against fresh channels from newChannel.
func RunChannelContract(t *testing.T, newChannel func() bank.Channel) {
	t.Run("BindCard", func(t *testing.T) { testBindCard(t, newChannel()) })
	t.Run("DebitIsIdempotentByReference", func(t *testing.T) { testDebitIdempotent(t, newChannel()) })
	t.Run("ConcurrentDebitsOfOneReferenceChargeOnce", func(t *testing.T) { testConcurrentDebit(t, newChannel()) })
	t.Run("FailuresAreCoded", func(t *testing.T) { testDebitFailures(t, newChannel()) })
	t.Run("DebitValidatesItsRequest", func(t *testing.T) { testDebitValidation(t, newChannel()) })
	t.Run("PayoutIsIdempotentByReference", func(t *testing.T) { testPayout(t, newChannel()) })
	t.Run("RefundIsIdempotentAndBoundedByTheDebit", func(t *testing.T) { testRefund(t, newChannel()) })
	t.Run("ConcurrentRefundsNeverExceedTheDebit", func(t *testing.T) { testConcurrentRefunds(t, newChannel()) })
}

// wantCode fails unless err carries code.
func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := paydesk.ErrorCode(err); got != code {
		t.Errorf("%s: error %v (code %q), want code %s", what, err, got, code)
	}
}

// MustBind binds number on ch or fails the test.
func MustBind(t testing.TB, ch bank.Channel, number string) bank.Card {
	t.Helper()
	c, err := ch.BindCard(context.Background(), Card(number))
	if err != nil {
		t.Fatalf("bind card %s: %v", number, err)
	}
	return c
}

func testBindCard(t *testing.T, ch bank.Channel) {
	ctx := context.Background()
	c := MustBind(t, ch, "4242 4242 4242 4242")
	if c.Token == "" || c.Last4 != "4242" || c.BankName == "" {
		t.Errorf("bound card = %+v, want a token, last4 4242 and a bank name", c)
	}
	if c2 := MustBind(t, ch, bank.SimCardOK); c2.Token == c.Token {
		t.Errorf("two bindings share the token %s", c.Token)
	}
	expired := Card(bank.SimCardOK)
	expired.ExpiryYear = 2001
	tests := []struct {
		name string
		card bank.CardDetails
		code string
	}{
		{"bad check digit", Card("4242424242424241"), "CARD_INVALID"},
		{"letters", Card("4242x24242424242"), "CARD_INVALID"},
		{"too short", Card("4242"), "CARD_INVALID"},
		{"expired", expired, "CARD_INVALID"},
		{"no holder", bank.CardDetails{Number: bank.SimCardOK, ExpiryMonth: 1, ExpiryYear: 2100}, "CARD_INVALID"},
		{"blocked by the bank", Card(bank.SimCardBlocked), "CARD_DECLINED"},
	}
	for _, tt := range tests {
		_, err := ch.BindCard(ctx, tt.card)
		wantCode(t, tt.name, err, tt.code)
	}
}

func debit(ref, token string, amt paydesk.Amount) bank.DebitRequest {
	return bank.DebitRequest{Reference: ref, CardToken: token, Amount: amt, Currency: "CNY"}
}

func testDebitIdempotent(t *testing.T, ch bank.Channel) {
	ctx := context.Background()
	card := MustBind(t, ch, bank.SimCardOK)
	first, err := ch.Debit(ctx, debit("topup-1", card.Token, 5000))
	if err != nil {
		t.Fatalf("debit: %v", err)
	}
	if first.Reference != "topup-1" || first.BankReference == "" || first.Amount != 5000 || first.Currency != "CNY" {
		t.Fatalf("debit result = %+v", first)
	}
	again, err := ch.Debit(ctx, debit("topup-1", card.Token, 5000))
	if err != nil || again.BankReference != first.BankReference {
		t.Fatalf("retry = %+v, %v; want the first result %s again", again, err, first.BankReference)
	}
	_, err = ch.Debit(ctx, debit("topup-1", card.Token, 5001))
	wantCode(t, "same reference, other amount", err, "IDEMPOTENCY_CONFLICT")
	other, err := ch.Debit(ctx, debit("topup-2", card.Token, 5000))
	if err != nil || other.BankReference == first.BankReference {
		t.Fatalf("a new reference = %+v, %v; want a new debit", other, err)
	}
}

func testConcurrentDebit(t *testing.T, ch bank.Channel) {
	card := MustBind(t, ch, bank.SimCardOK)
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[string]int{}
	for range 16 {
		wg.Go(func() {
			r, err := ch.Debit(context.Background(), debit("race-1", card.Token, 700))
			if err != nil {
				t.Errorf("concurrent debit: %v", err)
				return
			}
			mu.Lock()
			seen[r.BankReference]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(seen) != 1 {
		t.Fatalf("16 debits of one reference made %d bank debits: %v", len(seen), seen)
	}
}

func testDebitFailures(t *testing.T, ch bank.Channel) {
	ctx := context.Background()
	declined := MustBind(t, ch, bank.SimCardDeclined)
	_, err := ch.Debit(ctx, debit("d-1", declined.Token, 100))
	wantCode(t, "declined card", err, "CARD_DECLINED")
	var pe *paydesk.Error
	if !errors.As(err, &pe) || pe.Kind != paydesk.KindUnprocessable {
		t.Errorf("a decline is %v, want a KindUnprocessable paydesk.Error", err)
	}
	_, err = ch.Debit(ctx, debit("d-1", declined.Token, 100))
	wantCode(t, "retried decline", err, "CARD_DECLINED")

	unavailable := MustBind(t, ch, bank.SimCardUnavailable)
	_, err = ch.Debit(ctx, debit("u-1", unavailable.Token, 100))
	wantCode(t, "bank unavailable", err, "BANK_UNAVAILABLE")
	if !errors.As(err, &pe) || pe.Kind != paydesk.KindUnavailable {
		t.Errorf("unavailable is %v, want a KindUnavailable paydesk.Error", err)
	}

	_, err = ch.Debit(ctx, debit("n-1", "card_does_not_exist", 100))
	wantCode(t, "unknown token", err, "CARD_NOT_FOUND")
}

func testDebitValidation(t *testing.T, ch bank.Channel) {
	ctx := context.Background()
	card := MustBind(t, ch, bank.SimCardOK)
	long := make([]byte, bank.MaxReferenceLen+1)
	for i := range long {
		long[i] = 'r'
	}
	tests := []struct {
		name string
		req  bank.DebitRequest
		code string
	}{
		{"zero", debit("v-1", card.Token, 0), "INVALID_AMOUNT"},
		{"negative", debit("v-2", card.Token, -100), "INVALID_AMOUNT"},
		{"too large", debit("v-3", card.Token, paydesk.MaxAmount+1), "INVALID_AMOUNT"},
		{"no currency", bank.DebitRequest{Reference: "v-4", CardToken: card.Token, Amount: 1}, "INVALID_ARGUMENT"},
		{"lowercase currency", bank.DebitRequest{Reference: "v-5", CardToken: card.Token, Amount: 1, Currency: "cny"}, "INVALID_ARGUMENT"},
		{"no reference", debit("", card.Token, 100), "INVALID_ARGUMENT"},
		{"reference too long", debit(string(long), card.Token, 100), "INVALID_ARGUMENT"},
		{"reference with a space", debit("a b", card.Token, 100), "INVALID_ARGUMENT"},
	}
	for _, tt := range tests {
		_, err := ch.Debit(ctx, tt.req)
		wantCode(t, tt.name, err, tt.code)
	}
	// A refused request reserves nothing: the reference is still free.
	if _, err := ch.Debit(ctx, debit("v-1", card.Token, 100)); err != nil {
		t.Errorf("reference of a refused request: %v", err)
	}
}

func testPayout(t *testing.T, ch bank.Channel) {
	ctx := context.Background()
	req := bank.PayoutRequest{Reference: "settle-1", Account: bank.BankAccount{Number: "6222020200112233", Holder: "Tea House Ltd", BankName: "ICBC"},
		Amount: 123456, Currency: "CNY"}
	first, err := ch.Payout(ctx, req)
	if err != nil {
		t.Fatalf("payout: %v", err)
	}
	if first.Reference != req.Reference || first.BankReference == "" || first.Amount != req.Amount || first.Status == "" {
		t.Fatalf("payout = %+v", first)
	}
	again, err := ch.Payout(ctx, req)
	if err != nil || again.BankReference != first.BankReference {
		t.Fatalf("resubmitted payout = %+v, %v; want %s again", again, err, first.BankReference)
	}
	other := req
	other.Amount++
	_, err = ch.Payout(ctx, other)
	wantCode(t, "same reference, other amount", err, "IDEMPOTENCY_CONFLICT")
	got, err := ch.PayoutStatus(ctx, req.Reference)
	if err != nil || got.BankReference != first.BankReference {
		t.Fatalf("status = %+v, %v", got, err)
	}
	_, err = ch.PayoutStatus(ctx, "never-submitted")
	wantCode(t, "unknown payout", err, "PAYOUT_NOT_FOUND")
	bad := req
	bad.Reference, bad.Account.Number = "settle-2", "12"
	_, err = ch.Payout(ctx, bad)
	wantCode(t, "short account number", err, "BANK_ACCOUNT_INVALID")
	bad.Account.Number, bad.Amount = "6222020200112233", 0
	_, err = ch.Payout(ctx, bad)
	wantCode(t, "zero payout", err, "INVALID_AMOUNT")
}

// MustBindRetrying binds number on a channel that fails at random, retrying
// BANK_UNAVAILABLE.
func MustBindRetrying(t testing.TB, ch bank.Channel, number string) bank.Card {
	t.Helper()
	for range 100 {
		c, err := ch.BindCard(context.Background(), Card(number))
		if err == nil {
			return c
		}
		if !errors.Is(err, bank.ErrUnavailable) {
			t.Fatalf("bind card %s: %v", number, err)
		}
	}
	t.Fatalf("bind card %s: the bank never answered", number)
	return bank.Card{}
}

func refund(ref, debitRef string, amt paydesk.Amount) bank.RefundRequest {
	return bank.RefundRequest{Reference: ref, DebitReference: debitRef, Amount: amt, Currency: "CNY"}
}

func testRefund(t *testing.T, ch bank.Channel) {
	ctx := context.Background()
	card := MustBind(t, ch, bank.SimCardOK)
	if _, err := ch.Debit(ctx, debit("pay-1", card.Token, 1000)); err != nil {
		t.Fatalf("debit: %v", err)
	}
	first, err := ch.Refund(ctx, refund("pay-1-r1", "pay-1", 400))
	if err != nil {
		t.Fatalf("refund: %v", err)
	}
	if first.Reference != "pay-1-r1" || first.DebitReference != "pay-1" || first.BankReference == "" || first.Amount != 400 || first.Currency != "CNY" {
		t.Fatalf("refund result = %+v", first)
	}
	again, err := ch.Refund(ctx, refund("pay-1-r1", "pay-1", 400))
	if err != nil || again.BankReference != first.BankReference {
		t.Fatalf("retried refund = %+v, %v; want %s again", again, err, first.BankReference)
	}
	_, err = ch.Refund(ctx, refund("pay-1-r1", "pay-1", 401))
	wantCode(t, "same refund reference, other amount", err, "IDEMPOTENCY_CONFLICT")
	_, err = ch.Refund(ctx, refund("pay-1-r2", "pay-1", 601))
	wantCode(t, "refunds above the debit", err, "REFUND_EXCEEDS_DEBIT")
	if _, err := ch.Refund(ctx, refund("pay-1-r2", "pay-1", 600)); err != nil {
		t.Fatalf("refund of the rest: %v", err)
	}
	_, err = ch.Refund(ctx, refund("pay-1-r3", "pay-1", 1))
	wantCode(t, "refund of a fully refunded debit", err, "REFUND_EXCEEDS_DEBIT")
	_, err = ch.Refund(ctx, refund("x-r1", "never-debited", 1))
	wantCode(t, "refund of an unknown debit", err, "DEBIT_NOT_FOUND")

	declined := MustBind(t, ch, bank.SimCardDeclined)
	ch.Debit(ctx, debit("d-1", declined.Token, 100))
	_, err = ch.Refund(ctx, refund("d-1-r1", "d-1", 100))
	wantCode(t, "refund of a declined debit", err, "DEBIT_NOT_FOUND")
	_, err = ch.Refund(ctx, refund("z-r1", "pay-1", 0))
	wantCode(t, "zero refund", err, "INVALID_AMOUNT")
	_, err = ch.Refund(ctx, refund("", "pay-1", 1))
	wantCode(t, "refund without a reference", err, "INVALID_ARGUMENT")
}

func testConcurrentRefunds(t *testing.T, ch bank.Channel) {
	ctx := context.Background()
	card := MustBind(t, ch, bank.SimCardOK)
	if _, err := ch.Debit(ctx, debit("pay-c", card.Token, 1000)); err != nil {
		t.Fatalf("debit: %v", err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := map[string]paydesk.Amount{} // bank reference -> amount
	for i := range 20 {
		wg.Go(func() {
			// Two goroutines per reference: each reference refunds once.
			r, err := ch.Refund(ctx, refund(fmt.Sprintf("pay-c-r%d", i/2), "pay-c", 150))
			if err != nil {
				if paydesk.ErrorCode(err) != "REFUND_EXCEEDS_DEBIT" {
					t.Errorf("concurrent refund: %v", err)
				}
				return
			}
			mu.Lock()
			done[r.BankReference] = r.Amount
			mu.Unlock()
		})
	}
	wg.Wait()
	// Ten references of 150 against a debit of 1000: exactly six fit.
	if len(done) != 6 {
		t.Fatalf("%d refunds of 150 went through against a debit of 1000, want 6: %v", len(done), done)
	}
}
