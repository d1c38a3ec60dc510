package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

const healthcheckUsage = `drbot healthcheck [--addr ADDR]

Asks a running "drbot serve" at ADDR for GET /healthz and exits 0 when it
answers 200, 1 otherwise (with the reason on stderr). For container
health checks: the distroless image has no curl. ADDR defaults to
DRBOT_ADDR, else :3000; a host left out means this machine.`

// healthcheckCommand is "drbot healthcheck".
type healthcheckCommand struct {
	stdio
}

func (c *healthcheckCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("healthcheck", c.stderr, healthcheckUsage)
	addr := fs.String("addr", env("DRBOT_ADDR", ":3000"), "`ADDR` drbot serve listens on (env DRBOT_ADDR)")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after `DURATION`")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	url, err := healthURL(*addr)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("healthcheck: %w", err)}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	text := strings.TrimSpace(string(body))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s: %s", url, resp.Status, text)
	}
	fmt.Fprintln(c.stdout, text)
	return nil
}

// healthURL turns a listen address (":3000", "0.0.0.0:3000", "[::]:3000",
// "drbot:3000") into the /healthz URL to ask: an empty or unspecified host
// means this machine's loopback.
func healthURL(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("healthcheck: --addr %q: want HOST:PORT or :PORT", addr)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz", nil
}
