package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/drbot-dev/drbot/bot"
	"github.com/drbot-dev/drbot/incident"
)

const serveUsage = `drbot serve [--plan FILE] [--db FILE] [--addr ADDR] [--log-level LEVEL] [--force]

Runs the bot for Slack: the HTTP endpoints POST /slack/commands,
/slack/interactions, /slack/events, GET /healthz and /metrics on ADDR, and
Socket Mode as well when SLACK_APP_TOKEN is set. SIGHUP reloads the plan: a
valid one replaces the plan in use, one with errors is refused (and logged).

Environment:
  SLACK_BOT_TOKEN       the app's Bot User OAuth Token (xoxb-...); required
  SLACK_SIGNING_SECRET  the app's Signing Secret; required for the HTTP endpoints
  SLACK_APP_TOKEN       an app-level token (xapp-..., connections:write) for Socket Mode
  SLACK_API_URL         another Slack Web API URL (tests)
  DRBOT_ALERT_TOKEN     bearer token of POST /alerts/alertmanager and /alerts/grafana; they are off when unset
  DRBOT_PUBLIC_URL      the address people reach drbot at: serves the web pages (/, /incidents/N, /plan,
                        /stats, behind a sign-in from /incident web) and links messages to them`

// errNoToken says how to get a token: the person who sees it is setting
// drbot up for the first time. It is several lines of help, not the usual
// one-line error.
var errNoToken error = helpError(`serve: SLACK_BOT_TOKEN is not set.

drbot runs as a Slack app in your workspace. To create it:
  1. Open https://api.slack.com/apps, "Create New App", "From an app manifest",
     pick the workspace and paste slack-app-manifest.yaml (from drbot's repository),
     replacing https://drbot.example.com with the address drbot is reachable at.
  2. "Install to Workspace", then copy the Bot User OAuth Token (xoxb-...) into
     SLACK_BOT_TOKEN and, from "Basic Information", the Signing Secret into
     SLACK_SIGNING_SECRET. For Socket Mode (no public address needed) create an
     app-level token with connections:write and set SLACK_APP_TOKEN instead.
docs/slack-setup.md in drbot's repository walks through it.

To try drbot without Slack, run "drbot console": it needs no token.`)

// helpError is an error whose text is a paragraph of help.
type helpError string

func (e helpError) Error() string { return string(e) }

// serveCommand is "drbot serve".
type serveCommand struct {
	stdout, stderr io.Writer
}

// shutdownGrace is how long in-flight requests and the work started
// after their answers get to finish at shutdown.
const shutdownGrace = 10 * time.Second

func (c *serveCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("serve", c.stderr, serveUsage)
	var cf common
	cf.register(fs)
	addr := fs.String("addr", env("DRBOT_ADDR", ":3000"), "listen on `ADDR` for Slack's requests, /healthz and /metrics (env DRBOT_ADDR)")
	force := fs.Bool("force", false, "serve a database that drbot console has played incidents in")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return usageError(err)
	}
	if len(rest) > 0 {
		fs.Usage()
		return &exitError{code: 2, err: fmt.Errorf("serve: unexpected argument %q", rest[0])}
	}
	log, err := cf.logger(c.stderr)
	if err != nil {
		return &exitError{code: 2, err: err}
	}

	token := strings.TrimSpace(os.Getenv("SLACK_BOT_TOKEN"))
	secret := strings.TrimSpace(os.Getenv("SLACK_SIGNING_SECRET"))
	appToken := strings.TrimSpace(os.Getenv("SLACK_APP_TOKEN"))
	apiURL := strings.TrimSpace(os.Getenv("SLACK_API_URL"))
	if token == "" {
		return errNoToken
	}
	if secret == "" && appToken == "" {
		return errors.New("serve: SLACK_SIGNING_SECRET is not set: it is required to verify Slack's requests to the HTTP endpoints " +
			`(Slack app settings, "Basic Information", "Signing Secret"). Or set SLACK_APP_TOKEN (xapp-...) to use Socket Mode`)
	}
	if !strings.HasPrefix(token, "xoxb-") {
		log.Warn("SLACK_BOT_TOKEN does not look like a bot token (xoxb-...)")
	}
	if appToken != "" && !strings.HasPrefix(appToken, "xapp-") {
		return errors.New("serve: SLACK_APP_TOKEN must be an app-level token (xapp-...), created under the app's \"Basic Information\" with the connections:write scope")
	}
	if apiURL != "" && !strings.HasSuffix(apiURL, "/") {
		apiURL += "/"
	}
	// Say which secrets are set, never what they are.
	// A mistake in the settings stops serve before it opens anything.
	public, err := publicURL()
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("serve: %w", err)}
	}
	log.Info("slack configuration", "bot_token", token != "", "signing_secret", secret != "", "app_token", appToken != "", "api_url", orDefault(apiURL, "slack.com"))

	plan, err := loadPlanReporting(cf.plan, c.stderr)
	if err != nil {
		return err
	}
	// SIGHUP reloads the plan file (reload.go). Caught from here on: its
	// default action would end the process.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	// Listen before opening the database: a taken port fails here, before
	// a database file is created for nothing.
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("serve: listen on %s: %w (set --addr or DRBOT_ADDR)", *addr, err)
	}
	defer ln.Close()
	store, err := openDatabase(ctx, cf.db, log, false)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer store.Close()
	release, err := store.hold(ctx, "serve")
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer release()
	if warning, err := refuseConsoleDB(ctx, store, store.name, *force); err != nil {
		return fmt.Errorf("serve: %w", err)
	} else if warning != "" {
		log.Warn(warning)
	}

	var svc *incident.Engine
	metrics := bot.NewMetrics(bot.MetricsConfig{
		Logger: log,
		OpenIncidents: func(ctx context.Context) (int, error) {
			list, err := svc.Incidents(ctx, incident.Filter{State: incident.StateOpen})
			return len(list), err
		},
		OutboxDepth: func(ctx context.Context) (int, error) {
			var n int
			err := store.View(ctx, func(tx incident.Tx) error {
				var err error
				n, err = tx.OutboxDepth()
				return err
			})
			return n, err
		},
		Leader: store.leaderGauge,
	})
	chat := bot.NewSlackChat(bot.ChatConfig{Token: token, AppToken: appToken, APIURL: apiURL, Metrics: metrics, Logger: log})

	// A token Slack refuses is a setup mistake worth stopping for; Slack
	// being unreachable is not: the outbox keeps what is to be sent.
	botUserID, err := authTest(ctx, chat)
	if err != nil {
		var ce *incident.ChatError
		if errors.As(err, &ce) && ce.Permanent {
			return fmt.Errorf("serve: Slack refused SLACK_BOT_TOKEN (%s): check the token, and that the app is installed in the workspace", ce.Code)
		}
		log.Warn("cannot reach Slack yet; starting anyway", "err", err)
	} else {
		log.Info("connected to Slack", "bot_user", botUserID)
	}

	svc, err = incident.New(incident.Config{Plan: plan, Store: store, Chat: chat, Now: time.Now, Logger: log, Metrics: metrics, PublicURL: public})
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	srv, err := bot.NewServer(bot.Config{
		Engine:        svc,
		Chat:          chat,
		SigningSecret: secret,
		BotUserID:     botUserID,
		Logger:        log,
		Metrics:       metrics,
		Ping:          store.Ping,
		Role:          store.role(),
		FirstRequest:  store.firstRequest(svc),
	})
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	if secret == "" {
		log.Warn("SLACK_SIGNING_SECRET is not set: the HTTP Slack endpoints refuse every request; Socket Mode only")
	}

	handler, err := withAlerts(srv, svc, metrics, log)
	if err == nil {
		handler, err = withWeb(handler, public, cf.plan, svc, store, log)
	}
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}

	httpSrv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("listening", "addr", ln.Addr().String(), "plan", cf.plan, "db", store.name)

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	type exit struct {
		what string
		err  error
	}
	exits := make(chan exit, 3)
	running := 0
	start := func(what string, fn func() error) {
		running++
		go func() { exits <- exit{what, fn()} }()
	}
	start("incident engine", func() error { return store.runEngine(runCtx, svc, log) })
	start("http server", func() error {
		if err := httpSrv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	if appToken != "" {
		start("socket mode", func() error { return srv.RunSocketMode(runCtx) })
	}
	// A bad plan on reload is refused and logged, never fatal, so the
	// reloader is not one of the parts above.
	reloading := make(chan struct{})
	go func() {
		defer close(reloading)
		reloadOnSignal(runCtx, hup, cf.plan, svc, log)
	}()

	// Run until a signal (SIGINT, SIGTERM: ctx) or until a part fails.
	var failed error
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case e := <-exits:
		running--
		if e.err == nil {
			e.err = errors.New("stopped")
		}
		failed = fmt.Errorf("serve: %s: %w", e.what, e.err)
		log.Error("shutting down", "err", failed)
	}

	// Stop taking requests, let the work started after answers finish,
	// then stop the engine. Whatever is still in the outbox is sent by the
	// next start.
	grace, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := httpSrv.Shutdown(grace); err != nil {
		log.Warn("http shutdown", "err", err)
	}
	if err := srv.Close(grace); err != nil {
		log.Warn("bot shutdown", "err", err)
	}
	stop()
	<-reloading
	for ; running > 0; running-- {
		if e := <-exits; e.err != nil && failed == nil {
			log.Warn("stopped with an error", "part", e.what, "err", e.err)
		}
	}
	log.Info("stopped")
	return failed
}

func authTest(ctx context.Context, chat *bot.SlackChat) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	return chat.AuthTest(ctx)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
