package paydesk

import (
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// Amount is money in minor units (fen, cents). Never a float.
type Amount int64

// Currency is an ISO 4217 code such as "CNY".
type Currency string

// DefaultCurrency is what a merchant settles in unless configured otherwise.
const DefaultCurrency Currency = "CNY"

// MaxAmount bounds any single amount the API accepts: 10^13 minor units
// (100 billion in major units) is far beyond any payment and far from overflow.
const MaxAmount Amount = 1e13

// Add returns a+b, or ErrAmountOverflow.
func (a Amount) Add(b Amount) (Amount, error) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, ErrAmountOverflow
	}
	return s, nil
}

// Sub returns a-b, or ErrAmountOverflow.
func (a Amount) Sub(b Amount) (Amount, error) {
	if b == math.MinInt64 {
		return 0, ErrAmountOverflow
	}
	return a.Add(-b)
}

// String formats the amount in major units with two decimals, e.g. "12.50".
func (a Amount) String() string {
	neg := a < 0
	u := uint64(a)
	if neg {
		u = -u
	}
	s := strconv.FormatUint(u/100, 10) + "." + strconv.FormatUint(100+u%100, 10)[1:]
	if neg {
		return "-" + s
	}
	return s
}

// ParseAmount reads a positive amount written in major units with at most
// two decimals ("12", "12.5", "12.50"), as an operator types it on the
// command line. The API itself takes integers of minor units.
func ParseAmount(s string) (Amount, error) {
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || len(whole) > 13 || !allDigits(whole) || (hasDot && (len(frac) == 0 || len(frac) > 2 || !allDigits(frac))) {
		return 0, ErrInvalidAmount.WithMessage("amount %q is not a number with at most two decimals", s)
	}
	w, _ := strconv.ParseInt(whole, 10, 64)
	var f int64
	if hasDot {
		f, _ = strconv.ParseInt((frac + "0")[:2], 10, 64)
	}
	a := Amount(w*100 + f)
	if err := a.ValidPayment(); err != nil {
		return 0, err
	}
	return a, nil
}

// ValidPayment reports whether a is an amount a payment, refund or withdrawal may carry.
func (a Amount) ValidPayment() error {
	if a <= 0 {
		return ErrInvalidAmount.WithMessage("amount must be greater than zero")
	}
	if a > MaxAmount {
		return ErrInvalidAmount.WithMessage("amount must be at most %d minor units", int64(MaxAmount))
	}
	return nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Rate is a fraction in parts per million: 3800 is 0.38%.
type Rate int64

// DefaultFeeRate is the merchant discount rate unless a merchant has its own.
const DefaultFeeRate Rate = 3800

// Of returns r applied to a, rounded half up to the minor unit. This is the
// one place fees are rounded; a refund's fee share uses ProRata below.
func (r Rate) Of(a Amount) Amount {
	return ProRata(a, int64(r), 1_000_000)
}

// ProRata returns a*num/den rounded half up (away from zero for negative a),
// computed in 128 bits so no intermediate product overflows.
func ProRata(a Amount, num, den int64) Amount {
	if den <= 0 || num < 0 {
		panic("paydesk.ProRata: non-positive denominator or negative numerator")
	}
	neg := a < 0
	u := uint64(a)
	if neg {
		u = -u
	}
	hi, lo := bits.Mul64(u, uint64(num))
	// Add den/2 for half-up rounding before dividing.
	lo2, carry := bits.Add64(lo, uint64(den)/2, 0)
	hi += carry
	if hi >= uint64(den) {
		panic("paydesk.ProRata: result overflows")
	}
	q, _ := bits.Div64(hi, lo2, uint64(den))
	if neg {
		return -Amount(q)
	}
	return Amount(q)
}
