package playbooks

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// FuzzParse: Parse never panics, a plan comes back exactly when there is
// no error, and a plan that comes back is whole: every reference resolves
// and Check runs on it.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.yaml")
	files = append(files, "testdata/specexample.yaml", "../examples/plan.yaml")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, ds := Parse("fuzz.yaml", data)
		if (p == nil) != ds.HasErrors() {
			t.Fatalf("plan %v with errors %v", p != nil, ds.HasErrors())
		}
		for i, d := range ds {
			if d.Line < 1 || d.Col < 1 || d.Message == "" || d.File != "fuzz.yaml" {
				t.Errorf("bad diagnostic %+v", d)
			}
			if i > 0 && (d.Line < ds[i-1].Line || d.Line == ds[i-1].Line && d.Col < ds[i-1].Col) {
				t.Errorf("diagnostics out of order: %v before %v", ds[i-1], d)
			}
		}
		if p == nil {
			return
		}
		checkWhole(t, p)
		r := Check(p)
		if len(r.Scenarios) != len(p.ScenarioOrder) || len(r.Services) != len(p.ServiceOrder) {
			t.Errorf("report has %d scenarios and %d services, plan %d and %d",
				len(r.Scenarios), len(r.Services), len(p.ScenarioOrder), len(p.ServiceOrder))
		}
	})
}

// checkWhole fails unless every id the plan refers to is defined.
func checkWhole(t *testing.T, p *Plan) {
	t.Helper()
	role := func(r, where string) {
		if _, ok := p.Roles[r]; !ok {
			t.Errorf("%s: undefined role %q", where, r)
		}
	}
	for r, ids := range p.Roles {
		if len(ids) == 0 {
			t.Errorf("role %s is empty", r)
		}
		for _, id := range ids {
			if p.Contacts[id] == nil {
				t.Errorf("role %s: undefined contact %q", r, id)
			}
		}
	}
	for _, c := range p.Contacts {
		if c.Slack == "" && c.Email == "" {
			t.Errorf("contact %s cannot be reached", c.ID)
		}
	}
	for _, s := range p.Services {
		for _, d := range s.DependsOn {
			if p.Services[d] == nil {
				t.Errorf("service %s: undefined dependency %q", s.ID, d)
			}
		}
	}
	if len(p.Scenarios) == 0 || len(p.Scenarios) != len(p.ScenarioOrder) {
		t.Errorf("%d scenarios, %d in order", len(p.Scenarios), len(p.ScenarioOrder))
	}
	for _, sc := range p.Scenarios {
		if sc.Service != "" && p.Services[sc.Service] == nil {
			t.Errorf("scenario %s: undefined service %q", sc.ID, sc.Service)
		}
		for _, r := range sc.Page {
			role(r, "scenario "+sc.ID)
		}
		if len(sc.Steps) == 0 {
			t.Errorf("scenario %s has no steps", sc.ID)
		}
		for _, st := range sc.Steps {
			for _, next := range sc.Successors(st.ID) {
				if next != End && sc.Step(next) == nil {
					t.Errorf("scenario %s step %s: undefined next %q", sc.ID, st.ID, next)
				}
			}
			if st.Owner != "" {
				role(st.Owner, "step "+st.ID)
			}
			if st.Approval != "" {
				role(st.Approval, "step "+st.ID)
			}
		}
		if !slices.IsSorted(sc.RTOAlerts) {
			t.Errorf("scenario %s: rto_alerts not sorted: %v", sc.ID, sc.RTOAlerts)
		}
	}
	for _, d := range p.Drills {
		if p.Scenarios[d.Scenario] == nil {
			t.Errorf("drill of undefined scenario %q", d.Scenario)
		}
	}
	if p.Review != nil {
		for _, o := range p.Review.Owners {
			if p.Contacts[o] == nil {
				t.Errorf("review owner %q undefined", o)
			}
		}
	}
}
