package mobileapi

import (
	"crypto/sha256"
	"sync"

	"github.com/paydesk/paydesk"
)

// SocketLimits bound the websockets (GET /v1/ws) open at once on this
// instance with one access token, and with the access tokens of one login
// (a refresh family: one device). An app needs one socket; the limits
// leave room for the reconnects of a flaky network, whose dead sockets
// linger until the pong wait (60 s) drops them, and for a few browser tabs
// of the same login. Zero takes the default.
type SocketLimits struct {
	PerToken int
	PerLogin int
}

// The default limits.
const (
	DefaultSocketsPerToken = 8
	DefaultSocketsPerLogin = 16
)

// ErrTooManySockets refuses a websocket over a limit, before the upgrade:
// 429 with Retry-After (the pong wait, after which sockets that died
// without a close are gone). Close a socket of the token or login first.
var ErrTooManySockets = &paydesk.Error{Kind: paydesk.KindRateLimited, Code: "TOO_MANY_SOCKETS",
	Message: "too many websockets are open with this access token or login; close one (an app needs one) and retry"}

// The limit label of paydesk_websockets_refused_total.
const (
	limitToken = "token"
	limitLogin = "login"
)

// socketCounts counts the open sockets per token and per login.
type socketCounts struct {
	mu      sync.Mutex
	byToken map[[sha256.Size]byte]int // by the token's hash: no token is kept in memory for it
	byLogin map[string]int
}

// acquire counts one more socket of token and login (which may be empty:
// tokens signed before they named their login), unless that would pass a
// limit: then it answers which one, and counts nothing. release undoes a
// successful acquire, once.
func (s *socketCounts) acquire(lim SocketLimits, token, login string) (release func(), refused string) {
	perToken, perLogin := lim.PerToken, lim.PerLogin
	if perToken <= 0 {
		perToken = DefaultSocketsPerToken
	}
	if perLogin <= 0 {
		perLogin = DefaultSocketsPerLogin
	}
	key := sha256.Sum256([]byte(token))
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byToken == nil {
		s.byToken, s.byLogin = map[[sha256.Size]byte]int{}, map[string]int{}
	}
	switch {
	case s.byToken[key] >= perToken:
		return nil, limitToken
	case login != "" && s.byLogin[login] >= perLogin:
		return nil, limitLogin
	}
	s.byToken[key]++
	if login != "" {
		s.byLogin[login]++
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.byToken[key]--; s.byToken[key] == 0 {
				delete(s.byToken, key)
			}
			if login != "" {
				if s.byLogin[login]--; s.byLogin[login] == 0 {
					delete(s.byLogin, login)
				}
			}
		})
	}, ""
}
