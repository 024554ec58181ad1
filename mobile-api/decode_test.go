package mobileapi

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/paydesk/paydesk"
)

// sampleRequest has a field of each JSON type a request uses.
type sampleRequest struct {
	OutTradeNo string         `json:"out_trade_no"`
	Amount     paydesk.Amount `json:"amount"`
	Confirm    bool           `json:"confirm"`
	Rate       float64        `json:"rate"`
	Tags       []string       `json:"tags"`
	Store      *struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	} `json:"store"`
}

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		status      int    // 0: success
		code        string // expected error code
		inMessage   string // expected in the error message
	}{
		{"ok", "application/json", `{"out_trade_no":"A1","amount":1250,"confirm":true,"tags":["x"],"store":{"id":3}}`, 0, "", ""},
		{"ok without content type", "", `{"amount":1}`, 0, "", ""},
		{"ok with charset", "application/json; charset=UTF-8", `{"amount":1}`, 0, "", ""},
		{"ok vendor json", "application/vnd.paydesk+json", `{"amount":1}`, 0, "", ""},
		{"ok surrounding space", "", " \n{\"amount\":1}\n\t ", 0, "", ""},
		{"form", "application/x-www-form-urlencoded", `amount=1`, 415, "UNSUPPORTED_MEDIA_TYPE", "application/x-www-form-urlencoded"},
		{"text", "text/plain", `{"amount":1}`, 415, "UNSUPPORTED_MEDIA_TYPE", ""},
		{"bad charset", "application/json; charset=latin1", `{"amount":1}`, 415, "UNSUPPORTED_MEDIA_TYPE", "latin1"},
		{"garbled content type", "application/json; ===", `{"amount":1}`, 415, "UNSUPPORTED_MEDIA_TYPE", ""},
		{"empty", "application/json", ``, 400, "MALFORMED_JSON", "empty"},
		{"only space", "application/json", "   ", 400, "MALFORMED_JSON", "empty"},
		{"null", "application/json", `null`, 400, "MALFORMED_JSON", "object"},
		{"array", "application/json", `[1,2]`, 400, "MALFORMED_JSON", "object"},
		{"string", "application/json", `"x"`, 400, "MALFORMED_JSON", "object"},
		{"truncated", "application/json", `{"amount":`, 400, "MALFORMED_JSON", ""},
		{"syntax", "application/json", `{"amount":1,}`, 400, "MALFORMED_JSON", "offset"},
		{"single quotes", "application/json", `{'amount':1}`, 400, "MALFORMED_JSON", ""},
		{"trailing object", "application/json", `{"amount":1}{"amount":2}`, 400, "MALFORMED_JSON", "after"},
		{"trailing garbage", "application/json", `{"amount":1} x`, 400, "MALFORMED_JSON", "after"},
		{"trailing brace", "application/json", `{"amount":1}}`, 400, "MALFORMED_JSON", "after"},
		{"unknown field", "application/json", `{"amount":1,"amout":2}`, 400, "UNKNOWN_FIELD", `"amout"`},
		{"unknown nested field", "application/json", `{"store":{"id":1,"owner":2}}`, 400, "UNKNOWN_FIELD", `"owner"`},
		{"string for integer", "application/json", `{"amount":"12.50"}`, 400, "INVALID_FIELD_TYPE", `"amount" must be an integer`},
		{"fraction for integer", "application/json", `{"amount":12.5}`, 400, "INVALID_FIELD_TYPE", `"amount" must be an integer`},
		{"overflow", "application/json", `{"amount":99999999999999999999}`, 400, "INVALID_FIELD_TYPE", `"amount"`},
		{"number for string", "application/json", `{"out_trade_no":12}`, 400, "INVALID_FIELD_TYPE", `"out_trade_no" must be a string`},
		{"string for bool", "application/json", `{"confirm":"yes"}`, 400, "INVALID_FIELD_TYPE", `"confirm" must be a boolean`},
		{"object for array", "application/json", `{"tags":{}}`, 400, "INVALID_FIELD_TYPE", `"tags" must be an array`},
		{"nested type", "application/json", `{"store":{"id":"x"}}`, 400, "INVALID_FIELD_TYPE", `"store.id" must be an integer`},
		{"too large", "application/json", `{"out_trade_no":"` + strings.Repeat("a", maxBodyBytes) + `"}`, 413, "BODY_TOO_LARGE", ""},
		{"too large whitespace", "application/json", `{"amount":1}` + strings.Repeat(" ", maxBodyBytes), 413, "BODY_TOO_LARGE", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, logs := newTestServer(t, Config{})
			var got sampleRequest
			s.V1().POST("/sample", func(c *gin.Context) {
				if !bindJSON(c, &got) {
					return
				}
				c.JSON(http.StatusOK, got)
			})
			h := http.Header{}
			if tt.contentType != "" {
				h.Set("Content-Type", tt.contentType)
			}
			rec := serve(s.Handler(), "POST", "/v1/sample", strings.NewReader(tt.body), h)
			if tt.status == 0 {
				if rec.Code != http.StatusOK {
					t.Fatalf("status %d, want 200; body %q", rec.Code, rec.Body.String())
				}
				return
			}
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d; body %q", rec.Code, tt.status, rec.Body.String())
			}
			e := envelope(t, rec)
			if e.Code != tt.code || !strings.Contains(e.Message, tt.inMessage) {
				t.Fatalf("got %s %q, want code %s with %q in the message", e.Code, e.Message, tt.code, tt.inMessage)
			}
			if len(logs.lines(t, "request failed")) != 0 {
				t.Fatalf("a client's bad body was logged as a server failure:\n%s", logs.String())
			}
		})
	}
}

// A large declared Content-Length is refused before the body is read.
func TestDecodeJSONContentLength(t *testing.T) {
	req := httptest.NewRequest("POST", "/", strings.NewReader(`{}`))
	req.ContentLength = maxBodyBytes + 1
	err := decodeJSON(req, &sampleRequest{})
	if paydesk.ErrorCode(err) != "BODY_TOO_LARGE" {
		t.Fatalf("got %v, want BODY_TOO_LARGE", err)
	}
}

// decodeJSON into something that is not a pointer is the handler's bug,
// reported as such, not blamed on the client.
func TestDecodeJSONBadDestination(t *testing.T) {
	req := httptest.NewRequest("POST", "/", strings.NewReader(`{}`))
	if err := decodeJSON(req, sampleRequest{}); paydesk.ErrorCode(err) != "INTERNAL" {
		t.Fatalf("got %v, want an uncoded (INTERNAL) error", err)
	}
}

// allowedDecodeCodes are all a client can get from decodeJSON.
var allowedDecodeCodes = map[string]int{
	"MALFORMED_JSON":         http.StatusBadRequest,
	"UNKNOWN_FIELD":          http.StatusBadRequest,
	"INVALID_FIELD_TYPE":     http.StatusBadRequest,
	"BODY_TOO_LARGE":         http.StatusRequestEntityTooLarge,
	"UNSUPPORTED_MEDIA_TYPE": http.StatusUnsupportedMediaType,
}

// FuzzDecodeJSON shows that no body and no content type makes decodeJSON
// panic or answer anything but success or a client error with a known code.
func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []struct{ ct, body string }{
		{"application/json", `{"out_trade_no":"A1","amount":1250,"confirm":true,"rate":0.5,"tags":["x"],"store":{"id":3,"name":"n"}}`},
		{"", `{"amount":1}`},
		{"application/json", `{"amount":"1"}`},
		{"application/json", `{"store":{"id":[]}}`},
		{"application/json", `{"x":1}`},
		{"application/json", `{"amount":1}{}`},
		{"application/json", `{"amount":1e400}`},
		{"application/json", `{"tags":[1,{"a":"\ud800"}]}`},
		{"application/json", "{\"out_trade_no\":\"\xff\xfe\"}"},
		{"application/json; charset=utf-16", `{}`},
		{"text/html", `<html>`},
		{"application/json", `nul`},
		{"application/json", `{"amount":-0}`},
	} {
		f.Add(seed.ct, []byte(seed.body))
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		req := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		var dst sampleRequest
		err := decodeJSON(req, &dst)
		if err == nil {
			return
		}
		var coded *paydesk.Error
		if !errors.As(err, &coded) {
			t.Fatalf("uncoded error %v for %q", err, body)
		}
		want, ok := allowedDecodeCodes[coded.Code]
		if !ok {
			t.Fatalf("unexpected code %s (%v) for %q", coded.Code, err, body)
		}
		status := http.StatusBadRequest
		var se *statusError
		if errors.As(err, &se) {
			status = se.status
		}
		if status != want {
			t.Fatalf("code %s with status %d, want %d", coded.Code, status, want)
		}
	})
}
