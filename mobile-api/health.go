package mobileapi

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paydesk/paydesk"
)

// readyTimeout bounds the database check of /readyz, so a hung database
// makes the instance unready instead of hanging the probe.
const readyTimeout = 2 * time.Second

// healthz says the process is up and serving HTTP. It checks nothing else,
// so an orchestrator does not restart an instance for a database outage.
func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz says whether this instance can do useful work now: its database
// answers. A load balancer takes it out of rotation while it cannot.
func (s *Server) readyz(c *gin.Context) {
	if err := s.ping(c.Request.Context()); err != nil {
		// A 503 is expected here, not a bug: log it for the operator, but
		// as a warning rather than through writeError's 500 path.
		requestLogger(c).Warn("not ready", "error", err)
		writeError(c, paydesk.ErrUnavailable.WithMessage("database is not reachable"))
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

func (s *Server) ping(ctx context.Context) error {
	if s.cfg.DB == nil {
		return fmt.Errorf("no database configured")
	}
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	return s.cfg.DB.Ping(ctx)
}
