package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPlanDoc(t *testing.T) {
	path := writePlan(t, reviewedPlan)
	db := confirmedDB(t, path)
	out := filepath.Join(t.TempDir(), "plan.html")

	code, stdout, stderr := runPlan(t, "doc", "--db", db, "--out", out, path)
	if code != 0 || stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if want := "plan doc: wrote " + out + " (1 scenario)\n"; stderr != want {
		t.Errorf("stderr %q, want %q", stderr, want)
	}
	html, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"<!doctype html>", "Contacts last confirmed 2026-11-20 09:14 CET by Alice Berg",
		`id="scenario-outage"`, "<svg", "Worst case 10m",
	} {
		if !strings.Contains(string(html), want) {
			t.Errorf("%s lacks %q", out, want)
		}
	}

	code, md, stderr := runPlan(t, "doc", "--format", "markdown", examplePlan)
	if code != 0 {
		t.Fatalf("markdown: exit %d, stderr %q", code, stderr)
	}
	if n := strings.Count(md, "\n## Scenario: "); n != 12 {
		t.Errorf("markdown of the example plan has %d scenario sections, want 12", n)
	}
	if n := strings.Count(md, "```mermaid\nflowchart"); n != 13 {
		t.Errorf("markdown has %d Mermaid charts, want 13 (12 scenarios and the dependencies)", n)
	}
}

// TestPlanDocOutMarkdown: --out plan.md writes Markdown unless --format
// says otherwise.
func TestPlanDocOutMarkdown(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--out", filepath.Join(dir, "plan.md")}, "# "},
		{[]string{"--out", filepath.Join(dir, "book.MD"), "--format", "html"}, "<!doctype html>"},
		{[]string{"--out", filepath.Join(dir, "plan.html")}, "<!doctype html>"},
	} {
		if code, _, stderr := runPlan(t, append(append([]string{"doc"}, tc.args...), examplePlan)...); code != 0 {
			t.Fatalf("%v: exit %d, %s", tc.args, code, stderr)
		}
		got, err := os.ReadFile(tc.args[1])
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(got), tc.want) {
			t.Errorf("%v wrote %.40q, want it to start with %q", tc.args, got, tc.want)
		}
	}
}

func TestPlanDocRefuses(t *testing.T) {
	out := filepath.Join(t.TempDir(), "plan.html")
	for _, tc := range []struct {
		name string
		args []string
		code int
		says string
	}{
		{"bad format", []string{"doc", "--format", "pdf", examplePlan}, 2, `--format "pdf": want html or markdown`},
		{"two files", []string{"doc", examplePlan, examplePlan}, 2, "one plan file at a time"},
		{"missing file", []string{"doc", filepath.Join(t.TempDir(), "none.yaml")}, 2, "none.yaml"},
		{"plan with errors", []string{"doc", "--out", out, "testdata/bad-plan.yaml"}, 1, "fix them first"},
		{"no such directory", []string{"doc", "--out", filepath.Join(filepath.Dir(out), "nodir", "plan.html"), examplePlan}, 1,
			"plan doc: write " + filepath.Join(filepath.Dir(out), "nodir", "plan.html") + ": the directory " + filepath.Join(filepath.Dir(out), "nodir") + " does not exist\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runPlan(t, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.says) || stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d saying %q", code, stdout, stderr, tc.code, tc.says)
			}
		})
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("a plan with errors wrote %s", out)
	}
}

// TestPlanDocStdin checks "drbot plan doc -" with the real binary: the
// plan comes on stdin, as with "plan check -", and "--out -" is standard
// output, not a file named "-".
func TestPlanDocStdin(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src, err := os.ReadFile(examplePlan)
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runPlanStdin(t, dir, string(src), "doc", "--format", "markdown", "-")
	if code != 0 || stderr != "" || !strings.HasPrefix(stdout, "# ") || strings.Count(stdout, "\n## Scenario: ") != 12 {
		t.Errorf("markdown from stdin: exit %d, stderr %q, stdout %.80q", code, stderr, stdout)
	}
	code, stdout, stderr = runPlanStdin(t, dir, string(src), "doc", "--out", "-", "-")
	if code != 0 || stderr != "" || !strings.HasPrefix(stdout, "<!doctype html>") {
		t.Errorf("--out - from stdin: exit %d, stderr %q, stdout %.80q", code, stderr, stdout)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("plan doc wrote %s into its directory, want nothing", entries[0].Name())
	}
	bad, err := os.ReadFile("testdata/bad-plan.yaml")
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runPlanStdin(t, dir, string(bad), "doc", "-")
	if code != 1 || stdout != "" || !strings.HasPrefix(stderr, "stdin:14:") || !strings.Contains(stderr, `plan doc: stdin has 2 errors: fix them first ("drbot plan check -" lists them all)`) {
		t.Errorf("bad plan from stdin: exit %d, stdout %.80q, stderr %q", code, stdout, stderr)
	}
}
