package pos

import (
	"context"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/wallet"
)

// ScanPayment is a cashier scanning a customer's payment code.
type ScanPayment struct {
	OutTradeNo  string
	Amount      paydesk.Amount
	PaymentCode string
}

// TakeScanPayment collects Amount from the wallet whose payment code the
// cashier scanned. The answer is a PAID order, a PAYING one (above the
// payer's no-password limit: the payer confirms in the wallet app), or a
// refusal. The same request again under its out_trade_no gets the same
// answer, or is tried again after a refusal (see outtradeno.go).
func (s *Service) TakeScanPayment(ctx context.Context, c cashier.Actor, req ScanPayment) (Order, error) {
	o, m, err := s.draft(ctx, Order{MerchantID: c.MerchantID, StoreID: c.StoreID, CashierID: c.StaffID, OutTradeNo: req.OutTradeNo,
		Method: MethodScan, Amount: req.Amount, ExpiresAt: s.clock().Add(s.cfg.ConfirmTimeout)}, "payment_code", req.PaymentCode)
	if err != nil {
		return Order{}, err
	}
	adm, err := s.admit(ctx, &o)
	if err != nil || adm.replayed {
		if err != nil {
			return Order{}, err
		}
		return replay(adm.prev)
	}
	use, err := s.wallets.VerifyPaymentCode(ctx, req.PaymentCode)
	if err != nil {
		return s.refuse(ctx, o, err, adm.from...)
	}
	return s.collect(ctx, o, m, use.Wallet, &use, adm.from...)
}

// DynamicPasswordPayment is a cashier typing the customer's phone number and
// the one-time password the customer reads from the wallet app.
type DynamicPasswordPayment struct {
	OutTradeNo string
	Amount     paydesk.Amount
	Phone      string
	Password   string
}

// TakeDynamicPasswordPayment collects Amount from the wallet of Phone. The
// password is the payer's consent, so no confirmation is asked.
func (s *Service) TakeDynamicPasswordPayment(ctx context.Context, c cashier.Actor, req DynamicPasswordPayment) (Order, error) {
	o, m, err := s.draft(ctx, Order{MerchantID: c.MerchantID, StoreID: c.StoreID, CashierID: c.StaffID, OutTradeNo: req.OutTradeNo,
		Method: MethodDynamicPassword, Amount: req.Amount, ExpiresAt: s.clock().Add(s.cfg.ConfirmTimeout)}, "dynamic_password", req.Phone, req.Password)
	if err != nil {
		return Order{}, err
	}
	adm, err := s.admit(ctx, &o)
	if err != nil || adm.replayed {
		if err != nil {
			return Order{}, err
		}
		return replay(adm.prev)
	}
	w, err := s.wallets.VerifyDynamicPassword(ctx, req.Phone, req.Password, c.MerchantID)
	if err != nil {
		return s.refuse(ctx, o, err, adm.from...)
	}
	return s.collect(ctx, o, m, w, nil, adm.from...)
}

// Collection is an order to show as a QR or send as a link.
type Collection struct {
	OutTradeNo string
	Amount     paydesk.Amount
	Subject    string
	// Lifetime, for a payment link, is how long it can be paid (a hosted
	// checkout's expires_in); 0 keeps it open until paid or cancelled.
	Lifetime time.Duration
}

// CreateCollectionQR opens an order the customer pays by scanning its QR
// with the wallet app. It closes by itself after the QR expiry.
func (s *Service) CreateCollectionQR(ctx context.Context, c cashier.Actor, req Collection) (Order, error) {
	return s.open(ctx, Order{MerchantID: c.MerchantID, StoreID: c.StoreID, CashierID: c.StaffID, OutTradeNo: req.OutTradeNo,
		Method: MethodQR, Amount: req.Amount, Subject: req.Subject, PayToken: newPayToken(), ExpiresAt: s.clock().Add(s.cfg.QRExpiry)})
}

// linkLifetime keeps a payment link open until it is paid or cancelled:
// SPEC §3.5 gives links no expiry of their own.
const linkLifetime = 10 * 365 * 24 * 60 * 60 * 1e9

// CreatePaymentLink opens an order paid through a link the manager sends to
// a customer. The link stays valid until the order is paid or cancelled, and
// a failed payment can be tried again from it.
func (s *Service) CreatePaymentLink(ctx context.Context, c cashier.Actor, req Collection) (Order, error) {
	life := time.Duration(linkLifetime)
	if req.Lifetime > 0 {
		life = req.Lifetime
	}
	return s.open(ctx, Order{MerchantID: c.MerchantID, StoreID: c.StoreID, CashierID: c.StaffID, OutTradeNo: req.OutTradeNo,
		Method: MethodLink, Amount: req.Amount, Subject: req.Subject, PayToken: newPayToken(), ExpiresAt: s.clock().Add(life)})
}

// PayURL is what the QR of an order encodes, and the payment link itself.
func (s *Service) PayURL(o Order) string {
	if o.PayToken == "" {
		return ""
	}
	return s.cfg.PublicURL + orderPayPath + o.PayToken
}

// StoreQRURL is what the static QR of a store encodes.
func (s *Service) StoreQRURL(qrToken string) string {
	return s.cfg.PublicURL + storePayPath + qrToken
}

// PayOrder is the wallet paying a collection QR or a payment link. A
// refused payment leaves the order open, to be tried again; paying an order
// twice from the same wallet returns the paid order.
func (s *Service) PayOrder(ctx context.Context, w wallet.WalletID, payToken string) (Order, error) {
	return s.payOrder(ctx, w, payToken, nil)
}

// PayOrderFor is PayOrder with the amount the customer saw on their
// screen: an order for another amount is ErrAmountMismatch and is not paid,
// so nobody pays what they did not see.
func (s *Service) PayOrderFor(ctx context.Context, w wallet.WalletID, payToken string, seen paydesk.Amount) (Order, error) {
	return s.payOrder(ctx, w, payToken, &seen)
}

func (s *Service) payOrder(ctx context.Context, w wallet.WalletID, payToken string, seen *paydesk.Amount) (Order, error) {
	o, err := s.store.OrderByPayToken(ctx, payToken)
	if err != nil {
		return Order{}, err
	}
	if seen != nil && *seen != o.Amount {
		return Order{}, ErrAmountMismatch.WithMessage("this order is for %d minor units, not %d", int64(o.Amount), int64(*seen))
	}
	switch {
	case o.State == Closed:
		return o, ErrOrderClosed
	case o.State != Created && o.WalletID == w:
		return o, nil
	case o.State != Created:
		return o, ErrOrderAlreadyPaid
	case !s.clock().Before(o.ExpiresAt):
		return o, ErrOrderExpired
	}
	m, err := s.merchants.Merchant(ctx, o.MerchantID)
	if err != nil {
		return o, err
	}
	return s.pay(ctx, o, m, w, nil, Created)
}

// PayStore is the wallet paying a store's static QR, the customer having
// typed the amount. It creates the order and pays it at once.
func (s *Service) PayStore(ctx context.Context, w wallet.WalletID, storeQRToken string, amount paydesk.Amount) (Order, error) {
	st, err := s.merchants.StoreByQRToken(ctx, storeQRToken)
	if err != nil {
		return Order{}, ErrOrderNotFound.WithMessage("no store behind this QR code")
	}
	o, m, err := s.draft(ctx, Order{MerchantID: st.MerchantID, StoreID: st.ID, OutTradeNo: "SQR-" + newPayToken()[:20],
		Method: MethodStoreQR, Amount: amount, ExpiresAt: s.clock().Add(s.cfg.ConfirmTimeout)})
	if err != nil {
		return Order{}, err
	}
	return s.collect(ctx, o, m, w, nil)
}

// ConfirmPayment is the payer approving, in the wallet app, a payment that
// waits for confirmation.
//
// Confirming again answers the result of the first confirmation: the PAID
// order, or the refusal that closed it.
func (s *Service) ConfirmPayment(ctx context.Context, w wallet.WalletID, orderID int64) (Order, error) {
	o, err := s.awaiting(ctx, w, orderID)
	if err != nil {
		switch {
		case o.WalletID != w:
		case o.State == Paid || o.State == PartiallyRefunded || o.State == Refunded || o.State == Revoked:
			return o, nil
		case refused(o):
			return o, refusal(o.CloseReason)
		}
		return o, err
	}
	m, err := s.merchants.Merchant(ctx, o.MerchantID)
	if err != nil {
		return o, err
	}
	paid, err := s.pay(ctx, o, m, w, nil, Paying)
	if err != nil && o.State == Paying {
		// A refused confirmation closes the order: the cashier must know.
		if _, done, cerr := s.close(ctx, o, paydesk.AsError(err).Code); cerr == nil && done {
			return o, err
		}
	}
	return paid, err
}

// DeclinePayment is the payer refusing a payment that waits for confirmation.
// Declining again answers the declined order.
func (s *Service) DeclinePayment(ctx context.Context, w wallet.WalletID, orderID int64) (Order, error) {
	o, err := s.awaiting(ctx, w, orderID)
	if err != nil {
		if o.WalletID == w && o.State == Closed && o.CloseReason == ReasonDeclined {
			return o, nil
		}
		return o, err
	}
	closed, done, err := s.close(ctx, o, ReasonDeclined)
	if err == nil && !done {
		return s.afterRace(ctx, o, w)
	}
	return closed, err
}

func (s *Service) awaiting(ctx context.Context, w wallet.WalletID, orderID int64) (Order, error) {
	o, err := s.store.OrderForWallet(ctx, w, orderID)
	if err != nil {
		return Order{}, err
	}
	if o.State != Paying {
		return o, ErrNotAwaitingPayer
	}
	if !s.clock().Before(o.ExpiresAt) {
		return o, ErrOrderExpired
	}
	return o, nil
}

// CloseOrder is a cashier closing an unpaid order (a QR nobody paid, a link
// no longer wanted, a payment the payer never confirmed). Closing a closed
// order answers it as it is.
func (s *Service) CloseOrder(ctx context.Context, c cashier.Actor, id int64) (Order, error) {
	o, err := s.store.Order(ctx, c.MerchantID, id)
	if err != nil {
		return Order{}, err
	}
	if !visibleTo(c, o) {
		return Order{}, ErrOrderNotFound
	}
	if o.State == Closed {
		return o, nil // closed already: a retry after a lost answer
	}
	if o.State != Created && o.State != Paying {
		return o, ErrInvalidTransition.WithMessage("order %d is %s; only unpaid orders can be closed", o.ID, o.State)
	}
	closed, done, err := s.close(ctx, o, ReasonCancelled)
	if err == nil && !done {
		now, err := s.store.Order(ctx, c.MerchantID, id)
		if err != nil {
			return o, err
		}
		if now.State == Closed {
			return now, nil
		}
		return now, ErrInvalidTransition.WithMessage("order %d became %s", o.ID, now.State)
	}
	return closed, err
}

// CloseExpired closes every open order whose time ran out: QRs nobody paid
// and payments nobody confirmed. Run by a ticker on every instance; each
// order is closed once, by whichever instance gets there first.
func (s *Service) CloseExpired(ctx context.Context) (int, error) {
	closed := 0
	for {
		batch, err := s.store.ExpiredOrders(ctx, s.clock(), 100)
		if err != nil {
			return closed, err
		}
		for _, o := range batch {
			_, done, err := s.close(ctx, o, ReasonExpired)
			if err != nil {
				return closed, err
			}
			if done {
				closed++
			}
		}
		if len(batch) < 100 {
			return closed, nil
		}
	}
}
