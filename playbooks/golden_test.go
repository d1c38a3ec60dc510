package playbooks

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files and plan.schema.json")

// TestGolden parses every plan under testdata/{errors,warnings,good} and
// compares its diagnostics with the .golden file next to it. Each plan
// under errors/ shows one kind of error, each under warnings/ one kind of
// warning in an otherwise clean plan.
func TestGolden(t *testing.T) {
	for _, dir := range []string{"errors", "warnings", "good"} {
		files, err := filepath.Glob(filepath.Join("testdata", dir, "*.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if len(files) == 0 {
			t.Fatalf("no plans in testdata/%s", dir)
		}
		for _, file := range files {
			t.Run(strings.TrimPrefix(file, "testdata/"), func(t *testing.T) {
				data, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				p, ds := Parse(filepath.ToSlash(file), data)
				got := diagText(ds)
				golden := strings.TrimSuffix(file, ".yaml") + ".golden"
				if *update {
					if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test ./playbooks -update)", err)
				}
				if diff := cmp.Diff(got, string(want)); diff != "" {
					t.Errorf("diagnostics differ from %s (-got +want):\n%s", golden, diff)
				}
				if !slices.IsSortedFunc(ds, func(a, b Diagnostic) int {
					if a.Line != b.Line {
						return a.Line - b.Line
					}
					return a.Col - b.Col
				}) {
					t.Errorf("diagnostics are not sorted by position:\n%s", got)
				}
				switch dir {
				case "errors":
					if p != nil || !ds.HasErrors() {
						t.Errorf("got plan %v and errors %v, want no plan and errors", p != nil, ds.HasErrors())
					}
				case "warnings":
					if p == nil || ds.HasErrors() || len(ds.Warnings()) == 0 {
						t.Errorf("got plan %v, diagnostics:\n%s\nwant a plan, warnings and no error", p != nil, got)
					}
				case "good":
					if p == nil || len(ds) > 0 {
						t.Errorf("got plan %v, diagnostics:\n%s\nwant a plan and no diagnostic", p != nil, got)
					}
				}
			})
		}
	}
}

func diagText(ds Diagnostics) string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString(d.String())
		b.WriteByte('\n')
	}
	return b.String()
}
