package plandoc_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drbot-dev/drbot/plandoc"
	"github.com/drbot-dev/drbot/playbooks"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const secret = "R0UT1NGK3Y5ECRET"

// testBook lays out testdata/book.yaml with its webhook's secret set and
// a fixed clock.
func testBook(t *testing.T, file string) (*playbooks.Plan, *plandoc.Book) {
	t.Helper()
	plan, diags, err := playbooks.LoadWith(file, playbooks.Options{LookupEnv: func(name string) (string, bool) {
		return secret, name == "PD_KEY"
	}})
	if err != nil || diags.HasErrors() {
		t.Fatalf("load %s: %v %v", file, err, diags)
	}
	b, err := plandoc.New(context.Background(), plan, plandoc.Options{
		Diagnostics: diags,
		FileDate:    time.Date(2026, 11, 2, 8, 14, 0, 0, time.UTC),
		Contacts:    "Contacts last confirmed 2026-11-02 09:14 CET by Alice Berg (U0ALICE01)",
		Now:         time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC),
	})
	if err != nil {
		t.Fatal(err)
	}
	return plan, b
}

func TestMarkdownGolden(t *testing.T) {
	_, b := testBook(t, "testdata/book.yaml")
	var buf bytes.Buffer
	if err := b.WriteMarkdown(&buf); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "book.md")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if d := cmp.Diff(string(want), buf.String()); d != "" {
		t.Errorf("markdown differs from %s (-want +got; -update rewrites it):\n%s", golden, d)
	}
}

func TestBookFigures(t *testing.T) {
	_, b := testBook(t, "testdata/book.yaml")
	sc := b.Scenarios[0]
	if got, want := strings.Join(sc.WorstPath, " "), "assess restore verify"; got != want {
		t.Errorf("worst path %q, want %q", got, want)
	}
	if sc.Worst != "1h20m" || sc.Verdict != "40m to spare" || sc.Over {
		t.Errorf("worst %s, verdict %q, over %v; want 1h20m, 40m to spare, false", sc.Worst, sc.Verdict, sc.Over)
	}
	if b.Scenarios[1].Verdict != "no RTO set" {
		t.Errorf("store-slow verdict %q, want no RTO set", b.Scenarios[1].Verdict)
	}
	// The one warning of the plan (backup_interval 1h over rpo 15m) is in
	// the service of db-corruption, so it is shown there, and in the
	// findings; store-slow has none.
	if len(sc.Warnings) != 1 || !strings.Contains(sc.Warnings[0], "backup_interval 1h is longer than rpo 15m") {
		t.Errorf("db-corruption warnings %q, want the backup_interval one", sc.Warnings)
	}
	if len(b.Scenarios[1].Warnings) != 0 {
		t.Errorf("store-slow warnings %q, want none", b.Scenarios[1].Warnings)
	}
	if len(b.Findings) != 1 {
		t.Errorf("findings %q, want 1", b.Findings)
	}
	svc := b.Services[0]
	if svc.Composite != "99.94%" || svc.DowntimeMonth != "25m55s" || svc.DowntimeYear != "5h15m20s" {
		t.Errorf("payments-db %+v: want composite 99.94%%, 25m55s a month, 5h15m20s a year", svc)
	}
	if got, want := b.Review.Next, "Fri 2027-01-01 09:00 CET"; got != want {
		t.Errorf("next review %q, want %q", got, want)
	}
	if got, want := b.Drills[0].Next, "Wed 2026-12-02 10:00 CET"; got != want {
		t.Errorf("next drill %q, want %q", got, want)
	}
}

func TestHTMLSelfContainedAndEscaped(t *testing.T) {
	_, b := testBook(t, "testdata/book.yaml")
	var buf bytes.Buffer
	if err := b.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	// Graphviz's SVG names its XML namespaces by URL; nothing else may
	// point outside the file.
	html := strings.NewReplacer(`xmlns="http://www.w3.org/2000/svg"`, "", `xmlns:xlink="http://www.w3.org/1999/xlink"`, "").Replace(buf.String())
	for _, bad := range []string{secret, "<script", "<b>shop", "src=", "@import", "url(", "http://", "https://", "<!--", "<?xml"} {
		if strings.Contains(html, bad) {
			t.Errorf("HTML contains %q", bad)
		}
	}
	for _, want := range []string{
		"Test &lt;b&gt;shop&lt;/b&gt; plan",
		"PagerDuty Events v2 at events.pagerduty.com",
		`id="scenario-db-corruption"`, `id="scenario-store-slow"`,
		// Graphviz's SVG, inline, with our ids and classes on the nodes.
		`<svg`, `id="flow&#45;db&#45;corruption&#45;restore"`, `class="node step approval worst"`, `class="node step decision worst"`,
		// The answer with markup is a branch label, escaped by Graphviz.
		"No &lt;script&gt;alert(1)&lt;/script&gt;",
		"needs approval: approver",
		"Worst case 1h20m against an RTO of 2h: 40m to spare",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
}
