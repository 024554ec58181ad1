package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// AttemptCounter is what a Guard counts failures with; *Attempts is the
// implementation, kept in the database so that locks hold across restarts
// and instances.
type AttemptCounter interface {
	Check(ctx context.Context, key string) error
	// Claim counts an attempt before its secret is checked, refusing it
	// once the key's budget is spent; Failed then says it was wrong.
	Claim(ctx context.Context, key string, rule AttemptRule) error
	Failed(ctx context.Context, key string, rule AttemptRule) (locked bool, err error)
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

// Check claims an attempt of account from place before its secret is
// checked, and refuses (ErrTooManyAttempts with RetryAfter) while place is
// locked out of account or its budget is spent: the claim is counted at
// once, so a burst of guesses sent together checks at most the budget.
// The account's own state never refuses; over its ceiling, each place's
// budget shrinks to Guarded.
func (g Guard) Check(ctx context.Context, account, place string) error {
	pair, acct := g.keys(account, place)
	return g.Counter.Claim(ctx, pair, g.pairRule(ctx, acct))
}

// pairRule is the budget of one place: Pair, or Guarded while the account
// is over its ceiling.
func (g Guard) pairRule(ctx context.Context, acct string) AttemptRule {
	if errors.Is(g.Counter.Check(ctx, acct), ErrTooManyAttempts) {
		return g.Guarded
	}
	return g.Pair
}

// Fail records that the attempt Check claimed was a wrong secret, and
// reports whether place is now locked out of account.
func (g Guard) Fail(ctx context.Context, account, place string) (locked bool, err error) {
	pair, acct := g.keys(account, place)
	rule := g.pairRule(ctx, acct)
	if _, err := g.Counter.Fail(ctx, acct, g.Account); err != nil {
		return false, err
	}
	return g.Counter.Failed(ctx, pair, rule)
}

// Succeed forgets place's failures on account, after the right secret.
func (g Guard) Succeed(ctx context.Context, account, place string) error {
	pair, _ := g.keys(account, place)
	return g.Counter.Reset(ctx, pair)
}

// Unlock forgets every failure of account, from every place: the unlock
// path after the owner has proved themselves another way (a manager's
// password reset). Its counter must be able to forget by key prefix
// (*Attempts can).
func (g Guard) Unlock(ctx context.Context, account string) error {
	r, ok := g.Counter.(interface {
		ResetPrefix(ctx context.Context, prefix string) error
	})
	if !ok {
		return errors.New("unlock: the attempt counter cannot forget by prefix")
	}
	pair, acct := g.keys(account, "")
	if err := r.ResetPrefix(ctx, pair); err != nil {
		return err
	}
	return g.Counter.Reset(ctx, acct)
}

// ResetPrefix forgets the failures of every key starting with prefix.
func (a *Attempts) ResetPrefix(ctx context.Context, prefix string) error {
	// '!' escapes: a backslash would mean two different things to MySQL
	// and SQLite string literals.
	esc := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(prefix)
	defer a.writing(ctx)()
	if err := a.db.Writer(ctx).Exec("DELETE FROM attempts WHERE attempt_key LIKE ? ESCAPE '!'", esc+"%").Error; err != nil {
		return fmt.Errorf("reset attempts: %w", err)
	}
	return nil
}

// truncateKey bounds the part of a key that comes from the client.
func truncateKey(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
