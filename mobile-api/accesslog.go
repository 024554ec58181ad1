package mobileapi

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// accessLog writes one structured line per request. It logs the route
// template, never the raw URL: paths and query strings may carry tokens,
// payment codes or passwords, and headers (Authorization, Cookie) and bodies
// are never logged at all.
func accessLog() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()

		status := c.Writer.Status()
		attrs := []slog.Attr{
			slog.String("method", c.Request.Method),
			slog.String("route", routeLabel(c)),
			slog.Int("status", status),
			slog.Duration("duration", time.Since(start)),
			slog.String("client_ip", c.ClientIP()),
			slog.Int("bytes", max(c.Writer.Size(), 0)),
		}
		if code := c.GetString(ctxErrorCode); code != "" {
			attrs = append(attrs, slog.String("error_code", code))
		}
		level := slog.LevelInfo
		if status >= http.StatusInternalServerError {
			level = slog.LevelError
		}
		// The request logger already carries request_id.
		requestLogger(c).LogAttrs(c.Request.Context(), level, "http request", attrs...)
	}
}

// routeLabel names the route template that served c ("/v1/orders/:id"), or
// "unmatched" when no route did, so neither logs nor metric labels grow with
// whatever paths scanners try.
func routeLabel(c *gin.Context) string {
	if r := c.FullPath(); r != "" {
		return r
	}
	return "unmatched"
}
