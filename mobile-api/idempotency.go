package mobileapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/storage"
)

// The headers of SPEC §7's idempotency: the client's key, and the mark on
// a response that is a replay of the first one.
const (
	IdempotencyKeyHeader      = "Idempotency-Key"
	IdempotentReplayedHeader  = "Idempotent-Replayed"
	maxIdempotencyKeyLen      = 128
	defaultIdempotencyWaitFor = 5 * time.Second
)

// ErrInvalidIdempotencyKey is a malformed Idempotency-Key header.
var ErrInvalidIdempotencyKey = paydesk.Errorf(paydesk.KindInvalid, "INVALID_IDEMPOTENCY_KEY",
	"Idempotency-Key must be 1 to %d visible ASCII characters, sent once", maxIdempotencyKeyLen)

// parseIdempotencyKey reads the Idempotency-Key header values of a request:
// none means the request has no key; otherwise exactly one value of 1 to
// 128 visible ASCII characters (0x21-0x7E), so that a key is stored and
// logged as sent, with no encoding questions.
func parseIdempotencyKey(values []string) (key string, ok bool, err error) {
	switch len(values) {
	case 0:
		return "", false, nil
	case 1:
	default:
		return "", false, ErrInvalidIdempotencyKey
	}
	key = values[0]
	if key == "" || len(key) > maxIdempotencyKeyLen {
		return "", false, ErrInvalidIdempotencyKey
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return "", false, ErrInvalidIdempotencyKey
		}
	}
	return key, true, nil
}

// requestDigest fingerprints what a request asks for: its method, path and
// query, and its body. A JSON body is taken in canonical form (keys sorted,
// no insignificant white space, numbers as written), so a client that
// re-encodes the same request on a retry is not told it sent another one.
func requestDigest(method, path, query string, body []byte) string {
	h := sha256.New()
	for _, part := range []string{method, path, query} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	h.Write(canonicalJSON(body))
	return hex.EncodeToString(h.Sum(nil))
}

// canonicalJSON returns body re-encoded canonically, or body itself when it
// is not one JSON value.
func canonicalJSON(body []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return body
	}
	if _, err := dec.Token(); err != io.EOF {
		return body
	}
	out, err := json.Marshal(v)
	if err != nil {
		return body
	}
	return out
}

// keepResponse says which answers are stored for replay: all but the
// server's faults (5xx: the key may be retried) and the answers that only
// say "not now" (409 for a payment or key in progress, 429), whose retry
// rightly gets another answer.
func keepResponse(status int) bool {
	return status < 500 && status != http.StatusConflict && status != http.StatusTooManyRequests
}

// runningKeys lets a duplicate that reaches this instance while the first
// request with its key still runs wait for that one and replay its answer,
// instead of being told to come back. A duplicate on another instance gets
// 409 IDEMPOTENCY_IN_PROGRESS from the database.
type runningKeys struct {
	mu      sync.Mutex
	running map[string]chan struct{}
}

// enter waits, for at most wait, until no request with key runs here, and
// marks key as running. The returned func ends the mark; it is a no-op if
// the wait ran out, in which case the database has the last word.
func (r *runningKeys) enter(ctx context.Context, key string, wait time.Duration) func() {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		r.mu.Lock()
		if r.running == nil {
			r.running = map[string]chan struct{}{}
		}
		ch, busy := r.running[key]
		if !busy {
			ch = make(chan struct{})
			r.running[key] = ch
			r.mu.Unlock()
			return func() {
				r.mu.Lock()
				delete(r.running, key)
				r.mu.Unlock()
				close(ch)
			}
		}
		r.mu.Unlock()
		select {
		case <-ch:
		case <-timer.C:
			return func() {}
		case <-ctx.Done():
			return func() {}
		}
	}
}

// recordingWriter keeps a copy of the response body for the idempotency store.
type recordingWriter struct {
	gin.ResponseWriter
	body bytes.Buffer
}

func (w *recordingWriter) Write(b []byte) (int, error) {
	if w.body.Len() <= storage.MaxIdempotentBody {
		w.body.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

func (w *recordingWriter) WriteString(s string) (int, error) {
	if w.body.Len() <= storage.MaxIdempotentBody {
		w.body.WriteString(s)
	}
	return w.ResponseWriter.WriteString(s)
}

// idempotent is the middleware of every money-moving POST (SPEC §7, issue
// 4). A request without an Idempotency-Key passes through. With one, keyed
// per caller (principal kind and id, so two callers' keys never meet):
//
//   - the first request runs and its answer is stored;
//   - the same request again gets that answer byte for byte, with
//     Idempotent-Replayed: true, and runs nothing;
//   - another request under the key is 422 IDEMPOTENCY_CONFLICT;
//   - a duplicate arriving while the first runs waits for it here (and
//     replays its answer), or, on another instance or after a while, is
//     409 IDEMPOTENCY_IN_PROGRESS;
//   - an answer of 5xx, 409 or 429 is not stored: the key can be retried.
//
// It marks the request as money-moving, so that a fault of the server's
// answers 503 with retry advice, never 500 (ErrRetrySafe), key or not.
// It runs after authenticate, which names the caller.
func (s *Server) idempotent(c *gin.Context) {
	c.Set(ctxRetrySafe, true)
	key, ok, err := parseIdempotencyKey(c.Request.Header.Values(IdempotencyKeyHeader))
	if err != nil {
		writeError(c, err)
		return
	}
	if !ok {
		c.Next()
		return
	}
	if s.cfg.Idempotency == nil {
		writeError(c, paydesk.ErrUnavailable.WithMessage("Idempotency-Key is not supported by this server"))
		return
	}
	body, err := peekBody(c.Request)
	if err != nil {
		writeError(c, err)
		return
	}
	// The request's context carries no transaction and ends with the
	// request; storing the answer must outlive a client that hangs up.
	ctx := c.Request.Context()
	p := principal(c)
	scope := string(p.Kind) + ":" + strconv.FormatInt(p.ID, 10)
	digest := requestDigest(c.Request.Method, c.Request.URL.Path, c.Request.URL.RawQuery, body)

	leave := s.running.enter(ctx, scope+"\x00"+key, s.idempotencyWait())
	defer leave()
	stored, err := s.cfg.Idempotency.Begin(ctx, scope, key, digest)
	if err != nil {
		writeError(c, err)
		return
	}
	if stored != nil {
		replay(c, stored)
		return
	}

	rec := &recordingWriter{ResponseWriter: c.Writer}
	c.Writer = rec
	completed := false
	defer func() {
		if completed {
			return
		}
		// Also when the handler panicked: the claim must not outlive it.
		if err := s.cfg.Idempotency.Release(context.WithoutCancel(ctx), scope, key); err != nil {
			requestLogger(c).LogAttrs(ctx, slog.LevelError, "release idempotency key", slog.Any("error", err))
		}
	}()
	c.Next()
	status := rec.Status()
	if !keepResponse(status) || rec.body.Len() > storage.MaxIdempotentBody {
		return
	}
	if err := s.cfg.Idempotency.Complete(context.WithoutCancel(ctx), scope, key, status, rec.body.Bytes()); err != nil {
		// The client has its answer; a retry under the key runs again, and
		// the business numbers (out_trade_no, request_no) keep it single.
		requestLogger(c).LogAttrs(ctx, slog.LevelError, "store idempotent response", slog.Any("error", err))
		return
	}
	completed = true
}

func (s *Server) idempotencyWait() time.Duration {
	if s.cfg.IdempotencyWait > 0 {
		return s.cfg.IdempotencyWait
	}
	return defaultIdempotencyWaitFor
}

// replay answers a stored response as it was first sent.
func replay(c *gin.Context, r *storage.StoredResponse) {
	c.Header(IdempotentReplayedHeader, "true")
	if len(r.Body) == 0 {
		c.Status(r.Status)
		c.Writer.WriteHeaderNow()
		c.Abort()
		return
	}
	c.Data(r.Status, "application/json; charset=utf-8", r.Body)
	c.Abort()
}

// peekBody reads the request body (at most one byte over what decodeJSON
// accepts, which then answers 413) and puts it back for the handler.
func peekBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, ErrMalformedJSON.WithMessage("reading request body: %v", err)
	}
	r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
	return body, nil
}
