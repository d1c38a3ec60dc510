package web

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/plandoc"
	"github.com/drbot-dev/drbot/playbooks"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config is what a Server is made from.
type Config struct {
	Store incident.Store
	// Plan returns the plan in use (reloads change it); the book on /plan
	// and the timezone of the pages come from it. An incident is shown
	// with the plan it was declared with, kept in the Store.
	Plan func() *playbooks.Plan
	// Book adds what the book needs besides the plan: the plan file's
	// date, when the contacts were last confirmed. Optional.
	Book func(ctx context.Context, p *playbooks.Plan) plandoc.Options
	// SignIn: every page needs a session started with a link from
	// "/incident web". False only for "drbot web" on a loopback address.
	SignIn bool
	// Secure marks the session cookie Secure: the pages are reached over
	// https (DRBOT_PUBLIC_URL starts with https://).
	Secure bool
	Now    func() time.Time // default time.Now
	Logger *slog.Logger     // default discards
	// Played, when not empty, says on every page that the database was
	// played in drbot console and its times are the console's clock (set
	// Now to it): the countdowns then stand still instead of moving on in
	// real time.
	Played string
}

// Server serves the pages. It implements http.Handler.
type Server struct {
	cfg  Config
	log  *slog.Logger
	tmpl map[string]*template.Template
	mux  *http.ServeMux

	mu    sync.Mutex
	plans map[string]*playbooks.Plan // by hash: the plans incidents were declared with
	books map[string][]byte          // by plan hash: the book's HTML body
}

// CookieName is the session cookie.
const CookieName = "drbot_session"

// New returns a Server for cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Plan == nil {
		return nil, errors.New("web: Store and Plan are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, plans: map[string]*playbooks.Plan{}, books: map[string][]byte{}}
	if err := s.parseTemplates(); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	m := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	m.Handle("GET /static/", http.StripPrefix("/static/", staticFiles(http.FileServerFS(static))))
	m.Handle("GET /static/book.css", staticFiles(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		_, _ = w.Write([]byte(plandoc.CSS()))
	})))
	m.HandleFunc("GET /signin", s.signinPage)
	m.HandleFunc("POST /signin", s.signin)
	m.Handle("GET /{$}", s.page(s.home))
	m.Handle("GET /incidents/{id}", s.page(s.incident))
	m.Handle("GET /incidents/{id}/postmortem.md", s.page(s.postmortemFile("md")))
	m.Handle("GET /incidents/{id}/postmortem.json", s.page(s.postmortemFile("json")))
	m.Handle("GET /plan", s.page(s.plan))
	m.Handle("GET /stats", s.page(s.stats))
	s.mux = m
}

// Owns reports whether path is one of the pages' (so that drbot serve
// sends it here and everything else to the Slack endpoints).
func Owns(path string) bool {
	switch {
	case path == "/", path == "/plan", path == "/stats", path == "/signin":
		return true
	case strings.HasPrefix(path, "/incidents/"), strings.HasPrefix(path, "/static/"):
		return true
	}
	return false
}

// Wrap returns a handler that serves the pages and hands every other
// request to next (drbot serve's Slack endpoints, /healthz, /metrics).
func (s *Server) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if Owns(r.URL.Path) {
			s.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// ServeHTTP serves the pages.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// Nothing of the pages comes from elsewhere, and nothing may frame
	// them. The one script is a file of ours; the charts' SVG carries
	// style attributes.
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	s.mux.ServeHTTP(w, r)
}

func staticFiles(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}

// viewer is who looks at a page: a Slack member ID, or "" without
// sign-in.
type viewer struct{ user string }

// handler is a page: it writes the response or returns an error that
// errorPage turns into one.
type handler func(w http.ResponseWriter, r *http.Request, v viewer) error

// page checks the session (when sign-in is on), then runs h. Pages are
// never cached: they show live figures to one person.
func (s *Server) page(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		var v viewer
		if s.cfg.SignIn {
			user, err := s.session(r)
			if err != nil {
				s.signInNeeded(w, r, err)
				return
			}
			v.user = user
		}
		if err := h(w, r, v); err != nil {
			s.errorPage(w, r, err)
		}
	})
}

// session returns the user of the request's session cookie.
func (s *Server) session(r *http.Request) (string, error) {
	c, err := r.Cookie(CookieName)
	if err != nil {
		return "", incident.ErrSignIn
	}
	var user string
	err = s.cfg.Store.View(r.Context(), func(tx incident.Tx) error {
		var err error
		user, _, err = incident.WebSession(tx, c.Value, s.cfg.Now())
		return err
	})
	return user, err
}
