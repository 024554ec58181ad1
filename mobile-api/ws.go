package mobileapi

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/websocket"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/push"
	"github.com/paydesk/paydesk/rbac"
)

// GET /v1/ws is the app's one websocket (SPEC §6). The protocol:
//
//   - Authenticate with the access token as for any route, in the
//     Authorization header, or, since browsers cannot set headers on a
//     websocket, as the subprotocol "bearer.<token>" next to "paydesk.v1":
//     new WebSocket(url, ["paydesk.v1", "bearer." + token]). The server
//     answers with "paydesk.v1" only; the token is never echoed or logged.
//   - ?last_seq=N resumes: every event after N the caller may see is sent
//     first, in order, then {"type":"ready","seq":M}, then live events.
//     Without last_seq the stream starts from the present (ready comes
//     first). N is the "seq" of the last event received (or of the last
//     ready): the merchant's sequence for staff, the wallet's for customers.
//   - Events are JSON text messages (push.Encode); the server ignores what
//     the client sends. It pings every 25 s and drops a peer that has sent
//     nothing (a pong at least) for 60 s.
//   - A socket lives no longer than the access token it was opened with:
//     when the token expires the server closes it with 4002 (refresh the
//     token, reconnect with last_seq, nothing is lost).
//   - A socket lives no longer than the login it was opened in: logging out
//     (or a refresh token reused, which revokes its login) closes, on every
//     instance, the sockets opened with that login's access tokens with
//     4003. The person's other logins (other devices) keep theirs. Wallet
//     sockets on other instances than the one that served the logout last
//     until their token expires; tokens signed before they named their
//     login are not closed by a logout either. A logged-out access token
//     opens no new socket (401 SESSION_ENDED).
//   - At most Config.Sockets.PerToken sockets (default 8) are open at once
//     with one access token on an instance, and PerLogin (16) with the
//     tokens of one login; one more is refused before the upgrade with 429
//     TOO_MANY_SOCKETS and Retry-After.
//   - Close codes: 1001 the server is going away and 1013 the client fell
//     too far behind: reconnect with last_seq, nothing is lost; 4001 the
//     staff member was disabled: do not reconnect; 4002 the access token
//     expired: refresh it, then reconnect with last_seq; 4003 the login was
//     logged out: do not reconnect with its tokens, log in again.
const (
	// WSProtocol is the subprotocol the server speaks.
	WSProtocol = "paydesk.v1"
	// wsBearerPrefix marks the subprotocol that carries the access token.
	wsBearerPrefix = "bearer."
	// CloseStaffDisabled closes the sockets of a disabled staff member.
	CloseStaffDisabled = 4001
	// CloseTokenExpired closes a socket when the access token it was
	// opened with expires.
	CloseTokenExpired = 4002
	// CloseLoggedOut closes the sockets of a login session that ended.
	CloseLoggedOut = 4003
)

// errTokenExpired ends a socket whose access token has expired.
var errTokenExpired = errors.New("the access token of the socket expired")

// Why sockets end, as the paydesk_websockets_closed_total reason label.
const (
	endSlowConsumer  = "slow_consumer"  // 1013
	endStaffDisabled = "staff_disabled" // 4001
	endTokenExpired  = "token_expired"  // 4002
	endLoggedOut     = "logged_out"     // 4003
	endServerClosing = "server_closing" // 1001
	endPeerClosed    = "peer_closed"    // the client closed it or the connection broke
	endPeerTimeout   = "peer_timeout"   // no pong within the pong wait
	endWriteFailed   = "write_failed"   // the client did not read in time
	endError         = "error"          // the stream failed (the database, mostly)
)

// socketEndReasons lists every reason, so each series exists from the start.
var socketEndReasons = []string{endSlowConsumer, endStaffDisabled, endTokenExpired, endLoggedOut, endServerClosing,
	endPeerClosed, endPeerTimeout, endWriteFailed, endError}

// socketEnd is why a socket ended: the first side to know says.
type socketEnd struct {
	once   sync.Once
	reason string
}

func (e *socketEnd) set(reason string) { e.once.Do(func() { e.reason = reason }) }

// wsTimes is the websocket's heartbeat timing.
type wsTimes struct {
	// ping is how often the server pings a socket.
	ping time.Duration
	// pong is how long the server waits for any frame (a pong at least)
	// before it drops the peer as dead.
	pong time.Duration
}

// wsTiming is the timing new sockets get; tests shorten it.
var wsTiming atomic.Pointer[wsTimes]

func init() { wsTiming.Store(&wsTimes{ping: 25 * time.Second, pong: 60 * time.Second}) }

// wsWriteWait bounds one write; a peer that does not read is dropped.
const wsWriteWait = 10 * time.Second

// ErrWebsocketRequired answers a plain HTTP request to /v1/ws.
var ErrWebsocketRequired = &paydesk.Error{Kind: paydesk.KindInvalid, Code: "WEBSOCKET_REQUIRED",
	Message: "this endpoint speaks the websocket protocol only (Connection: Upgrade, Upgrade: websocket)"}

// wsBuffers lends write buffers to sockets only while they write, so an
// idle socket holds none: with thousands of sockets that is most of their
// memory.
var wsBuffers = &sync.Pool{}

// wsUpgrader has small read buffers: clients send nothing but pongs and
// closes, which ReadLimit bounds anyway.
var wsUpgrader = websocket.Upgrader{
	HandshakeTimeout: 10 * time.Second,
	ReadBufferSize:   512,
	WriteBufferSize:  4096,
	WriteBufferPool:  wsBuffers,
	Subprotocols:     []string{WSProtocol},
	// Authentication is by token, never by cookie, so a page of another
	// origin gains nothing from opening a socket: any origin may.
	CheckOrigin: func(*http.Request) bool { return true },
}

// wsToken lets the access token arrive as the "bearer.<token>" subprotocol:
// it moves it to the Authorization header, which authenticate reads.
func (s *Server) wsToken(c *gin.Context) {
	if c.GetHeader("Authorization") == "" {
		for _, p := range websocket.Subprotocols(c.Request) {
			if tok, ok := strings.CutPrefix(p, wsBearerPrefix); ok && tok != "" {
				c.Request.Header.Set("Authorization", "Bearer "+tok)
				break
			}
		}
	}
	c.Next()
}

// Audience is who a principal, in login session session, is to the push
// hub.
func Audience(p rbac.Principal, session string) push.Audience {
	if p.Kind == rbac.KindCustomer {
		return push.Audience{WalletID: p.ID, Session: session}
	}
	return push.Audience{MerchantID: p.MerchantID, StoreID: p.StoreID, StaffID: p.ID, Role: p.Role, Session: session}
}

// SessionEnded returns the rbac.TokenOptions.SessionEnded that closes the
// sockets of a login that ended, through the hub that hub returns when it
// is called (the hub starts after the tokens are made); nil does nothing.
func SessionEnded(hub func() *push.Hub) func(ctx context.Context, s rbac.Session) error {
	return func(ctx context.Context, s rbac.Session) error {
		h := hub()
		if h == nil {
			return nil
		}
		return h.SessionEnded(ctx, Audience(s.Principal, s.ID))
	}
}

func (s *Server) websocket(c *gin.Context) {
	if !websocket.IsWebSocketUpgrade(c.Request) {
		writeError(c, ErrWebsocketRequired)
		return
	}
	if s.cfg.Push == nil {
		writeError(c, paydesk.ErrUnavailable.WithMessage("push is not configured on this server"))
		return
	}
	var after int64
	q, resume := c.GetQuery("last_seq")
	if resume {
		n, err := strconv.ParseInt(q, 10, 64)
		if err != nil || n < 0 {
			writeError(c, paydesk.ErrInvalid.WithMessage("last_seq must be a whole number, the seq of the last event received"))
			return
		}
		after = n
	}
	// authenticate has verified the token; the socket must end when it
	// expires, or when its login session does.
	grant, err := s.cfg.Tokens.Grant(bearerToken(c))
	expires := grant.ExpiresAt
	if err == nil && !s.now().Before(expires) {
		// Within the verifier's leeway for clock skew: a socket would
		// be closed at once.
		err = rbac.ErrTokenExpired
	}
	if err != nil {
		writeError(c, err)
		return
	}
	// Counted from before the upgrade to the socket's end, so a refusal is
	// a JSON 429; every way out below releases it.
	release, refused := s.sockets.acquire(s.cfg.Sockets, bearerToken(c), grant.Session)
	if refused != "" {
		s.metrics.socketsRefused.WithLabelValues(refused).Inc()
		e := *ErrTooManySockets
		e.RetryAfter = max(1, int(wsTiming.Load().pong.Seconds()))
		writeError(c, &e)
		return
	}
	// Subscribe before upgrading: a refusal can still be a JSON error, and
	// nothing that happens during the handshake is missed.
	stream, err := s.cfg.Push.Subscribe(c.Request.Context(), Audience(principal(c), grant.Session), after, resume)
	if err != nil {
		release()
		writeError(c, err)
		return
	}
	// A logged-out access token still verifies until it expires; it opens
	// no socket. Checked after subscribing: a logout that commits later
	// reaches the stream through the hub.
	if err := s.cfg.Tokens.CheckSession(c.Request.Context(), grant.Session); err != nil {
		stream.Close()
		release()
		writeError(c, err)
		return
	}
	up := wsUpgrader
	up.Error = func(w http.ResponseWriter, r *http.Request, status int, reason error) {
		writeError(c, withStatus(status, ErrWebsocketRequired.WithMessage("websocket handshake: %v", reason)))
	}
	// The access log and metrics show the switch, not gin's default 200.
	c.Status(http.StatusSwitchingProtocols)
	conn, err := up.Upgrade(c.Writer, c.Request, nil)
	if err != nil {
		stream.Close()
		release()
		return // Error has answered
	}
	// The socket outlives the request: the handler returns (its context
	// ends, gin recycles c, and net/http's goroutine with its deep stack
	// goes), and two goroutines with small stacks carry the socket.
	ctx, cancel := context.WithCancel(context.WithoutCancel(c.Request.Context()))
	go s.serveSocket(ctx, cancel, conn, stream, expires, release)
}

// serveSocket runs one socket until either side ends it, or its access
// token expires: the writer sends the stream and the pings and watches the
// expiry, the reader (this goroutine) sees pongs, closes and dead peers.
// release gives the socket's place under the limits back (before the
// gauge of open sockets drops, so a client that sees it drop finds the
// place free).
func (s *Server) serveSocket(ctx context.Context, cancel context.CancelFunc, conn *websocket.Conn, stream *push.Stream, expires time.Time, release func()) {
	defer cancel()
	defer stream.Close()
	defer conn.Close()
	s.metrics.sockets.Inc()
	var end socketEnd
	defer func() {
		release()
		s.metrics.sockets.Dec()
		s.metrics.socketsClosed.WithLabelValues(end.reason).Inc()
	}()
	timing := wsTiming.Load()
	readerDone := make(chan struct{})
	var writer sync.WaitGroup
	writer.Go(func() { s.writeSocket(ctx, conn, stream, timing.ping, expires, readerDone, &end) })

	conn.SetReadLimit(1024)
	conn.SetReadDeadline(time.Now().Add(timing.pong))
	conn.SetPongHandler(func(string) error { return conn.SetReadDeadline(time.Now().Add(timing.pong)) })
	for {
		// Whatever the client sends is read and dropped; reading is what
		// processes pongs and the close handshake.
		if _, _, err := conn.NextReader(); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				end.set(endPeerTimeout)
			} else {
				end.set(endPeerClosed)
			}
			break
		}
		conn.SetReadDeadline(time.Now().Add(timing.pong))
	}
	close(readerDone)
	writer.Wait()
}

func (s *Server) writeSocket(ctx context.Context, conn *websocket.Conn, stream *push.Stream, every time.Duration, expires time.Time,
	readerDone <-chan struct{}, end *socketEnd) {
	ping := time.NewTicker(every)
	defer ping.Stop()
	// The timer runs on the monotonic clock, the expiry is on the server's
	// clock: the loop checks the latter each time round, and the timer only
	// makes sure it goes round soon after the expiry.
	expiry := time.NewTimer(expires.Sub(s.now()))
	defer expiry.Stop()
	for {
		if !s.now().Before(expires) {
			end.set(s.closeSocket(conn, errTokenExpired))
			return
		}
		msgs, err := stream.Next(ctx)
		if err != nil {
			end.set(s.closeSocket(conn, err))
			return
		}
		if len(msgs) > 0 {
			conn.SetWriteDeadline(time.Now().Add(wsWriteWait))
		}
		for _, m := range msgs {
			if err := conn.WriteMessage(websocket.TextMessage, m); err != nil {
				end.set(endWriteFailed)
				conn.Close() // the reader sees it and ends
				return
			}
		}
		if len(msgs) > 0 {
			continue
		}
		select {
		case <-readerDone:
			return
		case <-stream.Wait():
		case <-expiry.C:
			expiry.Reset(expires.Sub(s.now()))
		case <-ping.C:
			if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(wsWriteWait)); err != nil {
				end.set(endWriteFailed)
				conn.Close()
				return
			}
		}
	}
}

// closeSocket tells the peer why its socket ends, then gives it a moment
// to answer the close before the reader gives up. It returns the reason
// for the metrics.
func (s *Server) closeSocket(conn *websocket.Conn, why error) string {
	code, text, reason := websocket.CloseInternalServerErr, "internal error", endError
	switch {
	case errors.Is(why, push.ErrSlowConsumer):
		code, text, reason = websocket.CloseTryAgainLater, "too far behind: reconnect with last_seq", endSlowConsumer
	case errors.Is(why, push.ErrStaffDisabled):
		code, text, reason = CloseStaffDisabled, "staff disabled", endStaffDisabled
	case errors.Is(why, push.ErrSessionEnded):
		code, text, reason = CloseLoggedOut, "logged out: log in again", endLoggedOut
	case errors.Is(why, errTokenExpired):
		code, text, reason = CloseTokenExpired, "access token expired: refresh it and reconnect with last_seq", endTokenExpired
	case errors.Is(why, push.ErrClosed):
		code, text, reason = websocket.CloseGoingAway, "server shutting down: reconnect with last_seq", endServerClosing
	case errors.Is(why, context.Canceled):
		code, text, reason = websocket.CloseGoingAway, "closing", endServerClosing
	default:
		s.log.LogAttrs(context.Background(), slog.LevelError, "websocket stream failed", slog.Any("error", why))
	}
	conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
	conn.SetReadDeadline(time.Now().Add(time.Second))
	return reason
}
