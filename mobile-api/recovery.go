package mobileapi

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/gin-gonic/gin"

	"github.com/paydesk/paydesk"
)

// recovery turns a panicking handler into a logged stack trace and a plain
// 500 INTERNAL envelope (503 UNAVAILABLE on a money-moving route); the
// client never sees the panic value or the stack.
func recovery() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			// net/http's own way to abort a response: let the server handle it.
			if v == http.ErrAbortHandler {
				panic(v)
			}
			requestLogger(c).LogAttrs(c.Request.Context(), slog.LevelError, "panic serving request",
				slog.String("route", routeLabel(c)),
				slog.String("panic", fmt.Sprint(v)),
				slog.String("stack", string(debug.Stack())))
			if c.Writer.Written() {
				// Too late for an envelope; the client gets a cut-off response.
				c.Abort()
				return
			}
			// Logged above with its stack; writeEnvelope answers without
			// logging again. A money-moving request is never a 500 (see
			// ErrRetrySafe).
			if retrySafe(c) {
				writeEnvelope(c, http.StatusServiceUnavailable, ErrRetrySafe)
				return
			}
			writeEnvelope(c, http.StatusInternalServerError, paydesk.ErrInternal)
		}()
		c.Next()
	}
}
