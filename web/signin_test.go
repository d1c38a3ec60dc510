package web_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/incident/incidenttest"
	"github.com/drbot-dev/drbot/playbooks"
	"github.com/drbot-dev/drbot/web"
)

var linkRe = regexp.MustCompile(`<(https://drbot\.example\.com/signin\?token=([A-Za-z0-9_-]+)(?:&amp;next=([^|]+))?)\|`)

// signInLink types /incident web as user in channel and returns the
// token and next of the link drbot answered with.
func (s *site) signInLink(user, channel string) (token, next string) {
	s.t.Helper()
	r := s.command(user, channel, "web")
	if r.Public {
		s.t.Errorf("/incident web answered in public: %q", r.Text)
	}
	m := linkRe.FindStringSubmatch(r.Text)
	if m == nil {
		s.t.Fatalf("/incident web answered %q: no sign-in link", r.Text)
	}
	return m[2], m[3]
}

func postSignin(t *testing.T, c *http.Client, base, token, next string, origin string) *http.Response {
	t.Helper()
	req, err := http.NewRequest("POST", base+"/signin", strings.NewReader(url.Values{"token": {token}, "next": {next}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestSignIn(t *testing.T) {
	s := newSite(t, true)
	c := client(t)

	// Without a session every page says how to sign in, and shows nothing.
	for _, p := range []string{"/", "/incidents/1", "/incidents/1/postmortem.json", "/plan", "/stats"} {
		code, body, _ := get(t, c, s.srv.URL+p)
		if code != http.StatusUnauthorized || !strings.Contains(body, "/incident web") || strings.Contains(body, "Corrupted") {
			t.Errorf("GET %s without a session: %d\n%s", p, code, body)
		}
	}

	// In incident 2's channel the link leads to its page. Opening it
	// shows a button; it does not use the link (a link preview must not).
	token, next := s.signInLink("U0BOB0001", s.chan2)
	if next != "/incidents/2" {
		t.Errorf("next %q, want /incidents/2", next)
	}
	code, body, _ := get(t, c, s.srv.URL+"/signin?token="+token+"&next="+next)
	if code != 200 || !strings.Contains(body, `<button type="submit">Sign in</button>`) {
		t.Fatalf("GET /signin: %d\n%s", code, body)
	}
	// Only the token's hash is in the database.
	if raw, err := os.ReadFile(s.db); err != nil || strings.Contains(string(raw), token) {
		t.Errorf("the database holds the token (read: %v)", err)
	}

	// A form from another site is refused.
	if resp := postSignin(t, c, s.srv.URL, token, next, "https://evil.example"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign-in from another origin: %d, want 403", resp.StatusCode)
	}
	resp := postSignin(t, c, s.srv.URL, token, next, s.srv.URL)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/incidents/2" {
		t.Fatalf("sign-in: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	cookie := resp.Cookies()[0]
	if cookie.Name != web.CookieName || !cookie.HttpOnly || !cookie.Secure || cookie.SameSite != http.SameSiteLaxMode || cookie.MaxAge != 12*3600 || cookie.Path != "/" {
		t.Errorf("session cookie %+v: want HttpOnly, Secure, SameSite=Lax, 12h, Path=/", cookie)
	}
	code, body, _ = get(t, c, s.srv.URL+"/incidents/2")
	if code != 200 || !strings.Contains(body, "Signed in as Bob Dahl") {
		t.Errorf("GET /incidents/2 signed in: %d", code)
	}

	// Each link works once, from any browser.
	c2 := client(t)
	if resp := postSignin(t, c2, s.srv.URL, token, "", ""); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a used link: %d, want 403", resp.StatusCode)
	}
	// A forged link, and a forged cookie, are refused.
	if resp := postSignin(t, c2, s.srv.URL, strings.Repeat("A", 43), "", ""); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a forged link: %d, want 403", resp.StatusCode)
	}
	req, _ := http.NewRequest("GET", s.srv.URL+"/", nil)
	req.AddCookie(&http.Cookie{Name: web.CookieName, Value: cookie.Value + "x"})
	if resp, err := c2.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a forged cookie: %v %v, want 401", resp.StatusCode, err)
	}
	// A link expires after 10 minutes.
	late, _ := s.signInLink("U0ALICE01", "CGENERAL")
	s.clock.Advance(10 * time.Minute)
	if resp := postSignin(t, c2, s.srv.URL, late, "", ""); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an expired link: %d, want 403", resp.StatusCode)
	}
	// Redirects stay on these pages.
	fresh, _ := s.signInLink("U0ALICE01", "CGENERAL")
	if resp := postSignin(t, c2, s.srv.URL, fresh, "//evil.example/x", ""); resp.Header.Get("Location") != "/" {
		t.Errorf("next //evil.example/x redirected to %q, want /", resp.Header.Get("Location"))
	}
	// The session lasts 12 hours.
	s.clock.Advance(12 * time.Hour)
	if code, _, _ := get(t, c, s.srv.URL+"/"); code != http.StatusUnauthorized {
		t.Errorf("a session of 12h10m: %d, want 401", code)
	}
}

// TestMessagesLinkToPages: with DRBOT_PUBLIC_URL, the pinned summary and
// the resolve summary link to the incident's page.
func TestMessagesLinkToPages(t *testing.T) {
	s := newSite(t, true)
	var pinned, resolved bool
	for _, m := range s.chat.Posts(s.chat.ChannelID("inc-1-db-corruption")) {
		if strings.HasPrefix(m.Text, "*Incident #1:") && strings.Contains(m.Context, "<"+publicURL+"/incidents/1|Incident page>") {
			pinned = true
		}
		if strings.Contains(m.Text, "resolved") && strings.Contains(m.Context, "<"+publicURL+"/incidents/1|incident page>") {
			resolved = true
		}
	}
	if !pinned || !resolved {
		t.Errorf("summary links to the page: %v; resolve summary: %v", pinned, resolved)
	}
}

// TestWebLinkOff: without DRBOT_PUBLIC_URL, /incident web says how to
// turn the pages on, and gives no link.
func TestWebLinkOff(t *testing.T) {
	plan, _, err := playbooks.Load("testdata/plan.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e, err := incident.New(incident.Config{Plan: plan, Store: incidenttest.NewMemStore(), Chat: incidenttest.NewFakeChat()})
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.Command(context.Background(), incident.CommandRequest{UserID: "U0ALICE01", ChannelID: "CGENERAL", Text: "web"})
	if incident.ErrorCode(err) != incident.EINVALID || !strings.Contains(err.Error(), "DRBOT_PUBLIC_URL") || r.Text != "" {
		t.Errorf("/incident web with the pages off: %q, %v", r.Text, err)
	}
}
