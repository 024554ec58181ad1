package mobileapi

import (
	"strconv"

	"github.com/paydesk/paydesk"
)

// ErrInvalidQuery is a query parameter that is not what the route takes.
var ErrInvalidQuery = paydesk.Errorf(paydesk.KindInvalid, "INVALID_QUERY", "a query parameter is invalid")

// parseBoundedInt reads the query parameter name, whose text is s: def
// when it is absent (empty), else a decimal integer in [min, max] written
// without sign, spaces or leading zeros ("0" itself aside), so that one
// value has one spelling.
func parseBoundedInt(s, name string, def, min, max int64) (int64, error) {
	if s == "" {
		return def, nil
	}
	bad := func() (int64, error) {
		return 0, ErrInvalidQuery.WithMessage("%s must be a whole number from %d to %d", name, min, max)
	}
	if len(s) > 19 || (len(s) > 1 && s[0] == '0') {
		return bad()
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return bad()
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < min || n > max {
		return bad()
	}
	return n, nil
}

// pageJSON is one page of a list: its items and the cursor that fetches
// the next page, null on the last one.
type pageJSON[T any, C int64 | string] struct {
	Items      []T `json:"items"`
	NextCursor *C  `json:"next_cursor"`
}

// pageOf shows items through view; a zero next cursor marks the last page.
func pageOf[T, U any, C int64 | string](items []U, view func(U) T, next C) pageJSON[T, C] {
	out := pageJSON[T, C]{Items: make([]T, len(items))}
	for i, it := range items {
		out.Items[i] = view(it)
	}
	var last C
	if next != last {
		out.NextCursor = &next
	}
	return out
}
