package bank

import (
	"strings"
	"time"
)

// CardDetails is what a customer types to bind a card. It passes through
// paydesk once, on its way to the bank, and is never stored.
type CardDetails struct {
	Number      string // 12 to 19 digits; spaces and dashes as people type them are allowed
	Holder      string
	ExpiryMonth int // 1-12
	ExpiryYear  int // four digits
}

// Card is a bound card as paydesk keeps it: a token for the bank, and what
// the app may show.
type Card struct {
	Token    string
	Last4    string
	BankName string
}

// NormalizeCardNumber strips the spaces and dashes people type and checks
// the result is 12 to 19 digits with a valid Luhn check digit, so a typo is
// caught before the bank is asked.
func NormalizeCardNumber(s string) (string, error) {
	if len(s) > 64 {
		return "", ErrCardInvalid.WithMessage("card number too long")
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			b.WriteByte(c)
		case c == ' ' || c == '-':
		default:
			return "", ErrCardInvalid.WithMessage("card number must be digits")
		}
	}
	n := b.String()
	if len(n) < 12 || len(n) > 19 {
		return "", ErrCardInvalid.WithMessage("card number must have 12 to 19 digits")
	}
	if !luhn(n) {
		return "", ErrCardInvalid.WithMessage("card number check digit is wrong")
	}
	return n, nil
}

// luhn reports whether the digits pass the Luhn (mod 10) check.
func luhn(digits string) bool {
	sum := 0
	double := false
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// validate checks the details a bank would refuse outright, at time now.
func (c CardDetails) validate(now time.Time) (number string, err error) {
	number, err = NormalizeCardNumber(c.Number)
	if err != nil {
		return "", err
	}
	if h := strings.TrimSpace(c.Holder); h == "" || len(h) > 128 {
		return "", ErrCardInvalid.WithMessage("card holder name must be 1 to 128 bytes")
	}
	if c.ExpiryMonth < 1 || c.ExpiryMonth > 12 || c.ExpiryYear < 2000 || c.ExpiryYear > 2200 {
		return "", ErrCardInvalid.WithMessage("card expiry must be a month 1-12 and a four-digit year")
	}
	// A card is good through the last day of its expiry month.
	if !now.Before(time.Date(c.ExpiryYear, time.Month(c.ExpiryMonth)+1, 1, 0, 0, 0, 0, time.UTC)) {
		return "", ErrCardInvalid.WithMessage("the card has expired")
	}
	return number, nil
}
