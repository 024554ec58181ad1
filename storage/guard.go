package storage

import (
	"context"
	"errors"
)

// AttemptCounter is what a Guard counts failures with; *Attempts is the
// implementation, kept in the database so that locks hold across restarts
// and instances.
type AttemptCounter interface {
	Check(ctx context.Context, key string) error
	Fail(ctx context.Context, key string, rule AttemptRule) (locked bool, err error)
	Reset(ctx context.Context, key string) error
}

// Guard protects an account's secret (a password, a dynamic password)
// against guessing without letting a guesser lock the owner out.
//
// Failures lock the pair (account, place) — place is where the guesses
// come from: a client IP, a merchant — never the account everywhere. A
// flood from one place therefore locks only that place out of that
// account, and the owner elsewhere is not stopped. Against guesses spread
// over many places the account has a ceiling: once it has failed
// Account.Max times within Account.Window it is guarded for
// Account.Lockout, and while it is guarded every place is locked after its
// first failure (Guarded) instead of after Pair.Max. Guesses then cost a
// fresh place each, and the owner, who gets it right the first time, still
// passes. A success resets its own pair.
type Guard struct {
	Counter AttemptCounter
	// Prefix namespaces the keys ("login", "wallet-login", "dynpw").
	Prefix string
	// Pair locks one (account, place); Guarded replaces it while the
	// account is over its ceiling; Account is that ceiling.
	Pair, Guarded, Account AttemptRule
}

// keys are the counters of account from place.
func (g Guard) keys(account, place string) (pair, acct string) {
	account, place = truncateKey(account, 64), truncateKey(place, 64)
	return g.Prefix + ":pair:" + account + "|" + place, g.Prefix + ":acct:" + account
}

// Check refuses (ErrTooManyAttempts with RetryAfter) while place is locked
// out of account. The account's own state never refuses.
func (g Guard) Check(ctx context.Context, account, place string) error {
	pair, _ := g.keys(account, place)
	return g.Counter.Check(ctx, pair)
}

// Fail records a wrong secret for account from place and reports whether
// place is now locked out of it.
func (g Guard) Fail(ctx context.Context, account, place string) (locked bool, err error) {
	pair, acct := g.keys(account, place)
	rule := g.Pair
	switch err := g.Counter.Check(ctx, acct); {
	case errors.Is(err, ErrTooManyAttempts):
		rule = g.Guarded
	case err != nil:
		return false, err
	}
	if _, err := g.Counter.Fail(ctx, acct, g.Account); err != nil {
		return false, err
	}
	return g.Counter.Fail(ctx, pair, rule)
}

// Succeed forgets place's failures on account, after the right secret.
func (g Guard) Succeed(ctx context.Context, account, place string) error {
	pair, _ := g.keys(account, place)
	return g.Counter.Reset(ctx, pair)
}

// truncateKey bounds the part of a key that comes from the client.
func truncateKey(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
