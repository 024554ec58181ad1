package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// twoInstances is a book with a second ledger (its own poster) over the
// same database: two paydesk instances.
func twoInstances(t *testing.T, db *storage.DB) (*book, [2]*ledger.Ledger) {
	t.Helper()
	b := newBook(t, db)
	other := ledger.New(ledger.NewGormStore(db))
	t.Cleanup(other.Close)
	return b, [2]*ledger.Ledger{b.Ledger, other}
}

// postAll posts transfer(k, i) for every reference i from copies
// goroutines per instance k, all walking the references in the same order
// so that the copies of one reference meet in both posters' batches at
// once, and returns every answer by reference.
func postAll(ls [2]*ledger.Ledger, refs, copies int, transfer func(k, i int) ledger.Transfer) [][]answer {
	answers := make([][]answer, refs)
	for i := range answers {
		answers[i] = make([]answer, 2*copies)
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for k, l := range ls {
		for c := range copies {
			wg.Go(func() {
				<-start
				for i := range refs {
					got, err := l.Post(context.Background(), transfer(k, i), nil)
					answers[i][k*copies+c] = answer{k: k, t: got, err: err}
				}
			})
		}
	}
	close(start)
	wg.Wait()
	return answers
}

type answer struct {
	k   int // the instance that answered
	t   ledger.Transfer
	err error
}

// Two instances post the same references, with the same postings, at the
// same time: a till retrying against the other instance, or two racing
// copies of one request. Each reference is recorded once; every call is
// answered with it, exactly one as posted and the rest as replays, and
// never with an error (issue 20: the loser of the race on the reference's
// unique key was answered UNAVAILABLE).
func TestSameReferenceFromTwoInstances(t *testing.T) {
	const refs, copies = 300, 3
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		b, ls := twoInstances(t, db)
		fees := b.account(t, "platform:fees", "platform_fee", false)
		if _, err := b.Post(ctx, move("fund", b.world, b.customer, 1_000_000), nil); err != nil {
			t.Fatal(err)
		}
		amount := func(i int) paydesk.Amount { return paydesk.Amount(100 + i) }
		transfer := func(_, i int) ledger.Transfer {
			return ledger.Transfer{Reference: fmt.Sprintf("pay-%d", i), Kind: "payment", Postings: []ledger.Posting{
				{Source: b.customer.ID, Destination: b.merchant.ID, Amount: amount(i)},
				{Source: b.merchant.ID, Destination: fees.ID, Amount: 1},
			}}
		}
		answers := postAll(ls, refs, copies, transfer)

		var spent paydesk.Amount
		for i, as := range answers {
			spent += amount(i)
			ref := transfer(0, i).Reference
			rec, err := b.TransferByReference(ctx, ref)
			if err != nil {
				t.Fatalf("%s is not recorded: %v", ref, err)
			}
			posted := 0
			for _, a := range as {
				switch {
				case a.err != nil:
					t.Errorf("%s on instance %d: %v, want the transfer or its replay", ref, a.k, a.err)
				case a.t.ID != rec.ID:
					t.Errorf("%s on instance %d: answered as transfer %d, recorded as %d", ref, a.k, a.t.ID, rec.ID)
				case !a.t.Replayed:
					posted++
				}
			}
			if posted != 1 {
				t.Errorf("%s: %d calls answered as posted, want one and replays", ref, posted)
			}
		}
		if got := b.balance(t, b.customer); got != 1_000_000-spent {
			t.Errorf("customer has %d, want %d", got, 1_000_000-spent)
		}
		if got := b.balance(t, b.merchant); got != spent-refs {
			t.Errorf("merchant has %d, want %d", got, spent-refs)
		}
		if got := b.balance(t, fees); got != refs {
			t.Errorf("fees are %d, want %d", got, refs)
		}
		if r := b.mustBeSound(t); r.Entries != 2+4*refs {
			t.Errorf("%d entries, want %d: a transfer was lost or doubled", r.Entries, 2+4*refs)
		}
	})
}

// Two instances post the same references with different postings, on
// accounts of their own: each reference is recorded once, as one of them
// posted it, and the other's calls get IDEMPOTENCY_CONFLICT, not
// UNAVAILABLE.
func TestSameReferenceWithOtherPostingsFromTwoInstances(t *testing.T) {
	const refs, copies = 200, 2
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		b, ls := twoInstances(t, db)
		var from, to [2]ledger.Account
		for k := range 2 {
			from[k] = b.account(t, fmt.Sprintf("wallet:%d:cash", 10+k), "wallet_cash", false)
			to[k] = b.account(t, fmt.Sprintf("merchant:%d:pending", 10+k), "merchant_pending", false)
			if _, err := b.Post(ctx, move(fmt.Sprintf("fund-%d", k), b.world, from[k], 1_000_000), nil); err != nil {
				t.Fatal(err)
			}
		}
		amount := func(k, i int) paydesk.Amount { return paydesk.Amount(100 + 1000*k + i) }
		transfer := func(k, i int) ledger.Transfer {
			return move(fmt.Sprintf("pay-%d", i), from[k], to[k], amount(k, i))
		}
		answers := postAll(ls, refs, copies, transfer)

		var received [2]paydesk.Amount
		for i, as := range answers {
			ref := transfer(0, i).Reference
			rec, err := b.TransferByReference(ctx, ref)
			if err != nil {
				t.Fatalf("%s is not recorded: %v", ref, err)
			}
			if len(rec.Postings) != 1 {
				t.Fatalf("%s is recorded with postings %+v", ref, rec.Postings)
			}
			winner := 0
			if rec.Postings[0].Source == from[1].ID {
				winner = 1
			}
			received[winner] += amount(winner, i)
			posted := 0
			for _, a := range as {
				switch {
				case a.k != winner && paydesk.ErrorCode(a.err) != paydesk.ErrIdempotencyConflict.Code:
					t.Errorf("%s on instance %d, which lost: %+v, %v; want IDEMPOTENCY_CONFLICT", ref, a.k, a.t, a.err)
				case a.k == winner && a.err != nil:
					t.Errorf("%s on instance %d, which won: %v", ref, a.k, a.err)
				case a.k == winner && a.t.ID != rec.ID:
					t.Errorf("%s on instance %d: answered as transfer %d, recorded as %d", ref, a.k, a.t.ID, rec.ID)
				case a.k == winner && !a.t.Replayed:
					posted++
				}
				if errors.Is(a.err, ledger.ErrNotPosted) {
					t.Errorf("%s on instance %d: ErrNotPosted", ref, a.k)
				}
			}
			if posted != 1 {
				t.Errorf("%s: %d calls answered as posted, want one", ref, posted)
			}
		}
		for k := range 2 {
			if got := b.balance(t, to[k]); got != received[k] {
				t.Errorf("merchant %d has %d, want %d", k, got, received[k])
			}
			if got := b.balance(t, from[k]); got != 1_000_000-received[k] {
				t.Errorf("customer %d has %d, want %d", k, got, 1_000_000-received[k])
			}
		}
		if r := b.mustBeSound(t); r.Entries != 4+2*refs {
			t.Errorf("%d entries, want %d: a transfer was lost or doubled", r.Entries, 4+2*refs)
		}
	})
}
