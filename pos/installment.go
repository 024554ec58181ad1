package pos

import (
	"context"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/cashier"
)

// MethodInstallment marks an order paid by a credit instalment plan (授信分期).
const MethodInstallment Method = "installment"

// InstallmentOrder is a credit-instalment purchase to record.
type InstallmentOrder struct {
	OutTradeNo string
	Amount     paydesk.Amount
	Subject    string
}

// RecordInstallmentOrder records a purchase a credit provider financed, so
// that it shows in the merchant's order lists. It is read-only here: the
// provider pays the merchant outside paydesk, so no money moves, no
// observer counts it in the day's figures, and it can never be voided or
// refunded (SPEC §4). The same out_trade_no and request again return the
// same order; another request under it is IDEMPOTENCY_CONFLICT.
func (s *Service) RecordInstallmentOrder(ctx context.Context, c cashier.Actor, req InstallmentOrder) (Order, error) {
	if err := validOutTradeNo(req.OutTradeNo); err != nil {
		return Order{}, err
	}
	if err := s.validAmount(req.Amount); err != nil {
		return Order{}, err
	}
	if len(req.Subject) > 128 {
		return Order{}, paydesk.ErrInvalid.WithMessage("subject must be at most 128 bytes")
	}
	m, err := s.merchants.Merchant(ctx, c.MerchantID)
	if err != nil {
		return Order{}, err
	}
	now := s.clock()
	o := Order{MerchantID: c.MerchantID, StoreID: c.StoreID, CashierID: c.StaffID, OutTradeNo: req.OutTradeNo, Kind: KindInstallment,
		Method: MethodInstallment, Subject: req.Subject, Amount: req.Amount, Currency: m.Currency, State: Paid,
		ExpiresAt: now, PaidAt: now, CreatedAt: now, UpdatedAt: now}
	o.RequestDigest = requestPrint(o, m.Currency) + credentialPrint(o.MerchantID, o.OutTradeNo)
	err = s.store.CreateOrder(ctx, &o)
	if !paydeskIs(err, ErrDuplicateOrder) {
		return o, err
	}
	prev, err := s.store.OrderByOutTradeNo(ctx, c.MerchantID, req.OutTradeNo)
	if err != nil {
		return Order{}, err
	}
	return existing(prev, o)
}
