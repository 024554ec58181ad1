package seal_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/paydesk/paydesk/internal/seal"
)

func TestSealOpens(t *testing.T) {
	key := bytes.Repeat([]byte{7}, seal.KeyLen)
	s := seal.Must(key)
	at := []byte("table.column:row:1")
	v, err := s.Seal(at, []byte("whsec_abc"))
	if err != nil || !strings.HasPrefix(v, seal.Prefix) || strings.Contains(v, "whsec") {
		t.Fatalf("sealed %q, %v", v, err)
	}
	if again, _ := s.Seal(at, []byte("whsec_abc")); again == v {
		t.Fatal("two seals of one secret are equal: the nonce is not fresh")
	}
	if plain, legacy, err := s.Open(at, v); err != nil || legacy || string(plain) != "whsec_abc" {
		t.Fatalf("open = %q, %v, %v", plain, legacy, err)
	}
	if plain, legacy, err := s.Open(at, "plain-from-before"); err != nil || !legacy || string(plain) != "plain-from-before" {
		t.Fatalf("legacy open = %q, %v, %v", plain, legacy, err)
	}
	other := seal.Must(bytes.Repeat([]byte{8}, seal.KeyLen))
	for name, open := range map[string]func() error{
		"another place": func() error { _, _, err := s.Open([]byte("table.column:row:2"), v); return err },
		"another key":   func() error { _, _, err := other.Open(at, v); return err },
		"cut short":     func() error { _, _, err := s.Open(at, v[:len(v)-4]); return err },
		"not base64":    func() error { _, _, err := s.Open(at, seal.Prefix+"!!"); return err },
	} {
		if err := open(); !errors.Is(err, seal.ErrUnreadable) {
			t.Errorf("%s: %v, want ErrUnreadable", name, err)
		}
	}
	if _, err := seal.New(key[:16]); err == nil {
		t.Error("a 16-byte key was taken")
	}
}
