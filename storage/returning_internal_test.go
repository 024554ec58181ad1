package storage

import "testing"

func TestMariaDBReturns(t *testing.T) {
	for v, want := range map[string]bool{
		"10.11.19-MariaDB-0+deb12u1": true,
		"10.5.0-MariaDB":             true,
		"11.4.2-MariaDB-ubu2404":     true,
		"10.4.32-MariaDB":            false,
		"8.4.3":                      false,
		"8.0.36-0ubuntu0.22.04.1":    false,
		"5.5.5-10.11.6-MariaDB":      false, // the old replication prefix: not parsed, so not trusted
		"MariaDB":                    false,
		"":                           false,
	} {
		if got := mariaDBReturns(v); got != want {
			t.Errorf("mariaDBReturns(%q) = %v, want %v", v, got, want)
		}
	}
}
