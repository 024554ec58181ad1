package mobileapi

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paydesk/paydesk/rbac"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

func TestParseIdempotencyKey(t *testing.T) {
	tests := []struct {
		values []string
		key    string
		ok     bool
		err    bool
	}{
		{nil, "", false, false},
		{[]string{"a"}, "a", true, false},
		{[]string{"9f1c2b7e-58d6-4f0e-9a3b-3c2d1e0f9a8b"}, "9f1c2b7e-58d6-4f0e-9a3b-3c2d1e0f9a8b", true, false},
		{[]string{strings.Repeat("k", 128)}, strings.Repeat("k", 128), true, false},
		{[]string{"!~"}, "!~", true, false},
		{[]string{""}, "", false, true},
		{[]string{strings.Repeat("k", 129)}, "", false, true},
		{[]string{"two words"}, "", false, true},
		{[]string{"tab\there"}, "", false, true},
		{[]string{"ключ"}, "", false, true},
		{[]string{"a", "b"}, "", false, true},
	}
	for _, tt := range tests {
		key, ok, err := parseIdempotencyKey(tt.values)
		if key != tt.key || ok != tt.ok || (err != nil) != tt.err {
			t.Errorf("parseIdempotencyKey(%q) = %q, %v, %v", tt.values, key, ok, err)
		}
	}
}

func FuzzParseIdempotencyKey(f *testing.F) {
	for _, s := range []string{"", "a", "9f1c2b7e-58d6-4f0e-9a3b-3c2d1e0f9a8b", "two words", "\x00", strings.Repeat("k", 129)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		key, ok, err := parseIdempotencyKey([]string{s})
		if err != nil {
			if err != ErrInvalidIdempotencyKey || ok || key != "" {
				t.Fatalf("refusal of %q: %q, %v, %v", s, key, ok, err)
			}
			return
		}
		if !ok || key != s || len(key) == 0 || len(key) > maxIdempotencyKeyLen {
			t.Fatalf("parseIdempotencyKey(%q) = %q, %v", s, key, ok)
		}
		for i := 0; i < len(key); i++ {
			if key[i] <= ' ' || key[i] > '~' {
				t.Fatalf("accepted %q with byte %#x", s, key[i])
			}
		}
	})
}

// Requests that differ only in how their JSON is written are one request;
// any change of meaning, path or method is another.
func TestRequestDigest(t *testing.T) {
	a := requestDigest("POST", "/v1/payments/qr", "", []byte(`{"out_trade_no":"a","amount":100}`))
	same := []string{`{ "amount": 100, "out_trade_no": "a" }`, "{\"out_trade_no\":\"a\",\n\"amount\":100}\n"}
	for _, b := range same {
		if got := requestDigest("POST", "/v1/payments/qr", "", []byte(b)); got != a {
			t.Errorf("%s digests differently", b)
		}
	}
	other := []string{`{"out_trade_no":"a","amount":101}`, `{"out_trade_no":"a","amount":100.0}`, `{"out_trade_no":"b","amount":100}`, `{"out_trade_no":"a"}`, `not json`, ``}
	for _, b := range other {
		if got := requestDigest("POST", "/v1/payments/qr", "", []byte(b)); got == a {
			t.Errorf("%s digests like the original", b)
		}
	}
	if requestDigest("POST", "/v1/payment-links", "", []byte(`{"out_trade_no":"a","amount":100}`)) == a ||
		requestDigest("PUT", "/v1/payments/qr", "", []byte(`{"out_trade_no":"a","amount":100}`)) == a ||
		requestDigest("POST", "/v1/payments/qr", "x=1", []byte(`{"out_trade_no":"a","amount":100}`)) == a {
		t.Error("method, path or query do not count")
	}
}

func FuzzCanonicalJSON(f *testing.F) {
	for _, s := range []string{`{"b":1,"a":[1,2.50,"x"]}`, `null`, `{"a":1e400}`, `{"a":"\u00e9"}`, `{`, ``, `1 2`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c := canonicalJSON(b)
		// Canonical is a fixed point: a retry that re-encodes its body
		// canonically is still the same request.
		if again := canonicalJSON(c); !bytes.Equal(again, c) {
			t.Fatalf("canonicalJSON not idempotent: %q -> %q -> %q", b, c, again)
		}
	})
}

// newIdempotencyServer serves test routes behind the idempotent middleware
// on db, with the caller named by the X-Caller header.
func newIdempotencyServer(t *testing.T, db *storage.DB, handler gin.HandlerFunc) *httptest.Server {
	t.Helper()
	s, _ := newTestServer(t, Config{Idempotency: storage.NewIdempotencyKeys(db, time.Now), IdempotencyWait: 50 * time.Millisecond})
	caller := func(c *gin.Context) {
		var id int64
		fmt.Sscan(c.GetHeader("X-Caller"), &id)
		c.Set(ctxPrincipal, rbac.Principal{Kind: rbac.KindStaff, ID: id})
	}
	s.engine.POST("/test/:status", caller, s.idempotent, handler)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv
}

// post sends body as caller with key, and returns the answer with its
// body read. Safe in any goroutine: it reports failures with t.Error.
func post(t *testing.T, url, caller, key, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("X-Caller", caller)
	if key != "" {
		req.Header.Set(IdempotencyKeyHeader, key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return &http.Response{Header: http.Header{}}, ""
	}
	defer res.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(res.Body)
	return res, b.String()
}

// TestIdempotentMiddleware runs the middleware's rules on both databases
// with a handler that counts its runs and answers the status in its path.
func TestIdempotentMiddleware(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		var runs atomic.Int64
		srv := newIdempotencyServer(t, db, func(c *gin.Context) {
			n := runs.Add(1)
			switch c.Param("status") {
			case "panic":
				panic("boom")
			case "204":
				c.Status(http.StatusNoContent)
			default:
				var status int
				fmt.Sscan(c.Param("status"), &status)
				c.JSON(status, gin.H{"run": n, "text": "<&>"})
			}
		})
		call := func(path, caller, key, body string) (int, string, string) {
			res, b := post(t, srv.URL+path, caller, key, body)
			return res.StatusCode, b, res.Header.Get(IdempotentReplayedHeader)
		}

		// No key: every call runs.
		call("/test/200", "1", "", `{}`)
		call("/test/200", "1", "", `{}`)
		if runs.Load() != 2 {
			t.Fatalf("%d runs without a key, want 2", runs.Load())
		}

		// A stored answer is replayed byte for byte, for the same caller only.
		st, first, rep := call("/test/201", "1", "k1", `{"a":1}`)
		if st != 201 || rep != "" {
			t.Fatalf("first: %d %q replayed=%q", st, first, rep)
		}
		st, again, rep := call("/test/201", "1", "k1", `{ "a" : 1 }`)
		if st != 201 || again != first || rep != "true" || runs.Load() != 3 {
			t.Fatalf("retry: %d %q replayed=%q runs=%d; want %q replayed", st, again, rep, runs.Load(), first)
		}
		if st, _, rep := call("/test/201", "2", "k1", `{"a":1}`); st != 201 || rep != "" || runs.Load() != 4 {
			t.Fatalf("another caller's key k1: %d replayed=%q runs=%d, want a run of its own", st, rep, runs.Load())
		}
		// Another request under the key is a conflict, and runs nothing.
		for _, other := range [][2]string{{"/test/201", `{"a":2}`}, {"/test/200", `{"a":1}`}} {
			st, body, _ := call(other[0], "1", "k1", other[1])
			if st != http.StatusUnprocessableEntity || !strings.Contains(body, "IDEMPOTENCY_CONFLICT") || runs.Load() != 4 {
				t.Fatalf("%s %s under k1: %d %s", other[0], other[1], st, body)
			}
		}
		// 4xx answers are kept; 5xx, 409, 429 and panics are not.
		call("/test/422", "1", "k422", `{}`)
		if st, _, rep := call("/test/422", "1", "k422", `{}`); st != 422 || rep != "true" {
			t.Fatalf("a 422 was not replayed: %d %q", st, rep)
		}
		for _, status := range []string{"500", "503", "409", "429", "panic"} {
			before := runs.Load()
			call("/test/"+status, "1", "k"+status, `{}`)
			call("/test/"+status, "1", "k"+status, `{}`)
			if runs.Load() != before+2 {
				t.Fatalf("answer %s was kept: %d runs, want 2", status, runs.Load()-before)
			}
		}
		// An empty answer replays empty.
		call("/test/204", "1", "k204", ``)
		if st, body, rep := call("/test/204", "1", "k204", ``); st != 204 || body != "" || rep != "true" {
			t.Fatalf("204 replay: %d %q %q", st, body, rep)
		}
		// A bad key is refused before anything runs.
		before := runs.Load()
		if st, body, _ := call("/test/200", "1", strings.Repeat("x", 129), `{}`); st != 400 || !strings.Contains(body, "INVALID_IDEMPOTENCY_KEY") || runs.Load() != before {
			t.Fatalf("a 129-byte key: %d %s", st, body)
		}
	})
}

// A duplicate arriving while the first request runs waits for it and gets
// its answer; if the first takes longer than the wait, the duplicate is
// told it is in progress. Either way the handler runs once.
func TestIdempotentMiddlewareConcurrentDuplicates(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		var runs atomic.Int64
		started, release := make(chan struct{}), make(chan struct{})
		srv := newIdempotencyServer(t, db, func(c *gin.Context) {
			runs.Add(1)
			if c.Param("status") == "slow" {
				started <- struct{}{}
				<-release
			}
			c.JSON(200, gin.H{"ok": true})
		})
		var wg sync.WaitGroup
		answers := make([]string, 8)
		for i := range answers {
			wg.Go(func() {
				res, body := post(t, srv.URL+"/test/fast", "1", "dup", `{}`)
				answers[i] = fmt.Sprint(res.StatusCode, " ", body)
			})
		}
		wg.Wait()
		for _, a := range answers {
			if a != answers[0] || !strings.HasPrefix(a, "200 ") {
				t.Fatalf("answers %q, want eight times the same 200", answers)
			}
		}
		if runs.Load() != 1 {
			t.Fatalf("the handler ran %d times for one key", runs.Load())
		}

		// The first is slow: the duplicate waits 50 ms, then is told to retry.
		done := make(chan string)
		go func() {
			res, _ := post(t, srv.URL+"/test/slow", "1", "slow", `{}`)
			done <- fmt.Sprint(res.StatusCode)
		}()
		<-started // the first holds the key
		res, body := post(t, srv.URL+"/test/slow", "1", "slow", `{}`)
		if res.StatusCode != http.StatusConflict || !strings.Contains(body, "IDEMPOTENCY_IN_PROGRESS") || res.Header.Get("Retry-After") == "" {
			t.Fatalf("duplicate of a slow request: %d %s", res.StatusCode, body)
		}
		close(release)
		if st := <-done; st != "200" {
			t.Fatalf("the slow request answered %s", st)
		}
		if res, _ := post(t, srv.URL+"/test/slow", "1", "slow", `{}`); res.StatusCode != 200 || res.Header.Get(IdempotentReplayedHeader) != "true" {
			t.Fatalf("after the slow one finished: %d", res.StatusCode)
		}
		if runs.Load() != 2 {
			t.Fatalf("runs %d, want 2", runs.Load())
		}
	})
}
