package mobileapi

import (
	"crypto/rand"
	"log/slog"

	"github.com/gin-gonic/gin"
)

// RequestIDHeader carries the request id in both directions, so a support
// ticket quoting it finds the log lines of that request.
const RequestIDHeader = "X-Request-Id"

const (
	ctxRequestID = "paydesk.request_id"
	ctxLogger    = "paydesk.logger"
)

// maxRequestIDLen bounds an incoming id; longer ones are replaced.
const maxRequestIDLen = 64

// requestID takes a well-formed incoming X-Request-Id (from a proxy or the
// app) or makes a new one, echoes it, and gives the request a logger that
// carries it.
func requestID(base *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader(RequestIDHeader)
		if !validRequestID(id) {
			// 26 characters of base32 from 128 random bits: unique without coordination.
			id = rand.Text()
		}
		c.Set(ctxRequestID, id)
		c.Set(ctxLogger, base.With(slog.String("request_id", id)))
		c.Header(RequestIDHeader, id)
		c.Next()
	}
}

// validRequestID accepts only ids that are safe to echo and log verbatim.
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		b := id[i]
		if !('a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '-' || b == '_') {
			return false
		}
	}
	return true
}

// RequestID returns the id of the request c is serving.
func RequestID(c *gin.Context) string { return c.GetString(ctxRequestID) }

// requestLogger returns the logger of the request, which carries its id.
func requestLogger(c *gin.Context) *slog.Logger {
	if v, ok := c.Get(ctxLogger); ok {
		return v.(*slog.Logger)
	}
	return slog.New(slog.DiscardHandler)
}
