package paydesk_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/paydesk/paydesk"
)

func TestNormalizePhone(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"13800138000", "13800138000"},
		{"138 0013 8000", "13800138000"},
		{"+86 138-0013-8000", "13800138000"},
		{"+8613800138000", "13800138000"},
		{"+44 7700 900123", "+447700900123"},
		{"8613800138000", "8613800138000"}, // without "+", 86 is just digits
		{"", ""},
		{"+", ""},
		{"12345", ""},
		{"1234567890123456", ""},
		{"1380013800O", ""},
		{"+86", ""},
		{" 13800000001 ", "13800000001"},
		{"138" + strings.Repeat(" ", 30) + "00138000", ""}, // 11 digits, but over 32 characters
	} {
		got, err := paydesk.NormalizePhone(tt.in)
		if (tt.want == "") != (err != nil) || got != tt.want {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{"13800138000", "+86 138-0013-8000", "+44 7700 900123", "", "+", "１３８"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := paydesk.NormalizePhone(s)
		if err != nil {
			if !errors.Is(err, paydesk.ErrInvalidPhone) || paydesk.ErrorCode(err) != "INVALID_PHONE" {
				t.Fatalf("NormalizePhone(%q): error %v", s, err)
			}
			return
		}
		digits := strings.TrimPrefix(p, "+")
		if len(digits) < 6 || len(digits) > 15 || strings.Trim(digits, "0123456789") != "" {
			t.Fatalf("NormalizePhone(%q) = %q", s, p)
		}
		if again, err := paydesk.NormalizePhone(p); err != nil || again != p {
			t.Fatalf("normalizing %q again = %q, %v", p, again, err)
		}
	})
}
