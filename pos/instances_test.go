package pos_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/pos"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
	"github.com/paydesk/paydesk/wallet"
)

// A till sends each scan payment to two instances at once (a retry
// against the other instance, or two racing copies of one request): the
// order is paid once, the wallet is charged once, and every copy is
// answered with that order (issue 20). The payment's work writes the
// order, whose out_trade_no is unique, before the ledger inserts the
// transfer, so the loser usually collides on the order (a lost race, see
// pay) or finds the transfer recorded and gets it as a replay.
func TestSameOutTradeNoOnTwoInstances(t *testing.T) {
	const payments, copies = 30, 2
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		instances := []*pos.Service{s.pos, s.instance(t).pos}
		type payment struct {
			wallet wallet.WalletID
			code   string
		}
		pays := make([]payment, payments)
		for i := range pays {
			w := s.customer(t, fmt.Sprintf("1390000%04d", i), 5000)
			code, _, err := s.wallets.PaymentCode(ctx, w)
			if err != nil {
				t.Fatal(err)
			}
			pays[i] = payment{w, code}
		}
		type answer struct {
			o   pos.Order
			err error
		}
		answers := make([][]answer, payments)
		for i := range answers {
			answers[i] = make([]answer, len(instances)*copies)
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		for k, p := range instances {
			for c := range copies {
				wg.Go(func() {
					<-start
					for i, pay := range pays {
						o, err := p.TakeScanPayment(ctx, s.cashier, pos.ScanPayment{OutTradeNo: fmt.Sprintf("T%d", i), Amount: 1000, PaymentCode: pay.code})
						answers[i][k*copies+c] = answer{o, err}
					}
				})
			}
		}
		close(start)
		wg.Wait()

		codes := map[string]int{}
		for i, as := range answers {
			paid, err := s.pos.OrderByOutTradeNo(ctx, s.cashier, fmt.Sprintf("T%d", i))
			if err != nil || paid.State != pos.Paid || paid.WalletID != pays[i].wallet {
				t.Fatalf("order T%d: %+v, %v; want it paid by wallet %d", i, paid, err, pays[i].wallet)
			}
			for j, a := range as {
				codes[paydesk.ErrorCode(a.err)]++
				switch {
				case paydesk.ErrorCode(a.err) == "UNAVAILABLE":
					t.Errorf("T%d copy %d: %v", i, j, a.err)
				case a.err == nil && (a.o.ID != paid.ID || a.o.State != pos.Paid):
					t.Errorf("T%d copy %d: answered %+v, want order %d paid", i, j, a.o, paid.ID)
				}
			}
			if got := s.cash(t, pays[i].wallet); got != 4000 {
				t.Errorf("wallet of T%d has %d, want 4000: charged other than once", i, got)
			}
		}
		t.Logf("answers by error code: %v", codes)
		if want := paydesk.Amount(payments) * (1000 - 4); s.pending(t) != want {
			t.Errorf("merchant pending = %d, want %d", s.pending(t), want)
		}
	})
}
