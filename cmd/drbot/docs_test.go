package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drbot-dev/drbot/incident"
	"gopkg.in/yaml.v3"
)

// docBlock is one fenced code block of a Markdown file.
type docBlock struct {
	file   string // path relative to the repository
	line   int    // line of the opening fence, 1-based
	lang   string // the fence's info string: yaml, sh, …
	text   string
	notRun string // the reason given by a <!-- not run: REASON --> line just before the fence
	indent string // the fence's own indentation (a block inside a list item), taken off every line
}

// repoDocs returns README.md and every docs/*.md of the repository.
func repoDocs(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	files = append([]string{"../../README.md"}, files...)
	if len(files) < 5 {
		t.Fatalf("found %d documentation files, want README.md and docs/*.md", len(files))
	}
	return files
}

// docBlocks reads the fenced code blocks of a Markdown file.
func docBlocks(t *testing.T, path string) []docBlock {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rel := strings.TrimPrefix(path, "../../")
	var out []docBlock
	var cur *docBlock
	var body strings.Builder
	lastText := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "```") {
			if cur == nil {
				cur = &docBlock{file: rel, line: n, lang: strings.TrimSpace(strings.TrimPrefix(trimmed, "```")),
					indent: line[:len(line)-len(strings.TrimLeft(line, " "))]}
				if r, ok := strings.CutPrefix(lastText, "<!-- not run:"); ok {
					cur.notRun = strings.TrimSpace(strings.TrimSuffix(r, "-->"))
				}
				body.Reset()
				continue
			}
			cur.text = body.String()
			out = append(out, *cur)
			cur = nil
			continue
		}
		if cur != nil {
			body.WriteString(strings.TrimPrefix(line, cur.indent))
			body.WriteString("\n")
			continue
		}
		if trimmed != "" {
			lastText = trimmed
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur != nil {
		t.Fatalf("%s:%d: code block never closed", rel, cur.line)
	}
	return out
}

// TestDocsPlansPassCheck: every plan shown in the README and docs/ passes
// `drbot plan check`: a whole plan (a yaml block that starts with
// "version: 1") as it is, and a part of one (a yaml block whose keys are
// all keys of a plan, such as paging: or alerts:) laid over
// examples/plan.yaml.
func TestDocsPlansPassCheck(t *testing.T) {
	plans := 0
	for _, path := range repoDocs(t) {
		for _, b := range docBlocks(t, path) {
			if b.lang != "yaml" {
				continue
			}
			text, ok := planOf(t, b.text)
			if !ok {
				continue
			}
			plans++
			file := filepath.Join(t.TempDir(), "plan.yaml")
			if err := os.WriteFile(file, text, 0o600); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			if code := Main(context.Background(), []string{"plan", "check", file}, &stdout, &stderr); code != 0 {
				t.Errorf("%s:%d: the plan shown there fails `drbot plan check` (exit %d):\n%s%s", b.file, b.line, code, stdout.String(), stderr.String())
			}
		}
	}
	if plans == 0 {
		t.Fatal("no plan found in the documentation: the test reads nothing")
	}
}

// TestDocsCommandsRun runs every command line shown in a sh block of the README
// and docs/ with the real binary, offline, in a scratch directory that has the
// repository's examples/: each must exit 0. A block that cannot run offline
// (it needs Slack, Docker or a server) is marked with a line
// <!-- not run: REASON --> just before it.
func TestDocsCommandsRun(t *testing.T) {
	bin := drbotBinary(t)
	examples, err := filepath.Abs("../../examples")
	if err != nil {
		t.Fatal(err)
	}
	pathEnv := filepath.Dir(bin) + string(os.PathListSeparator) + os.Getenv("PATH")
	ran := 0
	for _, path := range repoDocs(t) {
		for _, b := range docBlocks(t, path) {
			if b.lang != "sh" {
				continue
			}
			if b.notRun != "" {
				continue
			}
			for _, cmdline := range shellLines(b.text) {
				ran++
				runDocCommand(t, b, cmdline, examples, pathEnv)
			}
		}
	}
	if ran == 0 {
		t.Fatal("no command found in the documentation: the test runs nothing")
	}
}

// shellLines joins backslash continuations and drops blank and comment lines.
func shellLines(text string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(text, "\n") {
		if s, ok := strings.CutSuffix(line, "\\"); ok {
			cur.WriteString(s)
			cur.WriteString(" ")
			continue
		}
		cur.WriteString(line)
		full := strings.TrimSpace(cur.String())
		cur.Reset()
		if full == "" || strings.HasPrefix(full, "#") {
			continue
		}
		out = append(out, full)
	}
	return out
}

// runDocCommand runs one documented command line with `go run ./cmd/drbot`
// replaced by the binary already built, with no standard input.
func runDocCommand(t *testing.T, b docBlock, cmdline, examples, pathEnv string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.Symlink(examples, filepath.Join(dir, "examples")); err != nil {
		t.Fatal(err)
	}
	home := dir
	line := strings.ReplaceAll(cmdline, "go run ./cmd/drbot ", "drbot ")
	if strings.Contains(line, "go run ./") {
		dir = filepath.Dir(examples) // another program of the repository: run it from the root
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", line)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+pathEnv, "HOME="+home)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("%s:%d: `%s` failed: %v\n%s", b.file, b.line, cmdline, err, tail(out, 2000))
	}
}

func tail(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return fmt.Sprintf("…%s", b[len(b)-n:])
}

// planKeys are the top-level keys of a plan (docs/plan.md).
var planKeys = []string{"version", "name", "timezone", "contacts", "roles", "paging", "services",
	"scenarios", "review", "drills", "alerts", "alert_channel"}

// planOf returns the plan a yaml block shows: the block itself when it is a
// whole plan, the example plan with the block's sections laid over it when
// it is part of one (mappings merged key by key, anything else replaced),
// or ok false when the block is not a plan (an Alertmanager configuration).
func planOf(t *testing.T, block string) (plan []byte, ok bool) {
	t.Helper()
	if strings.HasPrefix(block, "version: 1") {
		return []byte(block), true
	}
	var part map[string]any
	if err := yaml.Unmarshal([]byte(block), &part); err != nil || len(part) == 0 {
		return nil, false
	}
	for k := range part {
		if !slices.Contains(planKeys, k) {
			return nil, false
		}
	}
	src, err := os.ReadFile("../../examples/plan.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var base map[string]any
	if err := yaml.Unmarshal(src, &base); err != nil {
		t.Fatal(err)
	}
	out, err := yaml.Marshal(overlay(base, part))
	if err != nil {
		t.Fatal(err)
	}
	return out, true
}

func overlay(base, part map[string]any) map[string]any {
	for k, v := range part {
		bm, bok := base[k].(map[string]any)
		pm, pok := v.(map[string]any)
		if bok && pok {
			base[k] = overlay(bm, pm)
			continue
		}
		base[k] = v
	}
	return base
}

// TestDocsScriptRunsHaveStart: examples/incident.script records the recovery
// point as a time of day (10:45) written for an incident declared at 11:00
// CET on 2026-11-21, so every documented run of it fixes the console's clock
// there with --start; without it the demo's postmortem says the RPO was
// missed by hours.
func TestDocsScriptRunsHaveStart(t *testing.T) {
	runs := 0
	for _, path := range repoDocs(t) {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		joined := strings.ReplaceAll(string(src), "\\\n", " ")
		for n, line := range strings.Split(joined, "\n") {
			if !strings.Contains(line, "--script examples/incident.script") {
				continue
			}
			runs++
			if !strings.Contains(line, "--start 2026-11-21T10:00:00Z") {
				t.Errorf("%s: a run of examples/incident.script without --start 2026-11-21T10:00:00Z (line %d of the file with continuations joined): %s",
					strings.TrimPrefix(path, "../../"), n+1, strings.TrimSpace(line))
			}
		}
	}
	if runs == 0 {
		t.Fatal("no documented run of examples/incident.script: the test reads nothing")
	}
}

// TestUsagesNameFilesThatExist: a --help that sends people to a document
// names a file of the repository (docs/http.md), not one they do not have.
func TestUsagesNameFilesThatExist(t *testing.T) {
	mention := regexp.MustCompile(`[\w./-]+\.md\b`)
	for _, usage := range []string{backupUsage, consoleUsage, healthcheckUsage, incidentsUsage, migrateUsage,
		planUsage, planDocUsage, postmortemUsage, serveUsage, statsUsage, webUsage} {
		for _, name := range mention.FindAllString(usage, -1) {
			if _, err := os.Stat(filepath.Join("../..", name)); err != nil {
				t.Errorf("the usage %q names %s, which is not a file of the repository (want a path such as docs/http.md)",
					strings.SplitN(usage, "\n", 2)[0], name)
			}
		}
	}
}

// TestHTTPDocNamesDetectionFields: docs/http.md's detection{...} names
// every key the postmortem JSON's detection may have.
func TestHTTPDocNamesDetectionFields(t *testing.T) {
	src, err := os.ReadFile("../../docs/http.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("`detection\\{([^`]*)\\}`").FindSubmatch(bytes.ReplaceAll(src, []byte("\n"), []byte(" ")))
	if m == nil {
		t.Fatal("docs/http.md has no `detection{...}`")
	}
	documented := regexp.MustCompile(`\w+`).FindAllString(string(m[1]), -1)
	typ := reflect.TypeFor[incident.PMDetection]()
	for i := range typ.NumField() {
		key, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		if !slices.Contains(documented, key) {
			t.Errorf("the postmortem JSON's detection has %q, which docs/http.md's detection{%s} does not name", key, m[1])
		}
	}
}
