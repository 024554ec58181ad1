package mobileapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/paydesk/paydesk/settlement"
)

// statement is GET /v1/statements.csv?from=YYYY-MM-DD&to=YYYY-MM-DD: the
// merchant's pending, available and frozen entries for those business days
// (both included, in the merchant's time zone), each account opening and
// closing with its balance; see settlement.StatementHeader. A bad range is
// answered as a JSON error; once the CSV has started, it streams a page of
// entries at a time, so memory stays flat however long the range, and a
// failure mid-way cuts the response short (no closing rows: incomplete).
func (s *Server) statement(c *gin.Context) {
	from, err := settlement.ParseDay(c.Query("from"))
	if err != nil {
		writeError(c, ErrInvalidQuery.WithMessage("from must be a date of the form YYYY-MM-DD"))
		return
	}
	to, err := settlement.ParseDay(c.Query("to"))
	if err != nil {
		writeError(c, ErrInvalidQuery.WithMessage("to must be a date of the form YYYY-MM-DD"))
		return
	}
	ctx := c.Request.Context()
	st, err := s.cfg.Settlement.OpenStatement(ctx, actor(c).MerchantID, from, to)
	if err != nil {
		writeError(c, err)
		return
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="`+st.FileName()+`"`)
	c.Header("Cache-Control", "no-store")
	c.Status(http.StatusOK)
	if err := st.WriteCSV(ctx, c.Writer); err != nil {
		requestLogger(c).Error("statement cut short", "error", err)
		// The status is sent: the only way left to say "incomplete" is to
		// end the stream without its closing rows and break the connection.
		panic(http.ErrAbortHandler)
	}
}
