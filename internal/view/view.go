// Package view holds the JSON shapes of the resources that more than one
// edge shows: an order and a settlement batch as the merchant API answers
// them, the websocket and webhooks push them and the operator's commands
// print them. Each shape is defined here once, so the three cannot drift;
// the domain packages (pos, settlement) stay free of JSON tags.
package view

import "time"

// OptionalTime is t, or nil (JSON null) for the zero time.
func OptionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
