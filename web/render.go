package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/playbooks"
)

// pages are the templates, each rendered inside layout.html.
var pages = []string{"home", "incident", "plan", "stats", "signin", "message"}

func (s *Server) parseTemplates() error {
	funcs := template.FuncMap{
		"dur": func(d time.Duration) string {
			if d <= 0 {
				return "0s"
			}
			return playbooks.FormatDuration(d.Round(time.Second))
		},
		"ms":  func(t time.Time) int64 { return t.UnixMilli() },
		"msd": func(d time.Duration) int64 { return d.Milliseconds() },
		"neg": func(d time.Duration) time.Duration { return -d },
		// dict passes several values to a template: (dict "K" v ...).
		"dict": func(kv ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i+1 < len(kv); i += 2 {
				m[fmt.Sprint(kv[i])] = kv[i+1]
			}
			return m
		},
	}
	s.tmpl = map[string]*template.Template{}
	for _, name := range pages {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/parts.html", "templates/"+name+".html")
		if err != nil {
			return fmt.Errorf("web: template %s: %w", name, err)
		}
		s.tmpl[name] = t
	}
	return nil
}

// layoutData is what every page has.
type layoutData struct {
	Title   string
	Nav     string // which navigation link is the current page
	Viewer  string // the signed-in person's name or Slack ID; "" without sign-in
	Played  string // Config.Played
	Content any
}

// render writes page name with data, buffered so that a template error
// gives a clean 500 instead of half a page.
func (s *Server) render(w http.ResponseWriter, status int, name string, d layoutData) error {
	var buf bytes.Buffer
	d.Played = s.cfg.Played
	if err := s.tmpl[name].ExecuteTemplate(&buf, "layout.html", d); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// message is the content of a page that only says something.
type message struct {
	Heading  string
	Text     string
	Steps    []string // what to do, in order
	Link     string   // where to go next; "" none
	LinkText string
}

// errNotFound is a page that does not exist; its text is shown.
type errNotFound struct{ what string }

func (e errNotFound) Error() string { return e.what }

func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, err error) {
	var nf errNotFound
	if errors.As(err, &nf) || incident.ErrorCode(err) == incident.ENOTFOUND {
		text := err.Error()
		if nf.what != "" {
			text = nf.what
		}
		s.renderMessage(w, http.StatusNotFound, "Not found", message{Heading: "Not found", Text: text, Link: "/", LinkText: "Incidents"})
		return
	}
	s.log.Error("web page failed", "path", r.URL.Path, "err", err)
	s.renderMessage(w, http.StatusInternalServerError, "Something went wrong", message{Heading: "Something went wrong",
		Text: "drbot could not show this page; the error is in its log. Try again in a moment.", Link: "/", LinkText: "Incidents"})
}

func (s *Server) renderMessage(w http.ResponseWriter, status int, title string, m message) {
	if err := s.render(w, status, "message", layoutData{Title: title, Content: m}); err != nil {
		s.log.Error("web: render a message page", "err", err)
	}
}

// signInNeeded answers a page asked for without a valid session: 401,
// and how to sign in.
func (s *Server) signInNeeded(w http.ResponseWriter, r *http.Request, why error) {
	text := "These pages show incident data, for your workspace's people only."
	if why != nil && !errors.Is(why, incident.ErrSignIn) {
		s.log.Error("web: read the session", "err", why)
	}
	s.renderMessage(w, http.StatusUnauthorized, "Sign in", message{
		Heading: "Sign in to drbot",
		Text:    text,
		Steps: []string{
			"In Slack, type /incident web (in an incident's channel to land on its page).",
			"drbot answers you alone with a link; open it within 10 minutes and press Sign in.",
			"The session lasts 12 hours in this browser. Each link works once.",
		},
	})
}

// incidentID reads the {id} of a path.
func incidentID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, errNotFound{fmt.Sprintf("%q is not an incident number.", r.PathValue("id"))}
	}
	return id, nil
}
