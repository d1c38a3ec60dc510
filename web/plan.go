package web

import (
	"bytes"
	"html/template"
	"net/http"

	"github.com/drbot-dev/drbot/plandoc"
)

// plan shows the current plan as the book of "drbot plan doc", with a
// link to print it.
func (s *Server) plan(w http.ResponseWriter, r *http.Request, v viewer) error {
	p := s.cfg.Plan()
	if p == nil {
		return errNotFound{"drbot has no plan loaded."}
	}
	var opts plandoc.Options
	if s.cfg.Book != nil {
		opts = s.cfg.Book(r.Context(), p)
	}
	// The book is laid out once per plan and contact-list confirmation.
	key := p.Hash + "\x00" + opts.Contacts
	s.mu.Lock()
	body, ok := s.books[key]
	s.mu.Unlock()
	if !ok {
		b, err := plandoc.New(r.Context(), p, opts)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := b.WriteHTMLBody(&buf); err != nil {
			return err
		}
		body = buf.Bytes()
		s.mu.Lock()
		s.books[key] = body
		s.mu.Unlock()
	}
	return s.render(w, http.StatusOK, "plan", layoutData{Title: p.Name, Nav: "plan", Viewer: s.viewerName(v), Content: template.HTML(body)})
}
