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

// serveCommand is "drbot serve". Run reads the flags and environment
// (parse), opens what serve needs (open: the plan, the listener, the
// database, Slack, the engine), runs its parts until a signal or a failure
// (run), and closes what open opened (close), like Litestream's
// ReplicateCommand.
type serveCommand struct {
	stdio
}

// shutdownGrace is how long in-flight requests and the work started
// after their answers get to finish at shutdown.
const shutdownGrace = 10 * time.Second

func (c *serveCommand) Run(ctx context.Context, args []string) error {
	cfg, err := c.parse(args)
	if err != nil {
		return err
	}
	s := &server{cfg: cfg, log: cfg.log}
	defer s.close()
	if err := s.open(ctx, c.stderr); err != nil {
		return err
	}
	return s.run(ctx)
}

// serveConfig is what serve reads from its flags and the environment.
type serveConfig struct {
	common
	addr   string
	force  bool
	public string // DRBOT_PUBLIC_URL: where people reach the web pages; "" for none
	log    *slog.Logger
	// Slack's credentials and where its Web API is (SLACK_API_URL, for
	// tests; "" for slack.com).
	token, secret, appToken, apiURL string
}

// parse reads the flags and the environment, and refuses a setup that
// cannot work (no token, neither a signing secret nor an app token).
func (c *serveCommand) parse(args []string) (*serveConfig, error) {
	fs := newFlagSet("serve", c.stderr, serveUsage)
	var cfg serveConfig
	cfg.register(fs)
	fs.StringVar(&cfg.addr, "addr", env("DRBOT_ADDR", ":3000"), "listen on `ADDR` for Slack's requests, /healthz and /metrics (env DRBOT_ADDR)")
	fs.BoolVar(&cfg.force, "force", false, "serve a database that drbot console has played incidents in")
	if err := parseNoArgs(fs, args); err != nil {
		return nil, err
	}
	var err error
	cfg.log, err = cfg.logger(c.stderr)
	if err != nil {
		return nil, &exitError{code: 2, err: err}
	}
	if err := cfg.slackEnv(); err != nil {
		return nil, err
	}
	// A mistake in the settings stops serve before it opens anything.
	if cfg.public, err = publicURL(); err != nil {
		return nil, &exitError{code: 2, err: fmt.Errorf("serve: %w", err)}
	}
	return &cfg, nil
}

// slackEnv reads Slack's credentials from the environment and logs which
// are set, never what they are.
func (cfg *serveConfig) slackEnv() error {
	cfg.token = strings.TrimSpace(os.Getenv("SLACK_BOT_TOKEN"))
	cfg.secret = strings.TrimSpace(os.Getenv("SLACK_SIGNING_SECRET"))
	cfg.appToken = strings.TrimSpace(os.Getenv("SLACK_APP_TOKEN"))
	cfg.apiURL = strings.TrimSpace(os.Getenv("SLACK_API_URL"))
	if cfg.token == "" {
		return errNoToken
	}
	if cfg.secret == "" && cfg.appToken == "" {
		return errors.New("serve: SLACK_SIGNING_SECRET is not set: it is required to verify Slack's requests to the HTTP endpoints " +
			`(Slack app settings, "Basic Information", "Signing Secret"). Or set SLACK_APP_TOKEN (xapp-...) to use Socket Mode`)
	}
	if !strings.HasPrefix(cfg.token, "xoxb-") {
		cfg.log.Warn("SLACK_BOT_TOKEN does not look like a bot token (xoxb-...)")
	}
	if cfg.appToken != "" && !strings.HasPrefix(cfg.appToken, "xapp-") {
		return errors.New("serve: SLACK_APP_TOKEN must be an app-level token (xapp-...), created under the app's \"Basic Information\" with the connections:write scope")
	}
	if cfg.apiURL != "" && !strings.HasSuffix(cfg.apiURL, "/") {
		cfg.apiURL += "/"
	}
	cfg.log.Info("slack configuration", "bot_token", cfg.token != "", "signing_secret", cfg.secret != "", "app_token", cfg.appToken != "", "api_url", orDefault(cfg.apiURL, "slack.com"))
	return nil
}

// server is one drbot serve: what open opened, for run to use and close
// to close.
type server struct {
	cfg *serveConfig
	log *slog.Logger

	hup     chan os.Signal // SIGHUP: reload the plan (reload.go)
	rules   int            // the plan's alerts: rules at start
	ln      net.Listener
	store   *database
	release func() // lets go of the database (closeHeld)
	metrics *bot.Metrics
	chat    *bot.SlackChat
	engine  *incident.Engine
	bot     *bot.Server
	http    *http.Server
}

// open loads the plan, listens, opens and holds the database, connects to
// Slack and builds the engine and the HTTP server. What it opened is
// closed by close, also when open fails half way.
func (s *server) open(ctx context.Context, stderr io.Writer) error {
	plan, err := loadPlanReporting(s.cfg.plan, stderr)
	if err != nil {
		return err
	}
	s.rules = len(plan.Alerts)
	// SIGHUP is caught from here on: its default action would end the
	// process.
	s.hup = make(chan os.Signal, 1)
	signal.Notify(s.hup, syscall.SIGHUP)
	// Listen before opening the database: a taken port fails here, before
	// a database file is created for nothing.
	if s.ln, err = net.Listen("tcp", s.cfg.addr); err != nil {
		return fmt.Errorf("serve: listen on %s: %w (set --addr or DRBOT_ADDR)", s.cfg.addr, err)
	}
	if s.store, s.release, err = openHeld(ctx, s.cfg.db, s.log, "serve"); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	if warning, err := refuseConsoleDB(ctx, s.store, s.store.name, s.cfg.force); err != nil {
		return fmt.Errorf("serve: %w", err)
	} else if warning != "" {
		s.log.Warn(warning)
	}
	if err := markServe(ctx, s.store); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	s.metrics = s.newMetrics()
	s.chat = bot.NewSlackChat(bot.ChatConfig{Token: s.cfg.token, AppToken: s.cfg.appToken, APIURL: s.cfg.apiURL, Metrics: s.metrics, Logger: s.log})
	botUserID, err := s.connectSlack(ctx)
	if err != nil {
		return err
	}
	s.engine, err = incident.New(incident.Config{Plan: plan, Store: s.store, Chat: s.chat, Now: time.Now, Logger: s.log, Metrics: s.metrics, PublicURL: s.cfg.public})
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	if err := s.newHTTP(botUserID); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// newMetrics makes the Prometheus metrics, reading the engine and the
// store when scraped.
func (s *server) newMetrics() *bot.Metrics {
	return bot.NewMetrics(bot.MetricsConfig{
		Logger: s.log,
		OpenIncidents: func(ctx context.Context) (int, error) {
			list, err := s.engine.Incidents(ctx, incident.Filter{State: incident.StateOpen})
			return len(list), err
		},
		OutboxDepth: func(ctx context.Context) (int, error) {
			var n int
			err := s.store.View(ctx, func(tx incident.Tx) error {
				var err error
				n, err = tx.OutboxDepth()
				return err
			})
			return n, err
		},
		Leader: s.store.leaderGauge,
	})
}

// connectSlack asks Slack who drbot is. A token Slack refuses is a setup
// mistake worth stopping for; Slack being unreachable is not: the outbox
// keeps what is to be sent, and the bot's member ID is then "".
func (s *server) connectSlack(ctx context.Context) (botUserID string, err error) {
	botUserID, err = authTest(ctx, s.chat)
	if err != nil {
		var ce *incident.ChatError
		if errors.As(err, &ce) && ce.Permanent {
			return "", fmt.Errorf("serve: Slack refused SLACK_BOT_TOKEN (%s): check the token, and that the app is installed in the workspace", ce.Code)
		}
		s.log.Warn("cannot reach Slack yet; starting anyway", "err", err)
		return "", nil
	}
	s.log.Info("connected to Slack", "bot_user", botUserID)
	return botUserID, nil
}

// newHTTP builds the bot's Slack endpoints with the alert intake and the
// web pages around them, and the HTTP server that serves them.
func (s *server) newHTTP(botUserID string) error {
	var err error
	s.bot, err = bot.NewServer(bot.Config{
		Engine:        s.engine,
		Chat:          s.chat,
		SigningSecret: s.cfg.secret,
		BotUserID:     botUserID,
		Logger:        s.log,
		Metrics:       s.metrics,
		Ping:          s.store.Ping,
		Role:          s.store.role(),
		FirstRequest:  s.store.firstRequest(s.engine),
	})
	if err != nil {
		return err
	}
	if s.cfg.secret == "" {
		s.log.Warn("SLACK_SIGNING_SECRET is not set: the HTTP Slack endpoints refuse every request; Socket Mode only")
	}
	handler, err := withAlerts(s.bot, s.engine, s.metrics, s.log, s.rules)
	if err == nil {
		handler, err = withWeb(handler, s.cfg.public, s.cfg.plan, s.engine, s.store, s.log)
	}
	if err != nil {
		return err
	}
	s.http = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	return nil
}

// part is one of serve's parts that run until the end (the engine, the
// HTTP server, Socket Mode), and how it ended.
type part struct {
	what string
	err  error
}

// run runs the engine, the HTTP server, Socket Mode and the plan reloader
// until a signal (SIGINT, SIGTERM: ctx) or until a part fails, then shuts
// them down. The error is the failed part's.
func (s *server) run(ctx context.Context) error {
	s.log.Info("listening", "addr", s.ln.Addr().String(), "plan", s.cfg.plan, "db", s.store.name)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	exits := make(chan part, 3)
	running := 0
	start := func(what string, fn func() error) {
		running++
		go func() { exits <- part{what, fn()} }()
	}
	start("incident engine", func() error { return s.store.runEngine(runCtx, s.engine, s.log) })
	start("http server", func() error {
		if err := s.http.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	if s.cfg.appToken != "" {
		start("socket mode", func() error { return s.bot.RunSocketMode(runCtx) })
	}
	// A bad plan on reload is refused and logged, never fatal, so the
	// reloader is not one of the parts above.
	reloading := make(chan struct{})
	go func() {
		defer close(reloading)
		reloadOnSignal(runCtx, s.hup, s.cfg.plan, s.engine, s.log)
	}()

	var failed error
	select {
	case <-ctx.Done():
		s.log.Info("shutting down")
	case e := <-exits:
		running--
		if e.err == nil {
			e.err = errors.New("stopped")
		}
		failed = fmt.Errorf("serve: %s: %w", e.what, e.err)
		s.log.Error("shutting down", "err", failed)
	}
	s.shutdown(stop)
	<-reloading
	for ; running > 0; running-- {
		if e := <-exits; e.err != nil && failed == nil {
			s.log.Warn("stopped with an error", "part", e.what, "err", e.err)
		}
	}
	s.log.Info("stopped")
	return failed
}

// shutdown stops taking requests, lets the work started after answers
// finish, then stops the engine (stop). Whatever is still in the outbox
// is sent by the next start.
func (s *server) shutdown(stop func()) {
	grace, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := s.http.Shutdown(grace); err != nil {
		s.log.Warn("http shutdown", "err", err)
	}
	if err := s.bot.Close(grace); err != nil {
		s.log.Warn("bot shutdown", "err", err)
	}
	stop()
}

// close closes what open opened, the last first.
func (s *server) close() {
	if s.release != nil {
		s.release()
	}
	if s.ln != nil {
		s.ln.Close()
	}
	if s.hup != nil {
		signal.Stop(s.hup)
	}
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
