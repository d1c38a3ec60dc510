package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func get(t *testing.T, c *http.Client, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b), resp.Header
}

func TestPages(t *testing.T) {
	s := newSite(t, false)
	c := client(t)
	for _, tc := range []struct {
		path string
		code int
		has  []string
	}{
		{"/", 200, []string{
			`<a href="/incidents/2">#2 Corrupted payments database</a>`,
			// 50 minutes of a 2h RTO: 41%, under the first threshold.
			`class="countdown level-ok"`, `<strong class="elapsed">50m</strong>`, `<strong class="left">1h10m left</strong>`,
			`value="41"`, `low="50" high="90"`,
			// Declared 11:25 UTC; the restore started at 11:33 and its
			// estimate ends 12:33, then verify 10m: 12:43 UTC, 13:43 CET.
			`<strong class="finish">2026-11-21 13:43 CET</strong>`,
			`<a href="/incidents/1">Corrupted payments database</a>`, `<span class="ok">met</span> (2h)`,
		}},
		{"/incidents/2", 200, []string{`<rect class="actual"`, `class="mark deadline"`, `class="mark now"`, "next: verify", "Again"}},
		{"/incidents/1", 200, []string{"took 1h10m against an estimate of 1h", "Restored the 08:45 snapshot", `href="/incidents/1/postmortem.md"`,
			"Checksum errors &lt;script&gt;", "<h1>Postmortem of incident 1",
			// A note's "<timeout>" is text as typed, not HTML that the
			// Markdown renderer would drop.
			"Restored the 08:45 snapshot with --until &lt;timeout&gt; &amp; &lt;b&gt;no&lt;/b&gt; HTML [x](javascript:alert(1))",
			// 09:50 in Oslo is 08:50 UTC, 10 minutes before the declaration.
			"<dt>Recovery point</dt><dd>2026-11-21 09:50 CET; data lost 10m against an RPO of 15m (met)</dd>"}},
		{"/incidents/3", 404, []string{"There is no incident 3."}},
		{"/incidents/x", 404, []string{`&#34;x&#34; is not an incident number.`}},
		{"/plan", 200, []string{`id="scenario-db-corruption"`, "<svg", "Web test plan"}},
		{"/stats", 200, []string{"<th scope=\"row\">All incidents</th><td>2</td><td>1</td><td>2m</td><td>1h25m</td><td>100% of 1</td><td>100% of 1</td>", "#1 db-corruption", "took 1h25m of RTO 2h"}},
	} {
		code, body, h := get(t, c, s.srv.URL+tc.path)
		if code != tc.code {
			t.Errorf("GET %s: %d, want %d\n%s", tc.path, code, tc.code, body)
			continue
		}
		for _, want := range tc.has {
			if !strings.Contains(body, want) {
				t.Errorf("GET %s lacks %q", tc.path, want)
			}
		}
		if strings.Contains(body, "raw HTML omitted") {
			t.Errorf("GET %s dropped text people typed as raw HTML", tc.path)
		}
		if strings.Contains(body, "<script>alert") {
			t.Errorf("GET %s has the summary's markup unescaped", tc.path)
		}
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("GET %s: Content-Security-Policy %q", tc.path, csp)
		}
	}

	code, md, h := get(t, c, s.srv.URL+"/incidents/1/postmortem.md")
	if code != 200 || !strings.HasPrefix(md, "# Postmortem of incident 1") || !strings.Contains(h.Get("Content-Disposition"), "postmortem-1.md") {
		t.Errorf("postmortem.md: %d %q %q", code, h.Get("Content-Disposition"), md[:min(60, len(md))])
	}
	code, js, _ := get(t, c, s.srv.URL+"/incidents/1/postmortem.json")
	var pm struct {
		ID     int64 `json:"id"`
		RTOMet bool  `json:"rto_met"`
	}
	if err := json.Unmarshal([]byte(js), &pm); code != 200 || err != nil || pm.ID != 1 || !pm.RTOMet {
		t.Errorf("postmortem.json: %d %v %+v", code, err, pm)
	}

	// No page writes: anything but GET is refused.
	resp, err := c.Post(s.srv.URL+"/incidents/1", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /incidents/1: %d, want 405", resp.StatusCode)
	}
}
