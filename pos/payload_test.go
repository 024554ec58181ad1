package pos

import (
	"testing"
)

func TestParseQRPayload(t *testing.T) {
	tests := []struct {
		in    string
		kind  PayloadKind
		token string
	}{
		{"https://pay.example.com/p/o/abcdefghijklmnopqrstuvwx", PayloadOrder, "abcdefghijklmnopqrstuvwx"},
		{"http://localhost:8080/p/s/AAAAAAAAAAAAAAAAAAAAAAAA", PayloadStore, "AAAAAAAAAAAAAAAAAAAAAAAA"},
		{" https://x.y/p/o/abc-def_ghi-jkl_mno \n", PayloadOrder, "abc-def_ghi-jkl_mno"},
		{"https://x.y/p/o/short", "", ""},
		{"https://x.y/p/o/abcdefghijklmnop/extra", "", ""},
		{"https://x.y/p/x/abcdefghijklmnopqrstuvwx", "", ""},
		{"ftp://x.y/p/o/abcdefghijklmnopqrstuvwx", "", ""},
		{"/p/o/abcdefghijklmnopqrstuvwx", "", ""},
		{"761234567812345678", "", ""},
		{"", "", ""},
		{"https://x.y/p/o/abcdefghijklmnop%20qrstuvwx", "", ""},
	}
	for _, tt := range tests {
		kind, token, err := ParseQRPayload(tt.in)
		if kind != tt.kind || token != tt.token || (tt.kind == "") != (err != nil) {
			t.Errorf("ParseQRPayload(%q) = %q, %q, %v; want %q, %q", tt.in, kind, token, err, tt.kind, tt.token)
		}
	}
}

func FuzzParseQRPayload(f *testing.F) {
	for _, s := range []string{"https://pay.example.com/p/o/abcdefghijklmnopqrstuvwx", "http://h/p/s/AAAAAAAAAAAAAAAAAAAA", "x", "https://h/p/o/%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		kind, token, err := ParseQRPayload(s)
		if err != nil {
			if err != ErrInvalidQRPayload {
				t.Fatalf("uncoded error %v", err)
			}
			return
		}
		if (kind != PayloadOrder && kind != PayloadStore) || !validToken(token) {
			t.Fatalf("ParseQRPayload(%q) = %q, %q", s, kind, token)
		}
		// What we accept, we can print again and read back the same.
		path := orderPayPath
		if kind == PayloadStore {
			path = storePayPath
		}
		k2, t2, err := ParseQRPayload("https://h" + path + token)
		if err != nil || k2 != kind || t2 != token {
			t.Fatalf("round trip of %q failed", s)
		}
	})
}
