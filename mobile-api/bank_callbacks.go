package mobileapi

import (
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/paydesk/paydesk/bank"
)

// maxCallbackBytes bounds a bank callback's body; a real one is a few
// hundred bytes.
const maxCallbackBytes = 64 << 10

// bankCallback is POST /v1/bank/callbacks: the bank's signed notice of a
// payout's outcome. It is public (the bank has no token); the HMAC signature
// in the X-Bank-Signature header is the credential, checked over the raw
// body before anything is read from it: a bad one is 401 and nothing
// changes. A good one is applied once: a duplicate, a late one, or one the
// scheduler's query already learnt answers 200 with changed false, so the
// bank stops sending it.
func (s *Server) bankCallback(c *gin.Context) {
	body, err := io.ReadAll(io.LimitReader(c.Request.Body, maxCallbackBytes+1))
	if err != nil || len(body) > maxCallbackBytes {
		writeError(c, bank.ErrBadSignature.WithMessage("the callback body is unreadable or too large"))
		return
	}
	changed, err := s.cfg.Settlement.HandleCallback(c.Request.Context(), body, c.GetHeader(bank.SignatureHeader))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"received": true, "changed": changed})
}
