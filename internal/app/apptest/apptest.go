// Package apptest builds internal/app's service graph for tests: the
// settings the end-to-end tests share (cheap password hashing, fixed
// secrets, a bank whose payouts wait for the test), on a real database
// (storagetest) and a clock the test moves (testkit). It is apart from
// testkit so that testkit stays importable by every package's own tests.
package apptest

import (
	"context"
	"testing"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/internal/app"
	"github.com/paydesk/paydesk/internal/seal"
	"github.com/paydesk/paydesk/storage"
)

// Secret signs the tests' access tokens and peppers their API keys.
const Secret = "paydesk-test-secret-0123456789abcdef"

// CheapPasswords hashes passwords at the lowest argon2 costs: the tests
// log in hundreds of people, and hashing cost is not under test.
var CheapPasswords = paydesk.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}

// Settings are the tests' app.Settings: Secret, an all-zero data key,
// CheapPasswords, manual bank payouts (the test completes them) and
// webhooks allowed to reach the tests' loopback servers. The caller adds
// what its test needs (the bank's callbacks, SMS, the public URL).
func Settings() app.Settings {
	return app.Settings{Secret: []byte(Secret), DataKey: make([]byte, seal.KeyLen), APIKeyPepper: []byte(Secret),
		Passwords: CheapPasswords, Bank: bank.SimulatorConfig{ManualPayouts: true}, WebhookAllowPrivate: true}
}

// Sealer seals as the tests' app does (under Settings' data key), for a
// test that opens a store of its own beside the app.
func Sealer() *seal.Sealer { return seal.Must(make([]byte, seal.KeyLen)) }

// Build builds the app on db with s and clock, failing t on an error, and
// closes it when t ends.
func Build(t testing.TB, db *storage.DB, s app.Settings, clock paydesk.Clock) *app.App {
	t.Helper()
	a, err := app.Build(context.Background(), db, s, clock)
	if err != nil {
		t.Fatalf("build the app: %v", err)
	}
	t.Cleanup(a.Close)
	return a
}
