package paydesk

import "strings"

// ErrInvalidPhone is returned for what NormalizePhone cannot read as a
// mobile number.
var ErrInvalidPhone = &Error{Kind: KindInvalid, Code: "INVALID_PHONE", Message: "a phone number is 6 to 15 digits, optionally after + and a country code"}

// ErrPhoneTaken refuses a new account (a wallet, a staff account) under a
// phone number that already signs one in: phones are sign-in names, unique
// within each kind of account. Each package says which account in its
// message (WithMessage); the code is defined here once.
var ErrPhoneTaken = &Error{Kind: KindConflict, Code: "PHONE_TAKEN", Message: "this phone number is taken"}

// NormalizePhone reads a mobile number as customers and cashiers type it:
// digits with optional spaces or dashes, optionally after "+86" (mainland
// China's country code, dropped so that "+86 138 0013 8000" and
// "13800138000" are one wallet) or after "+" and another country code,
// which is kept. The result is what identifies a wallet or a staff member.
func NormalizePhone(s string) (string, error) {
	if len(s) > 32 {
		return "", ErrInvalidPhone
	}
	plus := strings.HasPrefix(s, "+")
	if plus {
		s = s[1:]
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			b.WriteByte(c)
		case c == ' ' || c == '-':
		default:
			return "", ErrInvalidPhone
		}
	}
	d := b.String()
	if plus {
		if rest, ok := strings.CutPrefix(d, "86"); ok {
			d, plus = rest, false
		}
	}
	if len(d) < 6 || len(d) > 15 {
		return "", ErrInvalidPhone
	}
	if plus {
		return "+" + d, nil
	}
	return d, nil
}
