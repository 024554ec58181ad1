package pos

import (
	"context"
	"strconv"
	"strings"

	"github.com/paydesk/paydesk"
)

// The rule for business numbers (out_trade_no), in one place:
//
//   - An out_trade_no is unique per merchant. The same number again replays
//     only the same request: the same store and cashier (the caller's scope),
//     the same payment method, amount, currency and subject, and the same
//     payer credential where one is given (the payment code scanned, or the
//     phone and dynamic password typed). The replay answers what the first
//     request got and charges nothing more.
//   - Anything else under a used number is 422 IDEMPOTENCY_CONFLICT, whose
//     message names only the number: it says nothing of the other order
//     (not its state, amount, store nor payer).
//   - A refused attempt that charged nobody (INSUFFICIENT_FUNDS,
//     PAYMENT_CODE_USED, a payer's refused confirmation, ...) frees its
//     number: the same request again, with the same or a fresh code or
//     password, is a new attempt on the same order. This is what Alipay's
//     trade.pay and WeChat Pay's micropay integrators do: a cashier retries
//     a failed scan under the original number once the customer refreshes
//     the code. An order closed otherwise (expired, cancelled, declined by
//     the payer) keeps its number: the same request answers the closed order.
//
// Credentials are never stored: the order keeps a keyed fingerprint of them,
// bound to the merchant and the number, in the second half of its
// RequestDigest.

// requestPrint fingerprints what a request asks for, without its payer
// credential: 32 hex digits, the first half of RequestDigest.
func requestPrint(o Order, currency paydesk.Currency) string {
	return digest("v2", strconv.FormatInt(o.StoreID, 10), strconv.FormatInt(o.CashierID, 10), string(o.Method),
		o.Amount.String(), string(currency), o.Subject)[:32]
}

// credentialPrint fingerprints the payer credential of a request under
// (merchant, out_trade_no): 32 hex digits, the second half of RequestDigest.
// No credential prints alike for every request.
func credentialPrint(merchantID int64, outTradeNo string, credential ...string) string {
	if len(credential) == 0 {
		return strings.Repeat("0", 32)
	}
	parts := append([]string{"credential", strconv.FormatInt(merchantID, 10), outTradeNo}, credential...)
	return digest(parts...)[:32]
}

// errOutTradeNoUsed is a used out_trade_no sent with another request.
func errOutTradeNoUsed(no string) error {
	return paydesk.ErrIdempotencyConflict.WithMessage("out_trade_no %s is already used by a different request; use a new out_trade_no", no)
}

// sameRequest reports whether two digests are of the same request, and
// whether they carry the same credential too.
func sameRequest(a, b string) (request, credential bool) {
	if len(a) != 64 || len(b) != 64 {
		return a == b, a == b
	}
	return a[:32] == b[:32], a[32:] == b[32:]
}

// refused reports whether o was closed by a refusal that charged nobody,
// which frees its out_trade_no for a new attempt.
func refused(o Order) bool {
	return o.State == Closed && o.CloseReason != "" && o.CloseReason != ReasonExpired &&
		o.CloseReason != ReasonCancelled && o.CloseReason != ReasonDeclined
}

// admission is what the rule says of a new payment request.
type admission struct {
	prev     Order
	replayed bool    // prev answers the request
	from     []State // a retry after a refusal rewrites prev from these states
}

// admit applies the rule to a payment taken at once (scan, dynamic
// password) before anything is charged. A retry after a refusal takes over
// the refused order's id and creation time.
func (s *Service) admit(ctx context.Context, o *Order) (admission, error) {
	prev, err := s.store.OrderByOutTradeNo(ctx, o.MerchantID, o.OutTradeNo)
	if paydeskIs(err, ErrOrderNotFound) {
		return admission{}, nil
	}
	if err != nil {
		return admission{}, err
	}
	req, cred := sameRequest(prev.RequestDigest, o.RequestDigest)
	switch {
	case !req || prev.Kind != o.Kind:
		return admission{}, errOutTradeNoUsed(o.OutTradeNo)
	case refused(prev):
		o.ID, o.CreatedAt = prev.ID, prev.CreatedAt
		return admission{prev: prev, from: []State{Closed}}, nil
	case !cred:
		return admission{}, errOutTradeNoUsed(o.OutTradeNo)
	}
	return admission{prev: prev, replayed: true}, nil
}

// existing answers a request whose out_trade_no a stored order holds: the
// order for the same request, IDEMPOTENCY_CONFLICT for any other.
func existing(prev, o Order) (Order, error) {
	req, cred := sameRequest(prev.RequestDigest, o.RequestDigest)
	if !req || !cred || prev.Kind != o.Kind {
		return Order{}, errOutTradeNoUsed(o.OutTradeNo)
	}
	return prev, nil
}
