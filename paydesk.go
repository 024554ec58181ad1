// Package paydesk holds the few types every part of the merchant POS backend
// shares: money amounts, the error type with its stable codes, and the clock.
// It imports nothing from the project, so every other package may import it.
package paydesk

import (
	"context"
	"time"
)

// Clock tells the time. Services take one so that tests move time instead of sleeping.
type Clock func() time.Time

// SystemClock is the real clock, in UTC so stored times compare the same on every database.
func SystemClock() time.Time { return time.Now().UTC() }

// TxRunner runs fn inside one database transaction. A ctx that already
// carries a transaction joins it, so use cases compose without knowing SQL.
type TxRunner interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}
