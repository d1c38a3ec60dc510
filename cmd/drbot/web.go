package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/playbooks"
	"github.com/drbot-dev/drbot/web"
)

const webUsage = `drbot web [--addr 127.0.0.1:8080] [--db FILE] [--plan FILE]

Serves drbot's read-only pages from the database on this machine, with no
Slack: the open incidents with their RTO countdowns (/), each incident with
its step chart, pages, timeline and postmortem (/incidents/N), the plan as
a book (/plan) and figures across incidents (/stats). It only reads the
database, so it can show a copy (a backup) or the database a running
"drbot serve" or "drbot console" uses.

It listens on a loopback address only, and asks for no sign-in: whoever is
on this machine may read it. To share the pages, set DRBOT_PUBLIC_URL on
"drbot serve", which serves them behind a sign-in from "/incident web".

The plan is --plan; when it cannot be read, the plan of the newest
incident in the database stands in.`

// webCommand is "drbot web".
type webCommand struct {
	stdio
}

func (c *webCommand) Run(ctx context.Context, args []string) error {
	fs, cf := newCommonFlagSet("web", c.stderr, webUsage)
	addr := fs.String("addr", "127.0.0.1:8080", "listen on `ADDR`, a loopback address")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if err := loopbackOnly(*addr); err != nil {
		return &exitError{code: 2, err: fmt.Errorf("web: %w", err)}
	}
	log, err := cf.logger(c.stderr)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	store, err := cf.openReadOnly(ctx, c.stderr, "web")
	if err != nil {
		return err
	}
	defer store.Close()
	plan, err := webPlan(ctx, cf.plan, store, log)
	if err != nil {
		return err
	}
	var now func() time.Time // the wall clock, unless the console played here
	played := ""
	if t, ok := playedNow(ctx, store, c.stderr, store.name); ok {
		now = func() time.Time { return t }
		played = fmt.Sprintf("Played in drbot console: times are at the console's clock, %s, not now.", t.In(plan.Location).Format("2006-01-02 15:04 MST"))
	}
	srv, err := web.New(web.Config{
		Store: store, Plan: func() *playbooks.Plan { return plan }, Book: bookOptions(cf.plan, store, log), Logger: log, Now: now, Played: played,
	})
	if err != nil {
		return fmt.Errorf("web: %w", err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("web: listen on %s: %w (set --addr)", *addr, err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	log.Info("listening", "addr", ln.Addr().String(), "url", "http://"+ln.Addr().String()+"/", "db", store.name, "sign_in", false)
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("web: %w", err)
	case <-ctx.Done():
	}
	grace, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := hs.Shutdown(grace); err != nil {
		log.Warn("http shutdown", "err", err)
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("web: %w", err)
	}
	return nil
}

// loopbackOnly refuses an address other people could reach: drbot web
// asks for no sign-in.
func loopbackOnly(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr %q: want HOST:PORT such as 127.0.0.1:8080", addr)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("--addr %q is not a loopback address: drbot web asks for no sign-in, so it only listens on this machine (127.0.0.1 or ::1); to share the pages, set DRBOT_PUBLIC_URL on drbot serve", addr)
}

// webPlan loads the plan file, or, when it cannot be read, the plan of
// the newest incident in the database (a backup read on another machine).
func webPlan(ctx context.Context, file string, store incident.Store, log *slog.Logger) (*playbooks.Plan, error) {
	p, diags, err := playbooks.LoadWith(file, playbooks.Options{UnsetIsWarning: true})
	if err == nil && !diags.HasErrors() {
		return p, nil
	}
	why := fmt.Sprint(err)
	if err == nil {
		why = diags.Err().Error()
	}
	var list []*incident.Incident
	if err := store.View(ctx, func(tx incident.Tx) error {
		var err error
		list, err = tx.Incidents(incident.Filter{Limit: 1})
		return err
	}); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	if len(list) > 0 {
		if p, err := storedPlan(ctx, store, list[0].PlanHash); err == nil {
			log.Warn("the plan file cannot be used; showing the plan of the newest incident", "plan", file, "err", why, "incident", list[0].ID)
			return p, nil
		}
	}
	return nil, fmt.Errorf("web: plan %s: %s, and the database holds no plan to show instead (set --plan or DRBOT_PLAN)", file, why)
}
