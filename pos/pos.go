package pos

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/merchant"
	"github.com/paydesk/paydesk/wallet"
)

// Change names what happened to an order, for observers.
type Change string

// Order changes observers are told about.
const (
	ChangePaying Change = "payment.paying" // waiting for the payer's confirmation
	ChangePaid   Change = "payment.paid"
	ChangeClosed Change = "payment.closed"
)

// Observer learns of every order change inside the transaction that makes
// it, so what it writes (an outbox event, a day's figures, a member's
// visits) commits or rolls back with the change itself.
type Observer interface {
	OrderChanged(ctx context.Context, o Order, change Change) error
}

// Config holds the POS's rules. Zero values take the defaults.
type Config struct {
	// QRExpiry is how long a collection QR can be paid (default 5 minutes).
	QRExpiry time.Duration
	// ConfirmTimeout is how long a payment waits for the payer's
	// confirmation before it closes (default 60 s).
	ConfirmTimeout time.Duration
	// MaxPayment is the largest single payment (default 1,000,000.00).
	MaxPayment paydesk.Amount
	// PublicURL is where customers reach paydesk: QR payloads and payment
	// links are built on it (default http://localhost:8080).
	PublicURL string
	// RefundWindow is how long after payment an order can be refunded
	// (default DefaultRefundWindow, 180 days).
	RefundWindow time.Duration
	// Settled tells whether a paid order's money has been settled, which
	// ends the day it can be voided (see void.go); nil until settlement
	// exists: then "paid today" alone decides.
	Settled SettlementCheck
	// Payable, when set, is asked before every wallet payment whether
	// wallet w may pay merchant m (test mode: a sandbox merchant is paid
	// only by its test wallet, package sandbox).
	Payable func(ctx context.Context, m merchant.Merchant, w wallet.WalletID) error
}

// Service carries out the POS use cases.
type Service struct {
	store     Storage
	ledger    *ledger.Ledger
	wallets   *wallet.Service
	merchants *merchant.Service
	observers []Observer
	clock     paydesk.Clock
	cfg       Config
}

// NewService returns a Service.
func NewService(store Storage, l *ledger.Ledger, wallets *wallet.Service, merchants *merchant.Service, clock paydesk.Clock, cfg Config, observers ...Observer) *Service {
	if cfg.QRExpiry <= 0 {
		cfg.QRExpiry = 5 * time.Minute
	}
	if cfg.ConfirmTimeout <= 0 {
		cfg.ConfirmTimeout = 60 * time.Second
	}
	if cfg.MaxPayment <= 0 {
		cfg.MaxPayment = 100_000_000
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if cfg.PublicURL == "" {
		cfg.PublicURL = "http://localhost:8080"
	}
	return &Service{store: store, ledger: l, wallets: wallets, merchants: merchants, observers: observers, clock: clock, cfg: cfg}
}

// Observe adds an observer; call it before serving.
func (s *Service) Observe(o Observer) { s.observers = append(s.observers, o) }

// Errors with stable codes.
var (
	ErrOrderNotFound     = &paydesk.Error{Kind: paydesk.KindNotFound, Code: "ORDER_NOT_FOUND", Message: "no such order"}
	ErrPaymentInProgress = &paydesk.Error{Kind: paydesk.KindConflict, Code: "PAYMENT_IN_PROGRESS", Message: "a payment with this out_trade_no is being processed; query it or retry shortly"}
	ErrOrderClosed       = &paydesk.Error{Kind: paydesk.KindConflict, Code: "ORDER_CLOSED", Message: "the order is closed and can no longer be paid"}
	ErrOrderAlreadyPaid  = &paydesk.Error{Kind: paydesk.KindConflict, Code: "ORDER_ALREADY_PAID", Message: "the order has been paid"}
	ErrOrderExpired      = &paydesk.Error{Kind: paydesk.KindConflict, Code: "ORDER_EXPIRED", Message: "the order's time to pay has run out"}
	ErrAmountAboveLimit  = &paydesk.Error{Kind: paydesk.KindInvalid, Code: "AMOUNT_ABOVE_LIMIT", Message: "the amount is above the single-payment limit"}
	ErrInvalidOutTradeNo = &paydesk.Error{Kind: paydesk.KindInvalid, Code: "INVALID_OUT_TRADE_NO", Message: "out_trade_no must be 1 to 64 characters of letters, digits, '-', '_' or '.'"}
	ErrNotAwaitingPayer  = &paydesk.Error{Kind: paydesk.KindConflict, Code: "ORDER_NOT_AWAITING_CONFIRMATION", Message: "the order is not waiting for this payer's confirmation"}
	// ErrAmountMismatch is a wallet paying an order with another amount
	// than the order's: the customer saw a different amount than the
	// cashier asked (PayOrderFor).
	ErrAmountMismatch    = &paydesk.Error{Kind: paydesk.KindUnprocessable, Code: "AMOUNT_MISMATCH", Message: "the amount differs from the order's"}
	ErrMerchantNotActive = &paydesk.Error{Kind: paydesk.KindForbidden, Code: "MERCHANT_NOT_ACTIVE", Message: "the merchant cannot collect payments"}
)

func (s *Service) validAmount(a paydesk.Amount) error {
	if err := a.ValidPayment(); err != nil {
		return err
	}
	if a > s.cfg.MaxPayment {
		return ErrAmountAboveLimit.WithMessage("the amount is above the single-payment limit of %d minor units", int64(s.cfg.MaxPayment))
	}
	return nil
}

func validOutTradeNo(s string) error {
	if len(s) == 0 || len(s) > 64 {
		return ErrInvalidOutTradeNo
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return ErrInvalidOutTradeNo
		}
	}
	return nil
}

// digest fingerprints what a request asks for, so a retry under the same
// out_trade_no is told apart from a different request reusing it.
func digest(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:])
}

func newPayToken() string {
	b := make([]byte, 18)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// draft checks a new collection and completes it from its merchant,
// without writing anything.
func (s *Service) draft(ctx context.Context, o Order, credential ...string) (Order, merchant.Merchant, error) {
	if err := validOutTradeNo(o.OutTradeNo); err != nil {
		return Order{}, merchant.Merchant{}, err
	}
	if err := s.validAmount(o.Amount); err != nil {
		return Order{}, merchant.Merchant{}, err
	}
	if len(o.Subject) > 128 {
		return Order{}, merchant.Merchant{}, paydesk.ErrInvalid.WithMessage("subject must be at most 128 bytes")
	}
	m, err := s.merchants.Merchant(ctx, o.MerchantID)
	if err != nil {
		return Order{}, merchant.Merchant{}, err
	}
	if m.Status != merchant.Active {
		return Order{}, merchant.Merchant{}, ErrMerchantNotActive
	}
	now := s.clock()
	o.Kind, o.State, o.Currency, o.CreatedAt, o.UpdatedAt = KindPOS, Created, m.Currency, now, now
	o.RequestDigest = requestPrint(o, m.Currency) + credentialPrint(o.MerchantID, o.OutTradeNo, credential...)
	if o.ID, err = s.store.NewOrderID(ctx); err != nil {
		return Order{}, merchant.Merchant{}, err
	}
	return o, m, nil
}

// open creates an order to be paid later (a collection QR, a payment link),
// or returns the one already made for the same request.
func (s *Service) open(ctx context.Context, o Order) (Order, error) {
	o, _, err := s.draft(ctx, o)
	if err != nil {
		return Order{}, err
	}
	err = s.store.CreateOrder(ctx, &o)
	if paydeskIs(err, ErrDuplicateOrder) {
		prev, err := s.store.OrderByOutTradeNo(ctx, o.MerchantID, o.OutTradeNo)
		if err != nil {
			return Order{}, err
		}
		return existing(prev, o)
	}
	return o, err
}

// replay answers a retried request with what the first one got: the order,
// or the refusal that closed it, or "in progress" while it is being paid.
func replay(o Order) (Order, error) {
	switch {
	case o.State == Created && (o.Method == MethodScan || o.Method == MethodDynamicPassword || o.Method == MethodStoreQR):
		return o, ErrPaymentInProgress
	case o.State == Closed && o.CloseReason != "" && o.CloseReason != ReasonExpired && o.CloseReason != ReasonCancelled && o.CloseReason != ReasonDeclined:
		return o, refusal(o.CloseReason)
	}
	return o, nil
}

func paydeskIs(err error, target *paydesk.Error) bool {
	e := paydesk.AsError(err)
	return e.Code == target.Code
}

// Close reasons that are not refusals.
const (
	ReasonExpired   = "EXPIRED"
	ReasonCancelled = "CANCELLED"
	ReasonDeclined  = "DECLINED"
)

// refusal rebuilds the error that closed an order, for a retry.
func refusal(code string) error {
	return &paydesk.Error{Kind: paydesk.KindUnprocessable, Code: code, Message: "the payment was refused: " + strings.ToLower(strings.ReplaceAll(code, "_", " "))}
}

func (s *Service) notify(ctx context.Context, o Order, c Change) error {
	for _, ob := range s.observers {
		if err := ob.OrderChanged(ctx, o, c); err != nil {
			return fmt.Errorf("observe %s of order %d: %w", c, o.ID, err)
		}
	}
	return nil
}

// Order returns one of the merchant's orders.
func (s *Service) Order(ctx context.Context, merchantID, id int64) (Order, error) {
	return s.store.Order(ctx, merchantID, id)
}

// OrderByPayToken returns the order behind a QR payload or link.
func (s *Service) OrderByPayToken(ctx context.Context, token string) (Order, error) {
	return s.store.OrderByPayToken(ctx, token)
}
