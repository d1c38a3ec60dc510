package bot

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
)

// sslCheckPeek is the largest body read to tell Slack's SSL check, whose
// body is "ssl_check=1&token=…" (about 45 bytes). A larger body, or one
// of unknown length, is a command and goes on unread to the signature
// check, which refuses an unsigned one before reading it.
const sslCheckPeek = 128

// sslCheck answers Slack's SSL certificate check of the command URL:
// Slack POSTs ssl_check=1 (with a token, no command, signed or not) when
// the app is configured, and wants 200 with an empty body. It does
// nothing else. Any other request goes on to next with its body whole.
func (s *Server) sslCheck(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength < 0 || r.ContentLength > sslCheckPeek {
			next.ServeHTTP(w, r)
			return
		}
		peek, err := io.ReadAll(io.LimitReader(r.Body, sslCheckPeek))
		if err != nil {
			http.Error(w, "cannot read body", http.StatusBadRequest)
			return
		}
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(peek), r.Body), r.Body}
		if form, err := url.ParseQuery(string(peek)); err == nil && form.Get("ssl_check") == "1" && form.Get("command") == "" {
			s.log.Debug("answered Slack's SSL check")
			w.WriteHeader(http.StatusOK)
			return
		}
		next.ServeHTTP(w, r)
	})
}
