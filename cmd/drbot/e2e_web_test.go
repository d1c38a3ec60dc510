package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/drbot-dev/drbot/bot/fakeslack"
)

// webClient keeps cookies and shows redirects instead of following them.
func webClient(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func webGet(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServeWebPages runs drbot serve with DRBOT_PUBLIC_URL: the pages are
// behind a sign-in that /incident web in Slack gives, the pinned summary
// links to the incident's page, and the Slack endpoints work as before.
func TestServeWebPages(t *testing.T) {
	fs := newFakeWorkspace(t)
	srv := startServe(t, fs, t.TempDir(), "DRBOT_PUBLIC_URL=http://drbot.test/")
	c := webClient(t)

	if code, body := webGet(t, c, srv.base+"/"); code != http.StatusUnauthorized || !strings.Contains(body, "/incident web") {
		t.Fatalf("GET / without a session: %d\n%s", code, body)
	}
	if code, body := webGet(t, c, srv.base+"/healthz"); code != http.StatusOK {
		t.Errorf("GET /healthz: %d %s", code, body)
	}

	if status, _ := srv.command(alice, fakeslack.GeneralID, "declare db-corruption Replica lag", fs.ResponseURL("declare")); status != http.StatusOK {
		t.Fatalf("declare: %d", status)
	}
	ch := incidentChannel(t, fs, "inc-")
	summary := mustMessage(t, fs, ch.ID, "pinned summary", func(m fakeslack.Message) bool { return m.Pinned })
	if !strings.Contains(summary.AllText(), "http://drbot.test/incidents/1") {
		t.Errorf("the pinned summary does not link to the page: %s", summary.AllText())
	}

	status, answer := srv.command(bob, ch.ID, "web", fs.ResponseURL("web"))
	m := regexp.MustCompile(`http://drbot\.test/signin\?token=([A-Za-z0-9_-]+)&amp;next=(/incidents/1)`).FindStringSubmatch(answer)
	if status != http.StatusOK || m == nil {
		t.Fatalf("/incident web: %d %q", status, answer)
	}
	form := url.Values{"token": {m[1]}, "next": {m[2]}}
	resp, err := c.PostForm(srv.base+"/signin", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/incidents/1" {
		t.Fatalf("sign-in: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	code, body := webGet(t, c, srv.base+"/incidents/1")
	if code != http.StatusOK || !strings.Contains(body, "Replica lag") || !strings.Contains(body, "Signed in as Bob") {
		t.Errorf("GET /incidents/1 signed in: %d\n%s", code, body)
	}
	// The link was used: a second sign-in with it is refused.
	resp, err = webClient(t).PostForm(srv.base+"/signin", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("reusing the link: %d, want 403", resp.StatusCode)
	}
}

// TestWebCommand runs drbot web on a database a serve wrote: the pages
// with no sign-in, on loopback only.
func TestWebCommand(t *testing.T) {
	fs := newFakeWorkspace(t)
	dir := t.TempDir()
	srv := startServe(t, fs, dir)
	if status, _ := srv.command(alice, fakeslack.GeneralID, "declare db-corruption Replica lag", fs.ResponseURL("declare")); status != http.StatusOK {
		t.Fatalf("declare: %d", status)
	}
	incidentChannel(t, fs, "inc-")
	srv.stop()

	cmd := exec.Command(drbotBinary(t), "web", "--addr", "127.0.0.1:0", "--db", filepath.Join(dir, "drbot.db"), "--plan", filepath.Join(dir, "plan.yaml"))
	cmd.Env = serveEnv()
	base := startAndListen(t, cmd)
	c := webClient(t)
	for path, want := range map[string]string{"/": "#1 Corrupted payments database", "/incidents/1": "Replica lag", "/plan": `id="scenario-db-corruption"`, "/stats": "Per month"} {
		if code, body := webGet(t, c, base+path); code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("GET %s: %d, lacks %q", path, code, want)
		}
	}

	// A backup read where the plan file is not: the plan the incident
	// was declared with, kept in the database, stands in.
	cmd = exec.Command(drbotBinary(t), "web", "--addr", "127.0.0.1:0", "--db", filepath.Join(dir, "drbot.db"), "--plan", filepath.Join(dir, "none.yaml"))
	cmd.Env = serveEnv()
	base = startAndListen(t, cmd)
	if code, body := webGet(t, c, base+"/plan"); code != http.StatusOK || !strings.Contains(body, `id="scenario-db-corruption"`) {
		t.Errorf("GET /plan with no plan file: %d", code)
	}

	var out, errOut strings.Builder
	code := Main(context.Background(), []string{"web", "--addr", "0.0.0.0:8080", "--db", filepath.Join(dir, "drbot.db")}, &out, &errOut)
	if code != 2 || !strings.Contains(errOut.String(), "not a loopback address") {
		t.Errorf("drbot web on 0.0.0.0: exit %d, %q", code, errOut.String())
	}
}

// startAndListen starts cmd, waits for its "listening" log line and
// returns its base URL; it stops cmd when the test ends.
func startAndListen(t *testing.T, cmd *exec.Cmd) string {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "listening" {
				addrc <- rec.Addr
			}
		}
	}()
	select {
	case a := <-addrc:
		return "http://" + a
	case <-time.After(30 * time.Second):
		t.Fatal("drbot web did not say where it listens")
	}
	return ""
}

// TestServeBadPublicURL: a DRBOT_PUBLIC_URL that is not an http(s)
// address stops serve before it opens anything, saying what is wanted.
func TestServeBadPublicURL(t *testing.T) {
	for _, bad := range []string{"drbot.example.com", "ftp://drbot.example.com", "https://drbot.example.com/?x=1"} {
		t.Setenv("SLACK_BOT_TOKEN", fakeslack.BotToken)
		t.Setenv("SLACK_SIGNING_SECRET", "s")
		t.Setenv("DRBOT_PUBLIC_URL", bad)
		db := filepath.Join(t.TempDir(), "d.db")
		var out, errOut strings.Builder
		code := Main(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--plan", examplePlan, "--db", db}, &out, &errOut)
		if code != 2 || !strings.Contains(errOut.String(), "such as https://drbot.example.com") {
			t.Errorf("DRBOT_PUBLIC_URL=%s: exit %d, %q", bad, code, errOut.String())
		}
		if _, err := os.Stat(db); err == nil {
			t.Errorf("DRBOT_PUBLIC_URL=%s: serve created its database", bad)
		}
	}
}
