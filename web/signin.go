package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/drbot-dev/drbot/incident"
)

type signinData struct {
	Token, Next string
}

// signinPage is where a link from "/incident web" lands. It does not use
// the link: a link preview or a mail scanner that fetches it must not
// spend it. The person presses Sign in, which posts the token.
func (s *Server) signinPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	token := r.URL.Query().Get("token")
	if token == "" {
		s.signInNeeded(w, r, nil)
		return
	}
	d := signinData{Token: token, Next: localPath(r.URL.Query().Get("next"))}
	if err := s.render(w, http.StatusOK, "signin", layoutData{Title: "Sign in", Content: d}); err != nil {
		s.errorPage(w, r, err)
	}
}

// signin uses a sign-in token once and starts a session: a cookie
// holding the session token, HttpOnly, SameSite=Lax (so that a link from
// Slack to a page carries it), Secure over https, for 12 hours.
func (s *Server) signin(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	// A form posted from another site is not ours: refused, so that
	// nobody can sign a visitor in as someone else.
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		if u, err := url.Parse(o); err != nil || u.Host != r.Host {
			s.renderMessage(w, http.StatusForbidden, "Sign-in refused", message{Heading: "Sign-in refused", Text: "This sign-in came from another site."})
			return
		}
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	token := r.PostFormValue("token")
	var session string
	err := s.cfg.Store.Update(r.Context(), func(tx incident.Tx) error {
		var err error
		_, session, err = incident.UseSignInLink(tx, token, s.cfg.Now())
		return err
	})
	if err != nil {
		if !errors.Is(err, incident.ErrSignIn) {
			s.errorPage(w, r, err)
			return
		}
		s.renderMessage(w, http.StatusForbidden, "Sign-in refused", message{
			Heading: "Sign-in refused", Text: strings.TrimPrefix(err.Error(), incident.ErrSignIn.Error()+": "),
			Steps: []string{"In Slack, type /incident web for a new link.", "Open it within 10 minutes and press Sign in."},
		})
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: session, Path: "/", MaxAge: int(incident.WebSessionTTL.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.cfg.Secure,
	})
	http.Redirect(w, r, localPath(r.PostFormValue("next")), http.StatusSeeOther)
}

// localPath returns next when it is a path of these pages, else "/": a
// sign-in link must not send anyone elsewhere.
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") || !Owns(strings.SplitN(next, "?", 2)[0]) {
		return "/"
	}
	return next
}
