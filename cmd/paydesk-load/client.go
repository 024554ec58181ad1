package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// client speaks JSON to paydesk over keep-alive connections.
type client struct {
	base string
	http *http.Client
}

func newClient(base string, conns int) *client {
	tr := &http.Transport{MaxIdleConns: conns * 2, MaxIdleConnsPerHost: conns * 2, IdleConnTimeout: time.Minute}
	return &client{base: base, http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// apiError is a paydesk error envelope.
type apiError struct {
	Status int
	Code   string `json:"code"`
	Msg    string `json:"message"`
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Msg) }

// do sends body (if any) as JSON and decodes a 2xx answer into out.
func (c *client) do(ctx context.Context, method, path, token string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return &apiError{Code: "TRANSPORT", Msg: err.Error()}
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return &apiError{Status: res.StatusCode, Code: "TRANSPORT", Msg: err.Error()}
	}
	if res.StatusCode/100 != 2 {
		var env struct{ Error apiError }
		json.Unmarshal(data, &env)
		env.Error.Status = res.StatusCode
		if env.Error.Code == "" {
			env.Error.Code = fmt.Sprintf("HTTP_%d", res.StatusCode)
		}
		return &env.Error
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

type tokens struct {
	AccessToken string `json:"access_token"`
}

type order struct {
	ID     int64  `json:"id"`
	State  string `json:"state"`
	Amount int64  `json:"amount"`
	Fee    int64  `json:"fee"`
}
