package playbooks

import (
	"encoding/json"
	"os"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSchemaFile keeps the committed plan.schema.json, which editors load
// through the modeline of examples/plan.yaml, equal to Schema().
func TestSchemaFile(t *testing.T) {
	got := Schema()
	if *update {
		if err := os.WriteFile("plan.schema.json", got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("plan.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(got), string(want)); diff != "" {
		t.Errorf("plan.schema.json is stale; run go test ./playbooks -update (-Schema() +file):\n%s", diff)
	}
}

func TestSchemaShape(t *testing.T) {
	var s struct {
		Schema      string                     `json:"$schema"`
		Properties  map[string]json.RawMessage `json:"properties"`
		Required    []string                   `json:"required"`
		Definitions map[string]struct {
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"definitions"`
	}
	if err := json.Unmarshal(Schema(), &s); err != nil {
		t.Fatal(err)
	}
	if s.Schema != "http://json-schema.org/draft-07/schema#" {
		t.Errorf("$schema = %q", s.Schema)
	}
	keys := func(m map[string]json.RawMessage) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	sorted := func(s []string) []string { return slices.Sorted(slices.Values(s)) }
	for name, want := range map[string][]string{
		"contact": contactKeys, "service": serviceKeys, "scenario": scenarioKeys, "step": stepKeys, "drill": drillKeys, "alert": alertKeys,
	} {
		if got := keys(s.Definitions[name].Properties); !cmp.Equal(got, sorted(want)) {
			t.Errorf("definition %s has %v, want %v", name, got, sorted(want))
		}
	}
	if got := keys(s.Properties); !cmp.Equal(got, sorted(planKeys)) {
		t.Errorf("plan properties %v, want %v", got, sorted(planKeys))
	}
	if got, want := s.Required, []string{"version", "contacts", "roles", "scenarios"}; !cmp.Equal(got, want) {
		t.Errorf("required = %v, want %v", got, want)
	}
}
