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

// TestCommitFaults kills the database connection at one COMMIT in four,
// half of them before the COMMIT reached the database and half after it
// had committed, while 16 posters pay into ONE merchant account. Every
// transfer answered as posted is recorded; every one answered with an
// error is not, and the error is ErrNotPosted (UNAVAILABLE); posting it
// again with the same reference records it, once; and the book balances
// to the unit.
func TestCommitFaults(t *testing.T) {
	const posters, perPoster = 16, 60
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			faults := storagetest.NewFaults(21)
			b := newBook(t, storagetest.OpenWithFaults(t, d, faults))
			fees := b.account(t, "platform:fees", "platform_fee", false)
			customers := make([]ledger.Account, posters)
			for w := range customers {
				customers[w] = b.account(t, fmt.Sprintf("wallet:%d:cash", 100+w), "wallet_cash", false)
				if _, err := b.Post(ctx, move(fmt.Sprintf("fund-%d", w), b.world, customers[w], 1_000_000), nil); err != nil {
					t.Fatal(err)
				}
			}
			transfer := func(w, i int) ledger.Transfer {
				return ledger.Transfer{Reference: fmt.Sprintf("pay-%d-%d", w, i), Kind: "payment", Postings: []ledger.Posting{
					{Source: customers[w].ID, Destination: b.merchant.ID, Amount: paydesk.Amount(100 + i)},
					{Source: b.merchant.ID, Destination: fees.ID, Amount: 1},
				}}
			}

			faults.SetRate(0.25)
			type answer struct {
				t   ledger.Transfer
				err error
			}
			answers := make([][]answer, posters)
			var wg sync.WaitGroup
			for w := range posters {
				answers[w] = make([]answer, perPoster)
				wg.Go(func() {
					for i := range perPoster {
						got, err := b.Post(ctx, transfer(w, i), nil)
						answers[w][i] = answer{got, err}
					}
				})
			}
			wg.Wait()
			faults.SetRate(0)
			before, after, commits := faults.Killed()
			if before < 10 || after < 10 {
				t.Fatalf("only %d COMMITs killed before and %d after, of %d: too few to show anything", before, after, commits)
			}

			store := ledger.NewGormStore(b.db)
			var failed int
			for w := range posters {
				for i, a := range answers[w] {
					tr := transfer(w, i)
					rec, err := store.TransferByReference(ctx, tr.Reference)
					switch {
					case a.err == nil && (err != nil || rec.ID != a.t.ID):
						t.Errorf("%s was answered as transfer %d, but the book has %+v (%v)", tr.Reference, a.t.ID, rec, err)
					case a.err != nil && err == nil:
						t.Errorf("%s was answered %v, but it was recorded as transfer %d", tr.Reference, a.err, rec.ID)
					case a.err != nil && (!errors.Is(a.err, ledger.ErrNotPosted) || paydesk.AsError(a.err).Kind != paydesk.KindUnavailable):
						t.Errorf("%s was answered %v, want ErrNotPosted", tr.Reference, a.err)
					case a.err != nil:
						failed++
						again, err := b.Post(ctx, tr, nil)
						if err != nil || again.Replayed {
							t.Errorf("posting %s again: %+v, %v; want it recorded now", tr.Reference, again, err)
						}
					case i%10 == 0:
						again, err := b.Post(ctx, tr, nil)
						if err != nil || !again.Replayed || again.ID != a.t.ID {
							t.Errorf("posting %s again: %+v, %v; want a replay of transfer %d", tr.Reference, again, err, a.t.ID)
						}
					}
				}
			}
			t.Logf("%s: %d COMMITs, %d killed before and %d after reaching the database; %d of %d transfers answered ErrNotPosted, then posted",
				d, commits, before, after, failed, posters*perPoster)

			var merchantWant paydesk.Amount
			for w := range posters {
				var spent paydesk.Amount
				for i := range perPoster {
					spent += paydesk.Amount(100 + i)
				}
				merchantWant += spent - perPoster
				if got := b.balance(t, customers[w]); got != 1_000_000-spent {
					t.Errorf("customer %d has %d, want %d", w, got, 1_000_000-spent)
				}
			}
			if got := b.balance(t, b.merchant); got != merchantWant {
				t.Errorf("merchant has %d, want %d", got, merchantWant)
			}
			if got := b.balance(t, fees); got != posters*perPoster {
				t.Errorf("fees are %d, want %d", got, posters*perPoster)
			}
			if r := b.mustBeSound(t); r.Entries != int64(2*posters+4*posters*perPoster) {
				t.Errorf("%d entries, want %d: a transfer was lost or doubled", r.Entries, 2*posters+4*posters*perPoster)
			}
		})
	}
}

// A transfer that the database fails before its COMMIT (here: the
// database is closed) is answered ErrNotPosted too, never a bare driver
// error.
func TestCommitFailureWithTheDatabaseGone(t *testing.T) {
	db := storagetest.Open(t, storage.SQLite)
	b := newBook(t, db)
	ctx := context.Background()
	if _, err := b.Post(ctx, move("before", b.world, b.customer, 100), nil); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err := b.Post(ctx, move("after", b.world, b.customer, 100), nil)
	if !errors.Is(err, ledger.ErrNotPosted) || paydesk.ErrorCode(err) != "UNAVAILABLE" {
		t.Fatalf("post on a closed database: %v, want ErrNotPosted", err)
	}
}
