package paydesk_test

import (
	"errors"
	"math"
	"testing"

	"github.com/paydesk/paydesk"
)

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in   string
		want paydesk.Amount
		ok   bool
	}{
		{"12", 1200, true},
		{"12.5", 1250, true},
		{"12.50", 1250, true},
		{"0.01", 1, true},
		{"0", 0, false},
		{"0.00", 0, false},
		{"-1", 0, false},
		{"1.234", 0, false},
		{"1.", 0, false},
		{".5", 0, false},
		{"", 0, false},
		{"1e3", 0, false},
		{"１２", 0, false},
		{"100000000000", paydesk.MaxAmount, true},
		{"100000000000.01", 0, false},
		{"99999999999999999999", 0, false},
	}
	for _, tt := range tests {
		got, err := paydesk.ParseAmount(tt.in)
		if tt.ok != (err == nil) || got != tt.want {
			t.Errorf("ParseAmount(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !errors.Is(err, paydesk.ErrInvalidAmount) {
			t.Errorf("ParseAmount(%q) error %v is not INVALID_AMOUNT", tt.in, err)
		}
	}
}

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"12.50", "0.01", "1", "-3", "1.2.3", "99999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := paydesk.ParseAmount(s)
		if err != nil {
			if paydesk.ErrorCode(err) != "INVALID_AMOUNT" {
				t.Fatalf("ParseAmount(%q): uncoded error %v", s, err)
			}
			return
		}
		if a.ValidPayment() != nil {
			t.Fatalf("ParseAmount(%q) = %d, which is not a valid payment amount", s, a)
		}
		// Formatting and parsing again must give the same amount.
		if b, err := paydesk.ParseAmount(a.String()); err != nil || b != a {
			t.Fatalf("round trip %q -> %d -> %q -> %d, %v", s, a, a.String(), b, err)
		}
	})
}

func TestAmountString(t *testing.T) {
	for a, want := range map[paydesk.Amount]string{0: "0.00", 1: "0.01", 1250: "12.50", -5: "-0.05", math.MinInt64: "-92233720368547758.08"} {
		if got := a.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int64(a), got, want)
		}
	}
}

func TestAddOverflow(t *testing.T) {
	if _, err := paydesk.Amount(math.MaxInt64).Add(1); !errors.Is(err, paydesk.ErrAmountOverflow) {
		t.Fatalf("MaxInt64+1: err = %v", err)
	}
	if _, err := paydesk.Amount(0).Sub(math.MinInt64); !errors.Is(err, paydesk.ErrAmountOverflow) {
		t.Fatalf("0-MinInt64: err = %v", err)
	}
	if s, err := paydesk.Amount(5).Sub(7); err != nil || s != -2 {
		t.Fatalf("5-7 = %d, %v", s, err)
	}
}

func TestFeeRoundsHalfUp(t *testing.T) {
	tests := []struct {
		amount paydesk.Amount
		rate   paydesk.Rate
		want   paydesk.Amount
	}{
		{10000, 3800, 38},   // 100.00 at 0.38% = 0.38
		{1250, 3800, 5},     // 4.75 fen rounds up to 5
		{131, 3800, 0},      // 0.4978 fen rounds down
		{132, 3800, 1},      // 0.5016 fen rounds up
		{12500, 40000, 500}, // exactly half: 4% of 125.00
		{paydesk.MaxAmount, 3800, 38_000_000_000},
		{-1250, 3800, -5},
	}
	for _, tt := range tests {
		if got := tt.rate.Of(tt.amount); got != tt.want {
			t.Errorf("Rate(%d).Of(%d) = %d, want %d", tt.rate, tt.amount, got, tt.want)
		}
	}
	// 1/8 of 100 is 12.5 -> 13 (half up).
	if got := paydesk.ProRata(100, 1, 8); got != 13 {
		t.Errorf("ProRata(100,1,8) = %d, want 13", got)
	}
}
