package wallet_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
	"github.com/paydesk/paydesk/wallet"
)

// countingAttempts counts the claims it grants: each is one check of a secret.
type countingAttempts struct {
	*storage.Attempts
	granted atomic.Int64
}

func (c *countingAttempts) Claim(ctx context.Context, key string, rule storage.AttemptRule) error {
	err := c.Attempts.Claim(ctx, key, rule)
	if err == nil {
		c.granted.Add(1)
	}
	return err
}

// burst sends n attempts at once and counts the answers by code.
func burst(t *testing.T, n int, try func(i int) error) map[string]int {
	t.Helper()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		codes = map[string]int{}
		start = make(chan struct{})
	)
	for i := range n {
		wg.Go(func() {
			<-start
			err := try(i)
			mu.Lock()
			codes[paydesk.ErrorCode(err)]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	return codes
}

// A burst of 100 wrong guesses for one key is checked at most the limit's
// times: the attempt is claimed before the secret is checked.
func TestBurstsOfWrongGuessesCheckAtMostTheLimit(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		a := f.register(t, "13800138000")
		max := 5 // the default rules of all three
		counter := &countingAttempts{Attempts: storage.NewAttempts(db, f.clock)}
		svc, err := wallet.New(ctx, wallet.Config{
			Store: wallet.NewGormStore(db, wallet.MustSealer(testDataKey)), Ledger: f.ledger, Bank: f.bank, Attempts: counter, Clock: f.clock,
			Passwords: paydesk.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1},
		})
		if err != nil {
			t.Fatal(err)
		}
		// checked fails unless the burst's answers are all refusals and at
		// most max of them were checked.
		checked := func(t *testing.T, codes map[string]int, wrong string) {
			t.Helper()
			n := counter.granted.Swap(0)
			if n > int64(max) || codes[wrong] > max || codes[wrong]+codes["TOO_MANY_ATTEMPTS"] != 100 {
				t.Fatalf("answers %v, %d checks: want at most %d guesses checked", codes, n, max)
			}
		}

		t.Run("dynamic passwords", func(t *testing.T) {
			good := f.dynamicPassword(t, a).Password
			codes := burst(t, 100, func(i int) error {
				pw := fmt.Sprintf("%06d", i)
				if pw == good {
					pw = "999999"
				}
				_, err := svc.VerifyDynamicPassword(ctx, "13800138000", pw, 1)
				return err
			})
			checked(t, codes, "DYNAMIC_PASSWORD_WRONG")
		})
		t.Run("payment code ids", func(t *testing.T) {
			k := f.key(t, a)
			good := code(t, k, f.clock())
			codes := burst(t, 100, func(i int) error {
				c := fmt.Sprintf("76%s%08d", k.CodeID, i)
				if c == good {
					c = fmt.Sprintf("76%s%08d", k.CodeID, 100+i)
				}
				_, err := svc.VerifyPaymentCode(ctx, c)
				return err
			})
			checked(t, codes, "PAYMENT_CODE_INVALID")
		})
		t.Run("logins", func(t *testing.T) {
			codes := burst(t, 100, func(i int) error {
				_, err := svc.Authenticate(ctx, "13800138000", fmt.Sprintf("wrong-%d", i), "192.0.2.1")
				return err
			})
			checked(t, codes, "INVALID_CREDENTIALS")
		})
	})
}
