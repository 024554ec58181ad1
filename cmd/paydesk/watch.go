package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gorilla/websocket"
)

// watchCmd is `paydesk watch`: it opens the app's websocket (/v1/ws) with
// an access token and prints every event as one JSON line, the way the
// merchant or wallet app receives them. With --last-seq N it first gets
// what came after N; with --replay it stops once that is sent.
func watchCmd(ctx context.Context, c *cli, args []string) error {
	fs := c.flagSet("watch")
	api := fs.String("api", "http://localhost:8080", "the server's base `url`")
	token := fs.String("token", "", "access `token` (default: the environment variable PAYDESK_TOKEN)")
	lastSeq := fs.Int64("last-seq", -1, "resume after this `seq`: events after it come first (0: everything kept); default: live events only")
	replay := fs.Bool("replay", false, "stop once the events after --last-seq are sent, instead of waiting for live ones")
	count := fs.Int("count", 0, "stop after this many `events` (0: no limit)")
	if err := c.noMore(fs, args); err != nil {
		return err
	}
	if *token == "" {
		*token = c.getenv("PAYDESK_TOKEN")
	}
	if *token == "" {
		return c.usageErr(fs, "an access token is required: --token or PAYDESK_TOKEN")
	}
	if *replay && *lastSeq < 0 {
		return c.usageErr(fs, "--replay needs --last-seq")
	}
	u, err := url.Parse(strings.TrimSuffix(*api, "/") + "/v1/ws")
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return c.usageErr(fs, "--api must be an http:// or https:// url")
	}
	u.Scheme = strings.Replace(u.Scheme, "http", "ws", 1)
	if *lastSeq >= 0 {
		u.RawQuery = "last_seq=" + strconv.FormatInt(*lastSeq, 10)
	}
	conn, resp, err := websocket.DefaultDialer.DialContext(ctx, u.String(), http.Header{"Authorization": {"Bearer " + *token}})
	if err != nil {
		if resp != nil {
			var buf bytes.Buffer
			buf.ReadFrom(resp.Body)
			return fmt.Errorf("open %s: %s %s", u.Redacted(), resp.Status, strings.TrimSpace(buf.String()))
		}
		return fmt.Errorf("open %s: %w", u.Redacted(), err)
	}
	defer conn.Close()
	go func() { <-ctx.Done(); conn.Close() }()
	seen := 0
	for {
		_, msg, err := conn.ReadMessage()
		if err != nil {
			if ctx.Err() != nil || websocket.IsCloseError(err, websocket.CloseNormalClosure) {
				return nil
			}
			return fmt.Errorf("websocket: %w", err)
		}
		var head struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(msg, &head) != nil {
			return errors.New("websocket: a message that is not JSON")
		}
		if head.Type == "ready" {
			fmt.Fprintf(c.stderr, "paydesk watch: %s\n", msg)
			if *replay {
				return nil
			}
			continue
		}
		fmt.Fprintf(c.stdout, "%s\n", msg)
		if seen++; *count > 0 && seen >= *count {
			return nil
		}
	}
}
