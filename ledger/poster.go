package ledger

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paydesk/paydesk"
)

// Work is database work that must commit or roll back together with a
// transfer: marking an order paid, writing its outbox event. It runs inside
// the ledger's transaction (carried by ctx), after the transfer's balances
// were checked. It may run more than once if its batch is retried, so it must
// only touch the database through ctx, and it may not post another transfer.
type Work func(ctx context.Context) error

// Ledger posts transfers. Transfers posted from many goroutines are grouped
// into one transaction by a single poster goroutine: while one batch commits,
// the next one queues up, so the batch size follows the load by itself and a
// lone request is never delayed waiting for company.
type Ledger struct {
	store    Store
	clock    paydesk.Clock
	maxBatch int

	queue   chan *request
	mu      sync.RWMutex // guards closed against sends on a closed queue
	closed  bool
	stopped chan struct{}

	// Running totals for Stats.
	batches, transfers atomic.Uint64
	busy               atomic.Int64 // nanoseconds

	chart chart // the platform's accounts, see chart.go
}

// Stats are the poster's running totals: how many transactions it ran,
// how many transfers they carried, and how long they took. Their ratios
// are the batch size and the commit time, which say how close the hot
// account is to its limit.
type Stats struct {
	Batches   uint64
	Transfers uint64
	Busy      time.Duration
}

// Stats returns the totals so far.
func (l *Ledger) Stats() Stats {
	return Stats{Batches: l.batches.Load(), Transfers: l.transfers.Load(), Busy: time.Duration(l.busy.Load())}
}

type request struct {
	t      Transfer
	digest string
	work   Work
	done   chan result
}

type result struct {
	t   Transfer
	err error
}

// Option configures a Ledger.
type Option func(*Ledger)

// WithClock sets the clock that stamps transfers.
func WithClock(c paydesk.Clock) Option { return func(l *Ledger) { l.clock = c } }

// WithMaxBatch bounds how many transfers share one transaction.
func WithMaxBatch(n int) Option { return func(l *Ledger) { l.maxBatch = max(1, n) } }

// New starts a ledger over store. Close it to stop the poster.
func New(store Store, opts ...Option) *Ledger {
	l := &Ledger{store: store, clock: paydesk.SystemClock, maxBatch: 256, stopped: make(chan struct{})}
	for _, o := range opts {
		o(l)
	}
	l.queue = make(chan *request, 4*l.maxBatch)
	go l.run()
	return l
}

// Close stops taking transfers, finishes those already queued, and returns.
func (l *Ledger) Close() {
	l.mu.Lock()
	if !l.closed {
		l.closed = true
		close(l.queue)
	}
	l.mu.Unlock()
	<-l.stopped
}

type inWorkKey struct{}

// Post records t and runs work (if any) in the same transaction. It returns
// the recorded transfer, or the first recording of t.Reference with Replayed
// set (work is then not run again). Postings that would take an account below
// zero fail with an *InsufficientFunds error and nothing is written.
//
// If ctx already carries a transaction, the transfer is posted inside it
// instead of being queued, so callers can make it part of a larger unit.
func (l *Ledger) Post(ctx context.Context, t Transfer, work Work) (Transfer, error) {
	if ctx.Value(inWorkKey{}) != nil {
		return Transfer{}, ErrNestedPost
	}
	if err := t.validate(); err != nil {
		return Transfer{}, err
	}
	t.Postings = slices.Clone(t.Postings)
	req := &request{t: t, digest: t.digest(), work: work, done: make(chan result, 1)}

	if l.store.InTransaction(ctx) {
		// The caller's transaction decides whether this commits.
		results, err := l.apply(ctx, []*request{req})
		if err != nil {
			if we, ok := errors.AsType[*errWork](err); ok {
				return Transfer{}, we.err
			}
			return Transfer{}, err
		}
		return results[0].t, results[0].err
	}

	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return Transfer{}, ErrClosed
	}
	select {
	case l.queue <- req:
	case <-ctx.Done():
		l.mu.RUnlock()
		return Transfer{}, ctx.Err()
	}
	l.mu.RUnlock()

	// Once queued the transfer may commit even if the caller gives up; a
	// retry with the same reference then gets that first result.
	select {
	case r := <-req.done:
		return r.t, r.err
	case <-ctx.Done():
		return Transfer{}, ctx.Err()
	}
}

func (l *Ledger) run() {
	defer close(l.stopped)
	for first := range l.queue {
		batch := []*request{first}
	fill:
		for len(batch) < l.maxBatch {
			select {
			case r, ok := <-l.queue:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		l.commit(batch)
	}
}

// errWork marks a batch that rolled back because one request's work failed.
type errWork struct {
	index int
	err   error
}

func (e *errWork) Error() string { return fmt.Sprintf("work of request %d: %v", e.index, e.err) }

// commit posts a batch in one transaction. A request whose work fails is
// answered with its error and the rest are committed without it; a database
// error retries the batch, then falls back to one transaction per request so
// that one bad request cannot fail its neighbours. When the COMMIT itself
// fails, the batch may have committed all the same (the connection died
// after the server had it): settle finds out before anyone is answered,
// so a transfer that was recorded is never answered with an error.
func (l *Ledger) commit(batch []*request) {
	ctx := context.Background()
	for attempt := 0; len(batch) > 0; attempt++ {
		var results []result
		applied := false
		start := time.Now()
		err := l.store.InTx(ctx, func(ctx context.Context) (err error) {
			results, err = l.apply(ctx, batch)
			applied = err == nil
			return err
		})
		l.batches.Add(1)
		l.transfers.Add(uint64(len(batch)))
		l.busy.Add(int64(time.Since(start)))
		if err == nil {
			for i, r := range batch {
				r.done <- results[i]
			}
			return
		}
		if we, ok := errors.AsType[*errWork](err); ok {
			batch[we.index].done <- result{err: we.err}
			batch = slices.Delete(slices.Clone(batch), we.index, we.index+1)
			continue
		}
		if applied {
			// Everything ran and only the COMMIT failed.
			committed, serr := l.settle(batch, results)
			if serr != nil {
				for _, r := range batch {
					r.done <- result{err: notPosted(r, errors.Join(err, serr))}
				}
				return
			}
			if committed {
				for i, r := range batch {
					r.done <- results[i]
				}
				return
			}
		}
		if attempt < 2 && isRetryable(err) {
			continue
		}
		if len(batch) > 1 {
			for _, r := range batch {
				l.commit([]*request{r})
			}
			return
		}
		batch[0].done <- result{err: notPosted(batch[0], err)}
		return
	}
}

// notPosted is the answer to a request that the database failed to record:
// retryable, with what went wrong for the log.
func notPosted(r *request, cause error) error {
	return fmt.Errorf("ledger: post %s: %w: %w", r.t.Reference, ErrNotPosted, cause)
}

// settleTries bounds how often settle asks, and settleWait how long it
// waits for one answer; the waits between tries grow from 50 ms.
const (
	settleTries = 4
	settleWait  = 15 * time.Second
)

// settle tells whether a batch whose COMMIT failed was committed after
// all, by looking up on a fresh connection the transfers it was writing
// (results are what apply made of it). It is either all of them, with the
// ids they were given, or none. A batch that was to write nothing needs no
// look-up: its answers (replays, refusals) hold either way. An error means
// the database could not be asked.
func (l *Ledger) settle(batch []*request, results []result) (committed bool, err error) {
	var posted []int // indexes of the requests that were to write a transfer
	refs := make([]string, 0, len(batch))
	for i := range batch {
		if results[i].err == nil && !results[i].t.Replayed {
			posted = append(posted, i)
			refs = append(refs, batch[i].t.Reference)
		}
	}
	if len(posted) == 0 {
		return true, nil
	}
	wait := 50 * time.Millisecond
	for try := 1; ; try++ {
		ctx, cancel := context.WithTimeout(context.Background(), settleWait)
		found, err := l.store.CommittedTransfers(ctx, refs)
		cancel()
		if err == nil {
			// A reference recorded under another id was written by
			// someone else (another instance); the retry that follows
			// answers it as a replay.
			for _, i := range posted {
				rec, ok := found[batch[i].t.Reference]
				if ok && rec.ID == results[i].t.ID && rec.Digest == batch[i].digest {
					return true, nil
				}
			}
			return false, nil
		}
		if try == settleTries {
			return false, err
		}
		time.Sleep(wait)
		wait *= 2
	}
}

// isRetryable is decided by the store's error, which we cannot inspect
// without SQL knowledge; the store marks such errors.
func isRetryable(err error) bool {
	var r interface{ Retryable() bool }
	return errors.As(err, &r) && r.Retryable()
}

// apply does the work of one batch inside the transaction in ctx and returns
// each request's result, to be delivered only once the transaction commits.
// Requests refused by business rules (insufficient funds, idempotency
// conflict) get their error without failing the batch.
//
// A batch of several requests on a database that locks rows (MySQL) takes
// its locks late: several instances' posters share the hot rows (the
// merchant's pending account, the platform's fees, the merchant's event
// sequence and hourly figures), and a lock taken at the start of a batch
// is held through all of its work. So the batch stages its transfers on
// balances read without a lock, does the work and writes everything that
// locks no shared row (orders, codes, transfers), and only then locks the
// accounts, re-stages on the locked balances (answering exactly as if it
// had locked first, or running again when an answer would change), and
// writes the entries, the balances and the shared rows (Bulk.FlushLate).
// The hot rows are then held for the last few statements and the COMMIT.
// Every batch takes the shared locks in the same order (accounts in id
// order, then sequence and counter rows in key order), as one request
// alone does, so batches of two instances cannot deadlock on them.
func (l *Ledger) apply(ctx context.Context, batch []*request) ([]result, error) {
	now := l.clock()
	refs := make([]string, 0, len(batch))
	var ids []AccountID
	for _, r := range batch {
		refs = append(refs, r.t.Reference)
		for _, p := range r.t.Postings {
			ids = append(ids, p.Source, p.Destination)
		}
	}
	// Taking no lock, this look-up can miss a reference that another
	// instance records before our insert; the store makes that insert's
	// failure retryable, and commit's retry finds the reference here.
	recorded, err := l.store.TransfersByReference(ctx, refs)
	if err != nil {
		return nil, err
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	late := len(batch) > 1 && l.store.LocksRows()
	var accounts map[AccountID]*Account
	if late {
		accounts, err = l.readAccounts(ctx, ids)
	} else {
		accounts, err = l.store.LockAccounts(ctx, ids)
	}
	if err != nil {
		return nil, err
	}
	base := maps.Clone(accounts) // the balances the batch was staged on

	results := make([]result, len(batch))
	rowOf := make([]int, len(batch)) // index into rows, or -1
	var (
		rows    []NewTransfer
		entries [][]Entry // of rows[i]
		staged  []int     // the requests that went through stage, in order
		inBatch = map[string]int{}
		touched = map[AccountID]bool{}
		refused = map[int]bool{} // the staged requests stage refused
	)
	workCtx := context.WithValue(ctx, inWorkKey{}, true)
	// With company in the batch, the Work's writes are gathered and written
	// together after the loop. If that fails, commit retries the requests
	// one by one, without gathering, so each error reaches its request.
	var bulk Bulk = noBulk{}
	if len(batch) > 1 {
		workCtx, bulk = l.store.Bulk(workCtx)
	}
	for i, r := range batch {
		rowOf[i] = -1
		if rec, ok := recorded[r.t.Reference]; ok {
			results[i] = replay(r, rec.ID, rec.Digest, rec.CreatedAt)
			continue
		}
		if j, ok := inBatch[r.t.Reference]; ok {
			// Filled in below, once the first one has its ID.
			rowOf[i] = -2 - j
			continue
		}
		staged = append(staged, i)
		next, es, err := stage(r.t.Postings, accounts, now)
		if err != nil {
			results[i] = result{err: err}
			refused[i] = true
			continue
		}
		if r.work != nil {
			if err := r.work(workCtx); err != nil {
				return nil, &errWork{index: i, err: err}
			}
		}
		for id, a := range next {
			accounts[id] = a
			touched[id] = true
		}
		inBatch[r.t.Reference] = i
		rowOf[i] = len(rows)
		entries = append(entries, es)
		rows = append(rows, NewTransfer{Reference: r.t.Reference, Kind: r.t.Kind, Memo: r.t.Memo, Digest: r.digest, CreatedAt: now})
	}
	flushAll := bulk.Flush
	if late {
		flushAll = bulk.FlushEarly
	}
	if err := flushAll(ctx); err != nil {
		return nil, err
	}
	if len(rows) == 0 && (!late || len(refused) == 0) {
		// Nothing to write: every answer is a replay, a duplicate, or a
		// refusal on balances this transaction locked.
		return results, bulk.FlushLate(ctx)
	}

	var tids []int64
	if len(rows) > 0 {
		if tids, err = l.store.InsertTransfers(ctx, rows); err != nil {
			return nil, err
		}
	}
	if late {
		locked, err := l.store.LockAccounts(ctx, ids)
		if err != nil {
			return nil, err
		}
		if !sameBalances(base, locked) {
			if accounts, err = restage(batch, staged, refused, rowOf, locked, entries, results, now); err != nil {
				return nil, err
			}
		}
		if len(rows) == 0 {
			return results, bulk.FlushLate(ctx) // refusals the lock confirmed
		}
	}
	var all []Entry
	for i, es := range entries {
		for _, e := range es {
			e.TransferID = tids[i]
			all = append(all, e)
		}
	}
	if err := l.store.InsertEntries(ctx, all); err != nil {
		return nil, err
	}
	save := make([]*Account, 0, len(touched))
	for id := range touched {
		save = append(save, accounts[id])
	}
	slices.SortFunc(save, func(a, b *Account) int { return cmp.Compare(a.ID, b.ID) })
	if err := l.store.SaveBalances(ctx, save); err != nil {
		return nil, err
	}
	if late {
		if err := bulk.FlushLate(ctx); err != nil {
			return nil, err
		}
	}
	for i, r := range batch {
		switch {
		case rowOf[i] >= 0:
			t := r.t
			t.ID, t.CreatedAt = tids[rowOf[i]], now
			results[i] = result{t: t}
		case rowOf[i] <= -2:
			first := batch[-2-rowOf[i]]
			results[i] = replay(r, results[-2-rowOf[i]].t.ID, first.digest, now)
		}
	}
	return results, nil
}

// errBalancesMoved is a late-locking batch whose locked balances would
// change an answer it gave on the balances it read first (a transfer it
// refused would now pass, or one it accepted would now be refused): the
// batch runs again, which reads the new balances.
var errBalancesMoved = retryable{errors.New("ledger: balances moved between the batch's read and its lock")}

// restage stages the transfers of staged (in order) again, on the locked
// balances: each must get the answer it got on the balances read first,
// or the batch must run again. It replaces the entries of the accepted
// ones and the refusals' errors (which quote balances), and returns the
// accounts after the batch.
func restage(batch []*request, staged []int, refused map[int]bool, rowOf []int, locked map[AccountID]*Account, entries [][]Entry, results []result, now time.Time) (map[AccountID]*Account, error) {
	accounts := maps.Clone(locked)
	for _, i := range staged {
		next, es, err := stage(batch[i].t.Postings, accounts, now)
		if (err != nil) != refused[i] {
			return nil, errBalancesMoved
		}
		if err != nil {
			results[i] = result{err: err}
			continue
		}
		for id, a := range next {
			accounts[id] = a
		}
		entries[rowOf[i]] = es
	}
	return accounts, nil
}

// sameBalances reports whether every account is as it was read.
func sameBalances(read, locked map[AccountID]*Account) bool {
	if len(read) != len(locked) {
		return false
	}
	for id, a := range read {
		b := locked[id]
		if b == nil || a.Balance != b.Balance || a.Seq != b.Seq {
			return false
		}
	}
	return true
}

// readAccounts reads ids without a lock, as LockAccounts returns them.
func (l *Ledger) readAccounts(ctx context.Context, ids []AccountID) (map[AccountID]*Account, error) {
	got, err := l.store.Accounts(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[AccountID]*Account, len(got))
	for id, a := range got {
		out[id] = &a
	}
	return out, nil
}

// noBulk is the Bulk of a batch of one, whose work writes at once.
type noBulk struct{}

func (noBulk) Flush(context.Context) error      { return nil }
func (noBulk) FlushEarly(context.Context) error { return nil }
func (noBulk) FlushLate(context.Context) error  { return nil }

// replay answers a request whose reference was recorded before.
func replay(r *request, id int64, digest string, at time.Time) result {
	if digest != r.digest {
		return result{err: paydesk.ErrIdempotencyConflict.WithMessage("transfer %s was posted before with other postings", r.t.Reference)}
	}
	t := r.t
	t.ID, t.CreatedAt, t.Replayed = id, at, true
	return result{t: t}
}

// stage applies postings to copies of the accounts they touch, checking
// currencies, overflow and the no-negative rule after every posting (so a
// transfer cannot borrow from a later credit to cover an earlier debit). It
// returns the copies and the entries; the caller keeps them only if the
// whole transfer is accepted.
func stage(postings []Posting, accounts map[AccountID]*Account, now time.Time) (map[AccountID]*Account, []Entry, error) {
	next := map[AccountID]*Account{}
	get := func(id AccountID) (*Account, error) {
		if a, ok := next[id]; ok {
			return a, nil
		}
		src := accounts[id]
		if src == nil {
			return nil, ErrAccountNotFound.WithMessage("ledger account %d does not exist", id)
		}
		c := *src
		next[id] = &c
		return &c, nil
	}
	entries := make([]Entry, 0, 2*len(postings))
	for _, p := range postings {
		src, err := get(p.Source)
		if err != nil {
			return nil, nil, err
		}
		dst, err := get(p.Destination)
		if err != nil {
			return nil, nil, err
		}
		if src.Currency != dst.Currency {
			return nil, nil, paydesk.ErrCurrencyMismatch.WithMessage("%s is in %s, %s in %s", src.Code, src.Currency, dst.Code, dst.Currency)
		}
		nb, err := src.Balance.Sub(p.Amount)
		if err != nil {
			return nil, nil, err
		}
		if nb < 0 && !src.AllowNegative {
			return nil, nil, &InsufficientFunds{Account: src.ID, Code: src.Code, Balance: src.Balance, Requested: p.Amount}
		}
		db, err := dst.Balance.Add(p.Amount)
		if err != nil {
			return nil, nil, err
		}
		src.Balance, dst.Balance = nb, db
		for _, e := range [2]struct {
			a   *Account
			amt paydesk.Amount
		}{{src, -p.Amount}, {dst, p.Amount}} {
			e.a.Seq++
			e.a.UpdatedAt = now
			entries = append(entries, Entry{AccountID: e.a.ID, Seq: e.a.Seq, Amount: e.amt, BalanceAfter: e.a.Balance, CreatedAt: now})
		}
	}
	return next, entries, nil
}
