package ledger

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// staleStore is a Store whose next look-up of references misses the ones
// in hide: it sees the book as it was just before another instance
// recorded them, which is what a poster sees when the other instance's
// transfer commits between its look-up and its insert. It remembers what
// its inserts of transfers answered.
type staleStore struct {
	Store
	mu      sync.Mutex
	hide    map[string]bool
	inserts []error
}

func (s *staleStore) TransfersByReference(ctx context.Context, refs []string) (map[string]RecordedTransfer, error) {
	got, err := s.Store.TransfersByReference(ctx, refs)
	s.mu.Lock()
	defer s.mu.Unlock()
	for ref := range s.hide {
		delete(got, ref)
	}
	s.hide = nil
	return got, err
}

func (s *staleStore) InsertTransfers(ctx context.Context, ts []NewTransfer) ([]int64, error) {
	ids, err := s.Store.InsertTransfers(ctx, ts)
	s.mu.Lock()
	s.inserts = append(s.inserts, err)
	s.mu.Unlock()
	return ids, err
}

// twoPosters is two ledgers over db: other on the plain store, l on
// store (a wrapper staging a race), and the accounts world, from (funded
// with funds from world) and to, their codes ending in tag (the cases of
// a test share the database).
func twoPosters(t *testing.T, db *storage.DB, store Store, tag string, funds paydesk.Amount) (other, l *Ledger, world, from, to Account) {
	t.Helper()
	ctx := context.Background()
	other, l = New(NewGormStore(db)), New(store)
	t.Cleanup(other.Close)
	t.Cleanup(l.Close)
	account := func(code string, allowNegative bool) Account {
		a, err := other.CreateAccount(ctx, Account{Code: code + ":" + tag, Type: "test", Currency: "CNY", AllowNegative: allowNegative})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	world, from, to = account("world", true), account("from", false), account("to", false)
	if _, err := other.Post(ctx, Transfer{Reference: "fund:" + tag, Kind: "test", Postings: []Posting{{Source: world.ID, Destination: from.ID, Amount: funds}}}, nil); err != nil {
		t.Fatal(err)
	}
	return other, l, world, from, to
}

// newRequest is t queued as Post queues it, for a test that commits a
// batch of its own making.
func newRequest(t Transfer) *request {
	return &request{t: t, digest: t.digest(), done: make(chan result, 1)}
}

// A batch whose look-up missed a reference that another instance recorded
// meanwhile fails its insert on the reference's unique key, on both
// databases. The batch is run again, as one batch: the colliding request
// is answered with the other instance's transfer (or IDEMPOTENCY_CONFLICT
// if that one had other postings), and its batch-mates are posted as
// usual (issue 20).
func TestInsertCollisionIsRetried(t *testing.T) {
	cases := []struct {
		name     string
		refs     []string // the batch; "shared" is the colliding one
		other    paydesk.Amount
		conflict bool
	}{
		{name: "alone", refs: []string{"shared"}, other: 100},
		{name: "with batch-mates", refs: []string{"mate-1", "shared", "mate-2"}, other: 100},
		{name: "alone with other postings", refs: []string{"shared"}, other: 99, conflict: true},
		{name: "with batch-mates and other postings", refs: []string{"mate-1", "shared", "mate-2"}, other: 99, conflict: true},
	}
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		for ci, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				tag := fmt.Sprint(ci) // the cases share the database
				ctx := context.Background()
				stale := &staleStore{Store: NewGormStore(db)}
				other, l, _, from, to := twoPosters(t, db, stale, tag, 10_000)
				transfer := func(ref string, amt paydesk.Amount) Transfer {
					return Transfer{Reference: ref + ":" + tag, Kind: "test", Postings: []Posting{{Source: from.ID, Destination: to.ID, Amount: amt}}}
				}
				first, err := other.Post(ctx, transfer("shared", c.other), nil)
				if err != nil {
					t.Fatal(err)
				}

				stale.hide = map[string]bool{first.Reference: true}
				batch := make([]*request, len(c.refs))
				for i, ref := range c.refs {
					batch[i] = newRequest(transfer(ref, 100))
				}
				before := l.Stats().Batches
				l.commit(batch)

				if len(stale.inserts) == 0 || !storage.IsDuplicate(stale.inserts[0]) {
					t.Fatalf("the first insert answered %v, want a duplicate reference: the race was not staged", stale.inserts)
				}
				if got := l.Stats().Batches - before; got != 2 {
					t.Errorf("%d transactions, want 2: the batch and its retry", got)
				}
				posted := paydesk.Amount(0)
				for i, r := range batch {
					got := <-r.done
					switch {
					case c.refs[i] != "shared":
						posted += 100
						if got.err != nil || got.t.Replayed || got.t.ID == 0 {
							t.Errorf("batch-mate %s: %+v, %v; want it posted", c.refs[i], got.t, got.err)
						}
					case c.conflict:
						if paydesk.ErrorCode(got.err) != paydesk.ErrIdempotencyConflict.Code {
							t.Errorf("shared with other postings: %+v, %v; want IDEMPOTENCY_CONFLICT", got.t, got.err)
						}
					case got.err != nil || !got.t.Replayed || got.t.ID != first.ID:
						t.Errorf("shared: %+v, %v; want a replay of transfer %d", got.t, got.err, first.ID)
					}
					if errors.Is(got.err, ErrNotPosted) {
						t.Errorf("%s: ErrNotPosted", c.refs[i])
					}
				}
				bal, err := other.Balances(ctx, from.ID, to.ID)
				if err != nil {
					t.Fatal(err)
				}
				if want := c.other + posted; bal[to.ID] != want || bal[from.ID] != 10_000-want {
					t.Errorf("balances %v, want %d moved", bal, want)
				}
				if r, err := other.Check(ctx); err != nil || !r.OK() {
					t.Errorf("check: %+v, %v", r, err)
				}
			})
		}
	})
}
