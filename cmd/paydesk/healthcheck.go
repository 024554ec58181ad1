package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"
)

// healthcheckCmd asks the server on --addr whether it is ready (GET
// /readyz) and exits 0 if so, 1 if not: what a container's HEALTHCHECK
// runs, in an image that has no curl. It opens no database.
func healthcheckCmd(ctx context.Context, c *cli, args []string) error {
	if err := c.noArgs("healthcheck", args); err != nil {
		return err
	}
	host, port, err := net.SplitHostPort(c.cfg.Addr)
	if err != nil {
		return fmt.Errorf("PAYDESK_ADDR (--addr) %q is not host:port", c.cfg.Addr)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	url := "http://" + net.JoinHostPort(host, port) + "/readyz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("not healthy: %w", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("not healthy: GET %s answered %s", url, res.Status)
	}
	fmt.Fprintln(c.stdout, "ok")
	return nil
}
