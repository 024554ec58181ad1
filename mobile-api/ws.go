package mobileapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/websocket"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/merchant"
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
//   - Close codes: 1001 the server is going away and 1013 the client fell
//     too far behind: reconnect with last_seq, nothing is lost; 4001 the
//     staff member was disabled: do not reconnect.
const (
	// WSProtocol is the subprotocol the server speaks.
	WSProtocol = "paydesk.v1"
	// wsBearerPrefix marks the subprotocol that carries the access token.
	wsBearerPrefix = "bearer."
	// CloseStaffDisabled closes the sockets of a disabled staff member.
	CloseStaffDisabled = 4001
)

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

// audience is who a principal is to the push hub.
func audience(p rbac.Principal) push.Audience {
	if p.Kind == rbac.KindCustomer {
		return push.Audience{WalletID: p.ID}
	}
	return push.Audience{MerchantID: p.MerchantID, StoreID: p.StoreID, StaffID: p.ID, Role: merchant.Role(p.Role)}
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
	// Subscribe before upgrading: a refusal can still be a JSON error, and
	// nothing that happens during the handshake is missed.
	stream, err := s.cfg.Push.Subscribe(c.Request.Context(), audience(principal(c)), after, resume)
	if err != nil {
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
		return // Error has answered
	}
	// The socket outlives the request: the handler returns (its context
	// ends, gin recycles c, and net/http's goroutine with its deep stack
	// goes), and two goroutines with small stacks carry the socket.
	ctx, cancel := context.WithCancel(context.WithoutCancel(c.Request.Context()))
	go s.serveSocket(ctx, cancel, conn, stream)
}

// serveSocket runs one socket until either side ends it: the writer sends
// the stream and the pings, the reader (this goroutine) sees pongs, closes
// and dead peers.
func (s *Server) serveSocket(ctx context.Context, cancel context.CancelFunc, conn *websocket.Conn, stream *push.Stream) {
	defer cancel()
	defer stream.Close()
	defer conn.Close()
	timing := wsTiming.Load()
	readerDone := make(chan struct{})
	var writer sync.WaitGroup
	writer.Go(func() { s.writeSocket(ctx, conn, stream, timing.ping, readerDone) })

	conn.SetReadLimit(1024)
	conn.SetReadDeadline(time.Now().Add(timing.pong))
	conn.SetPongHandler(func(string) error { return conn.SetReadDeadline(time.Now().Add(timing.pong)) })
	for {
		// Whatever the client sends is read and dropped; reading is what
		// processes pongs and the close handshake.
		if _, _, err := conn.NextReader(); err != nil {
			break
		}
		conn.SetReadDeadline(time.Now().Add(timing.pong))
	}
	close(readerDone)
	writer.Wait()
}

func (s *Server) writeSocket(ctx context.Context, conn *websocket.Conn, stream *push.Stream, every time.Duration, readerDone <-chan struct{}) {
	ping := time.NewTicker(every)
	defer ping.Stop()
	for {
		msgs, err := stream.Next(ctx)
		if err != nil {
			s.closeSocket(conn, err)
			return
		}
		if len(msgs) > 0 {
			conn.SetWriteDeadline(time.Now().Add(wsWriteWait))
		}
		for _, m := range msgs {
			if err := conn.WriteMessage(websocket.TextMessage, m); err != nil {
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
		case <-ping.C:
			if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(wsWriteWait)); err != nil {
				conn.Close()
				return
			}
		}
	}
}

// closeSocket tells the peer why its stream ended, then gives it a moment
// to answer the close before the reader gives up.
func (s *Server) closeSocket(conn *websocket.Conn, why error) {
	code, text := websocket.CloseInternalServerErr, "internal error"
	switch {
	case errors.Is(why, push.ErrSlowConsumer):
		code, text = websocket.CloseTryAgainLater, "too far behind: reconnect with last_seq"
	case errors.Is(why, push.ErrStaffDisabled):
		code, text = CloseStaffDisabled, "staff disabled"
	case errors.Is(why, push.ErrClosed):
		code, text = websocket.CloseGoingAway, "server shutting down: reconnect with last_seq"
	case errors.Is(why, context.Canceled):
		code, text = websocket.CloseGoingAway, "closing"
	default:
		s.log.LogAttrs(context.Background(), slog.LevelError, "websocket stream failed", slog.Any("error", why))
	}
	conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
	conn.SetReadDeadline(time.Now().Add(time.Second))
}
