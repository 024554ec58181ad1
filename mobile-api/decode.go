package mobileapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/paydesk/paydesk"
)

// maxBodyBytes bounds every JSON request body; no request of the API comes
// near it, and a bound keeps a hostile client from making the server buffer
// without end.
const maxBodyBytes = 1 << 20

// bindJSON decodes the request body into dst (a pointer to a struct) with
// decodeJSON's rules. On failure it has already answered the error envelope
// and the handler just returns:
//
//	var req scanRequest
//	if !bindJSON(c, &req) {
//		return
//	}
func bindJSON(c *gin.Context, dst any) bool {
	if err := decodeJSON(c.Request, dst); err != nil {
		writeError(c, err)
		return false
	}
	return true
}

// decodeJSON reads one JSON object from r's body into dst, strictly: the
// content type, if given, must be JSON in UTF-8; the body must be at most
// maxBodyBytes; every field must be known to dst and of the right type; and
// nothing may follow the object. Every failure is a coded error a client can
// act on (never INTERNAL, unless dst itself is not a pointer).
func decodeJSON(r *http.Request, dst any) error {
	if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
		return err
	}
	if r.ContentLength > maxBodyBytes {
		return withStatus(http.StatusRequestEntityTooLarge, ErrBodyTooLarge)
	}
	if r.Body == nil {
		return ErrMalformedJSON.WithMessage("request body is empty; expected a JSON object")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return ErrMalformedJSON.WithMessage("reading request body: %v", err)
	}
	if len(body) > maxBodyBytes {
		return withStatus(http.StatusRequestEntityTooLarge, ErrBodyTooLarge)
	}
	return decodeJSONBytes(body, dst)
}

// checkContentType accepts a missing content type (curl, quick scripts) and
// any JSON media type in UTF-8, and refuses the rest: a form or a text body
// sent by mistake is better refused than half-understood.
func checkContentType(ct string) error {
	if ct == "" {
		return nil
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return withStatus(http.StatusUnsupportedMediaType, ErrUnsupportedMediaType)
	}
	if mt != "application/json" && !(strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")) {
		return withStatus(http.StatusUnsupportedMediaType,
			ErrUnsupportedMediaType.WithMessage("content type %s is not accepted; send application/json", truncate(mt, 64)))
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return withStatus(http.StatusUnsupportedMediaType,
			ErrUnsupportedMediaType.WithMessage("charset %s is not accepted; send UTF-8", truncate(cs, 32)))
	}
	return nil
}

// decodeJSONBytes is decodeJSON once the body has been read.
func decodeJSONBytes(body []byte, dst any) error {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return ErrMalformedJSON.WithMessage("request body is empty; expected a JSON object")
	}
	// The API takes objects only; "null" or an array would otherwise decode
	// silently into a zero request.
	if trimmed[0] != '{' {
		return ErrMalformedJSON.WithMessage("request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	// Decode stops after the first value; anything but white space after it
	// means the client sent something other than what it thinks.
	if _, err := dec.Token(); err != io.EOF {
		return ErrMalformedJSON.WithMessage("unexpected data after the JSON object at offset %d", dec.InputOffset())
	}
	return nil
}

// decodeError names what is wrong with the body in words a client developer
// can act on.
func decodeError(err error) error {
	var (
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
		invalid   *json.InvalidUnmarshalError
		coded     *paydesk.Error
	)
	switch {
	case errors.As(err, &syntaxErr):
		return ErrMalformedJSON.WithMessage("malformed JSON at offset %d: %s", syntaxErr.Offset, strings.TrimPrefix(syntaxErr.Error(), "json: "))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return ErrMalformedJSON.WithMessage("request body ends in the middle of the JSON object")
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return ErrMalformedJSON.WithMessage("request body must be a JSON object")
		}
		return ErrInvalidFieldType.WithMessage("field %q must be %s, not %s", truncate(typeErr.Field, 128), jsonTypeName(typeErr.Type), typeErr.Value)
	case errors.As(err, &invalid):
		// A handler passed a non-pointer: a bug of ours, not the client's.
		return fmt.Errorf("decode json: %w", err)
	case errors.As(err, &coded):
		// A field type's own UnmarshalJSON refused the value with a code.
		return coded
	}
	// encoding/json has no error type for an unknown field; its message is
	// the only place the field's name is.
	if rest, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name, uerr := strconv.Unquote(rest)
		if uerr != nil {
			name = rest
		}
		return ErrUnknownField.WithMessage("unknown field %q", truncate(name, 128))
	}
	return ErrMalformedJSON.WithMessage("request body could not be decoded: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// jsonTypeName says which JSON type a Go type is written as.
func jsonTypeName(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "another type"
}
