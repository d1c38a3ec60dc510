package fakeslack

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The HTTP side: routing, the token check, injected failures, rate limits,
// and the dispatch to one handler per Web API method.

// answer is what a method handler returns: a JSON body, or a Slack error.
type answer struct {
	fields map[string]any
	code   string // Slack error; fields may add to it (e.g. "errors")
}

func ok(fields map[string]any) answer { return answer{fields: fields} }

func fail(code string) answer { return answer{code: code} }

// writable is the error code of a write Slack refuses to ch: a missing
// conversation (nil), or an archived one; "" when it may be written to.
func writable(ch *channel) string {
	switch {
	case ch == nil:
		return "channel_not_found"
	case ch.Archived:
		return "is_archived"
	}
	return ""
}

type request struct {
	method string
	params url.Values
	body   []byte
	token  string
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	latency := s.latency
	s.mu.Unlock()
	if latency > 0 {
		select {
		case <-time.After(latency):
		case <-r.Context().Done():
			return
		}
	}
	switch {
	case strings.HasPrefix(r.URL.Path, "/api/"):
		s.serveAPI(w, r, strings.TrimPrefix(r.URL.Path, "/api/"))
	case strings.HasPrefix(r.URL.Path, "/response/"):
		s.serveHook(w, r, MethodResponseURL, strings.TrimPrefix(r.URL.Path, "/response/"))
	case strings.HasPrefix(r.URL.Path, "/webhook/"):
		s.serveHook(w, r, MethodWebhook, strings.TrimPrefix(r.URL.Path, "/webhook/"))
	case r.URL.Path == "/socket":
		s.serveSocket(w, r)
	default:
		http.NotFound(w, r)
	}
}

// serveHook records a POST to a response_url or a webhook.
func (s *Server) serveHook(w http.ResponseWriter, r *http.Request, method, id string) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || r.Method != http.MethodPost {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	id, _ = url.PathUnescape(id)
	call := Call{Method: method, ID: id, Body: body, Params: url.Values{}}
	s.mu.Lock()
	call.At = s.now()
	if f := s.takeFailureLocked(method); f != nil {
		call.Status = f.status
		s.recordAndUnlock(call)
		writeFailure(w, f)
		return
	}
	if method == MethodResponseURL && !s.noValidation {
		if code := checkResponse(body); code != "" {
			call.Status, call.Error = http.StatusBadRequest, code
			s.recordAndUnlock(call)
			http.Error(w, code, http.StatusBadRequest)
			return
		}
	}
	call.Status = http.StatusOK
	s.recordAndUnlock(call)
	_, _ = io.WriteString(w, "ok")
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, method string) {
	req, err := readRequest(r, method)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	call := Call{Method: method, Params: req.params, Body: req.body}

	s.mu.Lock()
	call.At = s.now()
	if f := s.takeFailureLocked(method); f != nil {
		if f.code == "" {
			call.Status = f.status
			s.recordAndUnlock(call)
			writeFailure(w, f)
			return
		}
		call.Status, call.Error = http.StatusOK, f.code
		s.recordAndUnlock(call)
		writeJSON(w, map[string]any{"ok": false, "error": f.code})
		return
	}
	var a answer
	switch {
	case method == "apps.connections.open":
		if req.token != s.appToken {
			a = fail("invalid_auth")
		} else {
			a = ok(map[string]any{"url": "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/socket"})
		}
	case req.token != s.token:
		if req.token == "" {
			a = fail("not_authed")
		} else {
			a = fail("invalid_auth")
		}
	default:
		if retry, limited := s.rateLimitedLocked(method, req.params); limited {
			call.Status = http.StatusTooManyRequests
			s.recordAndUnlock(call)
			writeFailure(w, &failure{status: http.StatusTooManyRequests, retryAfter: retry})
			return
		}
		a = s.dispatchLocked(method, req)
	}
	call.Status, call.Error = http.StatusOK, a.code
	s.recordAndUnlock(call)

	body := map[string]any{"ok": a.code == ""}
	for k, v := range a.fields {
		body[k] = v
	}
	if a.code != "" {
		body["error"] = a.code
	}
	writeJSON(w, body)
}

func readRequest(r *http.Request, method string) (*request, error) {
	req := &request{method: method}
	if auth := r.Header.Get("Authorization"); strings.HasPrefix(auth, "Bearer ") {
		req.token = strings.TrimPrefix(auth, "Bearer ")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	params := r.URL.Query()
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("parse form: %w", err)
		}
		for k, v := range form {
			params[k] = append(params[k], v...)
		}
	case "application/json":
		req.body = body
	}
	if t := params.Get("token"); t != "" {
		req.token = t
	}
	params.Del("token")
	req.params = params
	return req, nil
}

func (s *Server) takeFailureLocked(method string) *failure {
	q := s.fail[method]
	if len(q) == 0 {
		return nil
	}
	f := q[0]
	f.n--
	if f.n <= 0 {
		s.fail[method] = q[1:]
	}
	return f
}

func writeFailure(w http.ResponseWriter, f *failure) {
	if f.status == http.StatusTooManyRequests && f.retryAfter >= 0 {
		w.Header().Set("Retry-After", strconv.Itoa(f.retryAfter))
	}
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(f.status)
	_, _ = io.WriteString(w, "<html><body>fakeslack failure</body></html>")
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

// dispatchLocked answers one Web API method; each has its own file, named
// after the method (chat.postMessage in chatpostmessage.go).
func (s *Server) dispatchLocked(method string, req *request) answer {
	p := req.params
	switch method {
	case "auth.test":
		return s.authTestLocked()
	case "conversations.create":
		return s.conversationsCreateLocked(p)
	case "conversations.list":
		return s.conversationsListLocked(p)
	case "conversations.invite":
		return s.conversationsInviteLocked(p)
	case "conversations.setTopic":
		return s.conversationsSetTopicLocked(p)
	case "conversations.open":
		return s.conversationsOpenLocked(p)
	case "conversations.history":
		return s.conversationsHistoryLocked(p)
	case "chat.postMessage":
		return s.chatPostMessageLocked(p)
	case "chat.update":
		return s.chatUpdateLocked(p)
	case "chat.postEphemeral":
		return s.chatPostEphemeralLocked(p)
	case "pins.add":
		return s.pinsAddLocked(p)
	case "users.lookupByEmail":
		return s.usersLookupByEmailLocked(p)
	case "users.info":
		return s.usersInfoLocked(p)
	case "views.open":
		return s.viewsOpenLocked(req.body)
	}
	return fail("unknown_method")
}
