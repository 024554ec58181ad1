package apikey

import (
	"strings"
	"testing"
)

func TestSecretShape(t *testing.T) {
	for _, k := range []Kind{Live, Test} {
		s := newSecret(k)
		got, ok := kindOf(s)
		if !ok || got != k || !IsKey(s) || !strings.HasPrefix(s, "pdk_"+string(k)+"_") {
			t.Fatalf("%s: %q reads as %q, %v", k, s, got, ok)
		}
		if newSecret(k) == s {
			t.Fatal("two keys alike")
		}
	}
	for _, bad := range []string{"", "pdk_", "pdk_live_", "pdk_prod_" + strings.Repeat("A", 43), "pdk_live_" + strings.Repeat("A", 42), "pdk_live_" + strings.Repeat("*", 43)} {
		if _, ok := kindOf(bad); ok {
			t.Errorf("%q reads as a key", bad)
		}
	}
}

func TestHasher(t *testing.T) {
	if _, err := NewHasher([]byte("short")); err == nil {
		t.Fatal("a 5-byte pepper is accepted")
	}
	a, _ := NewHasher([]byte("pepper-one-0123456789"))
	b, _ := NewHasher([]byte("pepper-two-0123456789"))
	s := newSecret(Live)
	if a.Hash(s) != a.Hash(s) || a.Hash(s) == b.Hash(s) || len(a.Hash(s)) != 64 || strings.Contains(a.Hash(s), s) {
		t.Fatal("the hash is not a keyed, stable 64-hex digest")
	}
}

// FuzzKindOf: whatever a caller sends as a bearer token, reading it as a
// key never panics, and what reads as a key has the key's shape.
func FuzzKindOf(f *testing.F) {
	f.Add(newSecret(Live))
	f.Add("pdk_test_x")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		if k, ok := kindOf(s); ok && (!IsKey(s) || (k != Live && k != Test)) {
			t.Fatalf("%q reads as kind %q", s, k)
		}
	})
}
