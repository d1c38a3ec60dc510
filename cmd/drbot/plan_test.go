package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drbot-dev/drbot/playbooks"
)

// runPlan runs "drbot plan ARGS..." through Main.
func runPlan(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Main(context.Background(), append([]string{"plan"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

const examplePlan = "../../examples/plan.yaml"

// writePlan writes a plan into a temporary directory and returns its path.
func writePlan(t *testing.T, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "plan.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const smallPlan = `version: 1
contacts:
  alice: {name: Alice, slack: U0ALICE01}
  bob: {name: Bob, email: bob@example.com}
roles:
  commander: [alice, bob]
services:
  db: {rto: 1h, availability: 99.9%, depends_on: [disk]}
  disk: {availability: 99.99%}
scenarios:
  slow-db:
    title: Slow database
    service: db
    severity: sev2
    page: [commander]
    steps:
      - id: look
        do: Look.
        estimate: 30m
        ask: Is it the disk?
        answers: {"Yes": swap, "No": end}
      - {id: swap, do: Swap the disk., estimate: 45m}
  chat:
    title: Chat down
    severity: sev4
    page: [commander]
    steps:
      - {id: wait, do: Wait., estimate: 10m}
`

func TestPlanCheckText(t *testing.T) {
	path := writePlan(t, smallPlan)
	code, stdout, stderr := runPlan(t, "check", path)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	want := path + `:11:3: warning: scenario "slow-db": path look → swap takes 1h15m, RTO is 1h: shorten its steps (swap alone takes 45m), add a faster branch, or raise the rto of service "db"

SCENARIO  SERVICE  WORST CASE  RTO  STATUS       WORST PATH
slow-db   db       1h15m       1h   OVER by 15m  look → swap
chat      -        10m         -    no RTO       wait

SERVICE  OWN     COMPOSITE  DOWNTIME/MONTH  DOWNTIME/YEAR
db       99.9%   99.89%     47m31s          9h38m6s
disk     99.99%  99.99%     4m19s           52m34s

` + path + `: 0 errors, 1 warning
`
	if diff := cmp.Diff(stdout, want); diff != "" {
		t.Errorf("stdout (-got +want):\n%s", diff)
	}
}

func TestPlanCheckExample(t *testing.T) {
	code, stdout, stderr := runPlan(t, "check", examplePlan)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
	}
	for _, want := range []string{
		`examples/plan.yaml:82:3: warning: scenario "site-loss": path safety → assess`,
		"site-loss             warehouse      9h15m       8h   OVER by 1h15m",
		"db-corruption         payments-db    1h20m       2h   ok, 40m to spare    assess → restore → verify",
		"payments-db       99.95%  99.94%     25m55s          5h15m20s",
		"examples/plan.yaml: 0 errors, 1 warning\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	// --strict turns the warning into a failure, flags after FILE too.
	if code, _, _ := runPlan(t, "check", examplePlan, "--strict"); code != 1 {
		t.Errorf("--strict after FILE: exit %d, want 1", code)
	}
	if code, _, _ := runPlan(t, "check", "--strict", examplePlan); code != 1 {
		t.Errorf("--strict: exit %d, want 1", code)
	}
}

func TestPlanCheckErrors(t *testing.T) {
	path := writePlan(t, strings.Replace(smallPlan, "estimate: 30m", "estimte: 30m", 1)+"drills:\n  - {scenario: nope, schedule: \"@weekly\"}\n")
	code, stdout, stderr := runPlan(t, "check", path)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if stderr != "" {
		t.Errorf("stderr %q, want nothing: the diagnostics are the output", stderr)
	}
	want := path + `:19:9: unknown key "estimte" in step "look"; did you mean "estimate"?
` + path + `:30:16: undefined scenario "nope" in drill 1; defined: slow-db, chat
` + path + `: 2 errors, 0 warnings
`
	if diff := cmp.Diff(stdout, want); diff != "" {
		t.Errorf("stdout (-got +want):\n%s", diff)
	}
}

func TestPlanCheckJSON(t *testing.T) {
	code, stdout, stderr := runPlan(t, "check", "--format", "json", examplePlan)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var got struct {
		File        string `json:"file"`
		OK          bool   `json:"ok"`
		Errors      int    `json:"errors"`
		Warnings    int    `json:"warnings"`
		Diagnostics []struct {
			File     string `json:"file"`
			Line     int    `json:"line"`
			Col      int    `json:"col"`
			Severity string `json:"severity"`
			Message  string `json:"message"`
		} `json:"diagnostics"`
		Scenarios []struct {
			ID               string   `json:"id"`
			Title            string   `json:"title"`
			Service          string   `json:"service"`
			Severity         string   `json:"severity"`
			WorstCaseSeconds float64  `json:"worst_case_seconds"`
			WorstPath        []string `json:"worst_path"`
			RTOSeconds       float64  `json:"rto_seconds"`
			OverRTO          bool     `json:"over_rto"`
		} `json:"scenarios"`
		Services []struct {
			ID                    string   `json:"id"`
			Availability          *float64 `json:"availability"`
			CompositeAvailability float64  `json:"composite_availability"`
			DowntimeMonthSeconds  float64  `json:"downtime_per_month_seconds"`
			DowntimeYearSeconds   float64  `json:"downtime_per_year_seconds"`
		} `json:"services"`
	}
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields() // the test names every field of the contract
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("%v in:\n%s", err, stdout)
	}
	if !got.OK || got.Errors != 0 || got.Warnings != 1 || len(got.Diagnostics) != 1 {
		t.Errorf("ok %v, errors %d, warnings %d, %d diagnostics", got.OK, got.Errors, got.Warnings, len(got.Diagnostics))
	}
	if d := got.Diagnostics[0]; d.Line != 82 || d.Col != 3 || d.Severity != "warning" || d.File != examplePlan {
		t.Errorf("diagnostic %+v", d)
	}
	if len(got.Scenarios) != 12 {
		t.Fatalf("%d scenarios, want 12", len(got.Scenarios))
	}
	site := got.Scenarios[0]
	if site.ID != "site-loss" || !site.OverRTO || site.WorstCaseSeconds != 9*3600+15*60 || site.RTOSeconds != 8*3600 || len(site.WorstPath) != 7 {
		t.Errorf("site-loss %+v", site)
	}
	if db := got.Scenarios[2]; db.ID != "db-corruption" || db.OverRTO || !cmp.Equal(db.WorstPath, []string{"assess", "restore", "verify"}) {
		t.Errorf("db-corruption %+v", db)
	}
	if leak := got.Scenarios[9]; leak.ID != "data-leak" || leak.RTOSeconds != 0 || leak.Service != "" {
		t.Errorf("data-leak %+v", leak)
	}
	svc := got.Services[1]
	if svc.ID != "payments-db" || svc.Availability == nil || *svc.Availability != 0.9995 ||
		svc.DowntimeMonthSeconds != 25*60+55 || svc.DowntimeYearSeconds != 5*3600+15*60+20 {
		t.Errorf("payments-db %+v", svc)
	}

	// With errors: not ok, exit 1, no summary, still valid JSON.
	bad := writePlan(t, "version: 1\ncontacts: {}\n")
	code, stdout, _ = runPlan(t, "check", "--format=json", bad)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	var failed map[string]any
	if err := json.Unmarshal([]byte(stdout), &failed); err != nil {
		t.Fatal(err)
	}
	if failed["ok"] != false || failed["errors"].(float64) < 1 || len(failed["scenarios"].([]any)) != 0 {
		t.Errorf("got %v", failed)
	}
}

// TestPlanCheckPlanFlag: without FILE, --plan and then DRBOT_PLAN name it.
func TestPlanCheckPlanFlag(t *testing.T) {
	good := writePlan(t, smallPlan)
	bad := writePlan(t, "version: 2\n")
	if code, stdout, _ := runPlan(t, "check", "--plan", good); code != 0 || !strings.Contains(stdout, good+": 0 errors") {
		t.Errorf("--plan: exit %d\n%s", code, stdout)
	}
	t.Setenv("DRBOT_PLAN", bad)
	if code, stdout, _ := runPlan(t, "check"); code != 1 || !strings.Contains(stdout, bad+":1:10: version") {
		t.Errorf("DRBOT_PLAN: exit %d\n%s", code, stdout)
	}
	// FILE wins over both.
	if code, _, _ := runPlan(t, "check", "--plan", bad, good); code != 0 {
		t.Errorf("FILE over --plan: exit %d", code)
	}
}

func TestPlanUsage(t *testing.T) {
	good := writePlan(t, smallPlan)
	tests := []struct {
		name       string
		args       []string
		wantStderr string
	}{
		{"no subcommand", nil, "Usage: drbot plan check"},
		{"unknown subcommand", []string{"lint"}, `unknown subcommand "lint"`},
		{"two files", []string{"check", good, good}, "one plan file at a time"},
		{"bad format", []string{"check", "--format", "xml", good}, `--format "xml": want text or json`},
		{"unknown flag", []string{"check", "--strcit", good}, "flag provided but not defined: -strcit"},
		{"missing file", []string{"check", filepath.Join(t.TempDir(), "nope.yaml")}, "no such file"},
		{"schema with an argument", []string{"schema", "x"}, `unexpected argument "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runPlan(t, tt.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("stderr %q, want it to contain %q", stderr, tt.wantStderr)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
		})
	}
}

func TestPlanSchema(t *testing.T) {
	code, stdout, stderr := runPlan(t, "schema")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if stdout != string(playbooks.Schema()) {
		t.Error("plan schema does not print playbooks.Schema()")
	}
	if !json.Valid([]byte(stdout)) {
		t.Error("not JSON")
	}
}

// CI that checks the plan need not have the webhook's secret: an unset
// ${NAME} is a warning in plan check (a failure with --strict), while
// serve refuses to start without it. A credential written in the plan is
// a warning too.
func TestPlanCheckWebhookEnv(t *testing.T) {
	t.Setenv("DRBOT_TEST_CHECK_KEY", "")
	os.Unsetenv("DRBOT_TEST_CHECK_KEY")
	withWebhook := func(url string) string {
		return writePlan(t, strings.Replace(smallPlan, "roles:\n", "paging:\n  webhook: \""+url+"\"\nroles:\n", 1))
	}
	const pd = "https://events.pagerduty.com/v2/enqueue?routing_key="
	path := withWebhook(pd + "${DRBOT_TEST_CHECK_KEY}")
	code, stdout, _ := runPlan(t, "check", path)
	if want := path + ":6:12: warning: webhook: environment variable DRBOT_TEST_CHECK_KEY is not set; set it in drbot's environment (drbot serve will not start without it)\n"; code != 0 || !strings.Contains(stdout, want) {
		t.Errorf("unset: exit %d, stdout:\n%s\nwant exit 0 and %q", code, stdout, want)
	}
	if code, _, _ := runPlan(t, "check", "--strict", path); code != 1 {
		t.Errorf("unset, --strict: exit %d, want 1", code)
	}

	t.Setenv("DRBOT_TEST_CHECK_KEY", "S3CRETKEY")
	code, stdout, _ = runPlan(t, "check", path)
	if code != 0 || strings.Contains(stdout, "webhook") || strings.Contains(stdout, "S3CRETKEY") {
		t.Errorf("set: exit %d, stdout:\n%s\nwant exit 0, nothing about the webhook", code, stdout)
	}

	path = withWebhook(pd + "0123456789abcdef0123456789abcdef")
	code, stdout, _ = runPlan(t, "check", path)
	if want := path + ":6:12: warning: paging.webhook contains a credential (routing_key=…); put it in an environment variable: routing_key=${DRBOT_PAGERDUTY_KEY}\n"; code != 0 || !strings.Contains(stdout, want) {
		t.Errorf("literal key: exit %d, stdout:\n%s\nwant exit 0 and %q", code, stdout, want)
	}
}

// plan check lists the alerts: rules: the scenario each declares, auto or
// ask (in which channel), and its matchers as Alertmanager writes them.
func TestPlanCheckAlertRules(t *testing.T) {
	code, stdout, stderr := runPlan(t, "check", "../../playbooks/testdata/good/alerts.yaml")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	want := `ALERT RULE   SCENARIO      DECLARE             MATCHERS
1 (line 15)  warehouse-db  auto                {alertname="WarehouseDBDown",severity=~"critical|page"}
2 (line 18)  warehouse-db  ask in #ops-alerts  {alertname="WarehouseDBDown"}
3 (line 20)  warehouse-db  ask in #ops-alerts  {alertname="WarehouseReplicaLag"}
`
	if !strings.Contains(stdout, want) {
		t.Errorf("stdout lacks the alert rules:\n%s\nwant:\n%s", stdout, want)
	}
}

// TestPlanCheckStdin checks "drbot plan check -" with the real binary: the
// plan comes on stdin (an editor or a hook piping its buffer) and the
// diagnostics say "stdin:LINE:COL".
func TestPlanCheckStdin(t *testing.T) {
	t.Parallel()
	run := func(src string, args ...string) (int, string, string) {
		return runPlanStdin(t, t.TempDir(), src, append([]string{"check"}, args...)...)
	}
	code, stdout, stderr := run(smallPlan, "-")
	if code != 0 || stderr != "" || !strings.HasPrefix(stdout, "stdin:11:3: warning:") || !strings.HasSuffix(stdout, "stdin: 0 errors, 1 warning\n") {
		t.Errorf("valid plan on stdin: exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
	}
	code, stdout, _ = run(strings.Replace(smallPlan, "estimate: 30m", "estimte: 30m", 1), "--format", "json", "-")
	if code != 1 || !strings.Contains(stdout, `"file": "stdin"`) || !strings.Contains(stdout, `did you mean \"estimate\"?`) {
		t.Errorf("bad plan on stdin: exit %d, stdout:\n%s", code, stdout)
	}
}

// TestPlanCheckServiceWithoutAvailability: a service whose chain sets no
// availability is shown as unknown, "-" and null, not as 100% with no
// downtime.
func TestPlanCheckServiceWithoutAvailability(t *testing.T) {
	path := writePlan(t, strings.Replace(smallPlan, "services:\n", "services:\n  api: {rto: 1h}\n", 1))
	code, stdout, _ := runPlan(t, "check", path)
	if code != 0 || !strings.Contains(stdout, "\napi      -       -          -               -\n") {
		t.Errorf("exit %d, want api with - in every column:\n%s", code, stdout)
	}
	_, js, _ := runPlan(t, "check", "--format", "json", path)
	want := `"id": "api",
      "availability": null,
      "composite_availability": null,
      "downtime_per_month_seconds": null,
      "downtime_per_year_seconds": null`
	if !strings.Contains(js, want) {
		t.Errorf("JSON lacks\n%s\n%s", want, js)
	}
}

// runPlanStdin runs the real binary's "drbot plan ARGS..." in dir with src
// on its standard input.
func runPlanStdin(t *testing.T, dir, src string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(drbotBinary(t), append([]string{"plan"}, args...)...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(src)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
}

// TestPlanCheckSyntaxCharacters: the YAML errors that yaml.v3 reports at
// no line (an alias of no anchor, a NUL byte, bytes that are not UTF-8) or
// at the line a "…" began (a \ that starts no escape) come out of plan
// check at their own line and column, with the fix, alone.
func TestPlanCheckSyntaxCharacters(t *testing.T) {
	for _, tc := range []struct{ old, new, want string }{
		{"  commander: [alice, bob]", "  commander: *nope",
			`:6:14: YAML syntax: *nope refers to no anchor &nope above it: define &nope before it, or quote the text if * was meant literally`},
		{"        do: Look.", `        do: "grep -E 'a\d+' /var/log"`,
			`:18:24: YAML syntax: inside "…" a \ starts an escape (\n, \t, \", \\): write \\ for a backslash (C:\\path, a\\d+), or quote the text with ' instead, where \ is just a character`},
		{"    title: Chat down", "    title: Chat\x00down",
			`:24:16: YAML syntax: remove the control character (byte 0x00) at this column, just after "title: Chat"; a plan is text`},
		{"    title: Chat down", "    title: Chat d\xf6wn",
			`:24:18: YAML syntax: the file is not UTF-8 text (byte 0xF6): save it as UTF-8`},
	} {
		path := writePlan(t, strings.Replace(smallPlan, tc.old, tc.new, 1))
		code, stdout, _ := runPlan(t, "check", path)
		if want := path + tc.want + "\n" + path + ": 1 error, 0 warnings\n"; code != 1 || stdout != want {
			t.Errorf("%q: exit %d, stdout:\n%s\nwant exit 1 and:\n%s", tc.new, code, stdout, want)
		}
	}
}
