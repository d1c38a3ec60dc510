package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/plandoc"
	"github.com/drbot-dev/drbot/playbooks"
	"github.com/drbot-dev/drbot/web"
)

// publicURL reads DRBOT_PUBLIC_URL: the address people reach drbot at,
// which turns on the web pages in serve and the links to them in
// messages. It returns "" when unset, and the URL without a trailing
// slash.
func publicURL() (string, error) {
	raw := strings.TrimSpace(os.Getenv("DRBOT_PUBLIC_URL"))
	if raw == "" {
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("DRBOT_PUBLIC_URL %q: want the address people reach drbot at, such as https://drbot.example.com", raw)
	}
	return strings.TrimRight(raw, "/"), nil
}

// bookOptions is what the book on /plan needs besides the plan: the plan
// file's date and when the contacts were last confirmed.
func bookOptions(planFile string, store incident.Store, stderr *slog.Logger) func(ctx context.Context, p *playbooks.Plan) plandoc.Options {
	return func(ctx context.Context, p *playbooks.Plan) plandoc.Options {
		var o plandoc.Options
		if st, err := os.Stat(planFile); err == nil && p.File == planFile {
			o.FileDate = st.ModTime()
		}
		if cs, err := contactsStatusOf(ctx, store, p); err != nil {
			stderr.Warn("web: when the contacts were last confirmed", "err", err)
		} else if cs != nil {
			o.Contacts = cs.text
		}
		return o
	}
}

// withWeb serves the web pages beside next when DRBOT_PUBLIC_URL is set
// (public is its value), behind a session started with /incident web.
func withWeb(next http.Handler, public, planFile string, engine *incident.Engine, store incident.Store, log *slog.Logger) (http.Handler, error) {
	log.Info("web pages", "on", public != "", "public_url", public)
	if public == "" {
		return next, nil
	}
	srv, err := web.New(web.Config{
		Store: store, Plan: engine.Plan, Book: bookOptions(planFile, store, log),
		SignIn: true, Secure: strings.HasPrefix(public, "https://"), Logger: log,
	})
	if err != nil {
		return nil, err
	}
	return srv.Wrap(next), nil
}
