package main

import (
	"context"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/pos"
)

// seedDemoInstallment records one credit-instalment order (授信分期) for
// the demo merchant, so the order list shows the read-only kind too.
// Recording it again is a no-op: the same out_trade_no and request return
// the same order.
func seedDemoInstallment(ctx context.Context, m *Main, owner cashier.Actor) error {
	_, err := m.App.POS.RecordInstallmentOrder(ctx, owner, pos.InstallmentOrder{OutTradeNo: "DEMO-INSTALMENT-1",
		Amount: paydesk.Amount(599900), Subject: "Tea set on 12 instalments"})
	return err
}
