package playbooks

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	// The zone database is built in, so a timezone: in the plan loads on a
	// scratch container image that has no /usr/share/zoneinfo.
	_ "time/tzdata"

	"gopkg.in/yaml.v3"
)

// The keys each object of the plan accepts, in the order docs/plan.md lists
// them. Schema describes the same keys; a test keeps the two in step.
var (
	planKeys     = []string{"version", "name", "timezone", "contacts", "roles", "paging", "services", "scenarios", "review", "drills", "alerts", "alert_channel"}
	contactKeys  = []string{"name", "slack", "email", "phone"}
	pagingKeys   = []string{"ack_timeout", "rounds", "webhook"}
	serviceKeys  = []string{"rto", "rpo", "backup_interval", "restore_time", "availability", "depends_on"}
	scenarioKeys = []string{"title", "service", "severity", "page", "rto_alerts", "steps"}
	stepKeys     = []string{"id", "do", "estimate", "owner", "ask", "answers", "next", "approval", "recovery_point"}
	reviewKeys   = []string{"schedule", "owners", "overdue_after", "channel"}
	drillKeys    = []string{"scenario", "schedule"}
)

// Severities are the values a scenario's severity may take.
var Severities = []string{"sev1", "sev2", "sev3", "sev4"}

// Defaults applied when the plan leaves a field out.
const (
	DefaultAckTimeout   = 5 * time.Minute
	DefaultRounds       = 2
	DefaultOverdueAfter = 14 * day
)

// DefaultRTOAlerts are the fractions of the RTO at which drbot alerts
// when a scenario has no rto_alerts.
var DefaultRTOAlerts = []float64{0.5, 0.75, 0.9}

var (
	// idPattern: ids are typed in commands (/incident page ROLE, "as CONTACT").
	idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	// scenarioPattern: a scenario id becomes part of a Slack channel name,
	// which allows only lowercase letters, digits, "-" and "_".
	scenarioPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	// slackPattern: Slack member IDs (U...) and Enterprise Grid IDs (W...).
	slackPattern = regexp.MustCompile(`^[UW][A-Z0-9]+$`)
	// yamlLine finds the line in a yaml.v3 syntax error.
	yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
)

// maxScenarioID keeps "inc-N-SCENARIO" within Slack's 80-character limit
// on channel names (with N up to ten digits and a "-50" suffix on
// name_taken), and in a select option's value (150).
const maxScenarioID = 60

// MaxID is the longest id of a contact, role, service or step, in
// characters. Buttons carry them in their value (Slack takes 2,000: an
// acknowledgement carries the role, a step's buttons the step id, after
// at most about 50 characters of their own), messages show them, and
// people type them in commands; 100 leaves room for all three.
const MaxID = 100

// MaxScenarios is the most scenarios a Slack menu shows (a static
// select's 100 options); past it the declare dialog searches them.
const MaxScenarios = 100

// MaxAnswerLabel is the most characters a Slack button shows (75); a
// longer answer is cut to fit, with "…".
const MaxAnswerLabel = 75

// Load reads and parses the plan at path. The error is only for a file
// that cannot be read; problems in the plan are in the Diagnostics, and
// the Plan is nil when any of them is an error.
func Load(path string) (*Plan, Diagnostics, error) {
	return LoadWith(path, Options{})
}

// LoadWith is Load with options.
func LoadWith(path string, o Options) (*Plan, Diagnostics, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read plan: %w", err)
	}
	p, ds := ParseWith(path, data, o)
	return p, ds, nil
}

// Parse parses and validates a plan read from file (a name used in
// diagnostics). It reports every problem it finds, sorted by position.
// The Plan is nil when there is any error: a plan is never half-loaded.
//
// The ${NAME} references of paging.webhook are expanded from the
// environment (os.LookupEnv) into Plan.Paging.Webhook; one to an unset or
// empty variable is an error. Source and Hash are of the text as written,
// so the secret is never part of what is stored.
func Parse(file string, data []byte) (*Plan, Diagnostics) {
	return ParseWith(file, data, Options{})
}

// ParseWith is Parse with options.
func ParseWith(file string, data []byte, o Options) (*Plan, Diagnostics) {
	sum := sha256.Sum256(data)
	ps := &parser{
		file: file,
		opts: o,
		// Aliases can make a small file expand into a huge tree; allow
		// what any honest use of anchors needs and refuse the rest.
		budget: 4*len(data) + 100_000,
		plan: &Plan{
			Timezone:  "UTC",
			Location:  time.UTC,
			Contacts:  map[string]*Contact{},
			Roles:     map[string][]string{},
			Paging:    Paging{AckTimeout: DefaultAckTimeout, Rounds: DefaultRounds},
			Services:  map[string]*Service{},
			Scenarios: map[string]*Scenario{},
			File:      file,
			Source:    bytes.Clone(data),
			Hash:      hex.EncodeToString(sum[:]),
		},
		contactKey:  map[string]*yaml.Node{},
		serviceDeps: map[string][]*yaml.Node{},
	}
	if root := ps.document(data); root != nil {
		ps.decodePlan(root)
		ps.commentCuts(root, "")
		ps.quoteSwallows(root)
		for _, f := range ps.later {
			f()
		}
	}
	ps.diags.sort()
	if ps.diags.HasErrors() {
		return nil, ps.diags
	}
	return ps.plan, ps.diags
}

// parser decodes a plan by walking the yaml.Node tree, so that every value
// keeps its position, and collects every problem instead of stopping at
// the first. Its helpers over nodes are in yamlnode.go, one decoder per
// section of the plan in decode_*.go, and the "did you mean" of its
// messages in suggest.go.
type parser struct {
	file   string
	opts   Options
	diags  Diagnostics
	errs   int // errors in diags
	plan   *Plan
	budget int  // nodes left to visit
	over   bool // budget exhausted: stop decoding
	// later holds checks that need the whole plan decoded first, such as
	// references to contacts defined further down the file.
	later []func()

	lines        [][]byte                // the source, for messages that quote it
	contactKey   map[string]*yaml.Node   // contact id -> its key
	serviceDeps  map[string][]*yaml.Node // service id -> its depends_on entries
	alertChannel *yaml.Node              // the alert_channel key, when set
}

// field is one key and its value in a mapping.
type field struct {
	key, val *yaml.Node
}

func (f field) name() string { return f.key.Value }

func (p *parser) report(n *yaml.Node, sev Severity, format string, args ...any) {
	for i, a := range args {
		if s, ok := a.(string); ok {
			args[i] = shorten(s)
		}
	}
	d := Diagnostic{File: p.file, Line: 1, Col: 1, Severity: sev, Message: fmt.Sprintf(format, args...)}
	if n != nil && n.Line > 0 {
		d.Line, d.Col = n.Line, n.Column
	}
	p.diags = append(p.diags, d)
	if sev == Error {
		p.errs++
	}
}

// shorten keeps a value quoted in a diagnostic to maxShown runes and "…":
// a plan check that echoes a pasted page of text, or a 3 MB line, on one
// line of its report helps nobody find it.
func shorten(s string) string {
	const maxShown = 200
	if utf8.RuneCountInString(s) <= maxShown {
		return s
	}
	return string([]rune(s)[:maxShown]) + "…"
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	p.report(n, Error, format, args...)
}

func (p *parser) warnf(n *yaml.Node, format string, args ...any) {
	p.report(n, Warning, format, args...)
}

// document parses the YAML and returns the root node, or nil after
// reporting why there is none.
func (p *parser) document(data []byte) *yaml.Node {
	p.lines = bytes.Split(data, []byte("\n"))
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.errorf(nil, "the plan is empty: start it with version: 1")
			return nil
		}
		p.syntax(err, data)
		return nil
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		p.errorf(&next, "a plan is one YAML document: remove the second one (after ---) or move it to its own file")
	case !errors.Is(err, io.EOF):
		p.syntax(err, data)
	}
	if len(doc.Content) == 0 {
		p.errorf(nil, "the plan is empty: start it with version: 1")
		return nil
	}
	return doc.Content[0]
}

// syntax reports a YAML syntax error: at the line and column of its usual
// cause with how to fix it when findSyntaxCause recognises one, else in
// yaml.v3's words at the first character of the line it names.
func (p *parser) syntax(err error, src []byte) {
	msg := err.Error()
	line := 1
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	if c, ok := findSyntaxCause(src, line, msg); ok {
		p.report(&yaml.Node{Line: c.line, Column: c.col}, Error, "YAML syntax: %s", c.msg)
		return
	}
	col := 1
	if lines := bytes.Split(src, []byte("\n")); line <= len(lines) {
		col += len(lines[line-1]) - len(bytes.TrimLeft(lines[line-1], " \t"))
	}
	p.report(&yaml.Node{Line: line, Column: col}, Error, "YAML syntax: %s", msg)
}

func (p *parser) decodePlan(root *yaml.Node) {
	m := p.object(root, "the plan", planKeys)
	if m == nil {
		return
	}
	p.require(root, m, "the plan", "version", "contacts", "roles", "scenarios")
	pl := p.plan
	if f, ok := m["version"]; ok {
		if s, ok := p.text(f); ok {
			if v, err := strconv.Atoi(s); err != nil || v != 1 {
				p.errorf(f.val, "version: %s is not supported: this drbot reads version: 1", s)
			} else {
				pl.Version = v
			}
		}
	}
	if f, ok := m["name"]; ok {
		pl.Name, _ = p.text(f)
	}
	if f, ok := m["timezone"]; ok {
		if s, ok := p.text(f); ok {
			p.timezone(f, s)
		}
	}
	// Definitions first, so that the checks run after them see every id.
	sections := []struct {
		key    string
		decode func(field)
	}{
		{"contacts", p.decodeContacts},
		{"roles", p.decodeRoles},
		{"paging", p.decodePaging},
		{"services", p.decodeServices},
		{"scenarios", p.decodeScenarios},
		{"review", p.decodeReview},
		{"drills", p.decodeDrills},
		{"alerts", p.decodeAlerts},
		{"alert_channel", p.decodeAlertChannel},
	}
	for _, sec := range sections {
		if f, ok := m[sec.key]; ok {
			sec.decode(f)
		}
	}
	p.later = append(p.later, p.checkContactsInRoles, p.checkServiceCycles)
}

func (p *parser) timezone(f field, s string) {
	if s == "Local" {
		p.errorf(f.val, "timezone: name a zone such as Europe/Oslo or UTC; Local would depend on the server drbot runs on")
		return
	}
	loc, err := time.LoadLocation(s)
	if err != nil {
		p.errorf(f.val, "timezone: unknown time zone %q: use an IANA name such as Europe/Oslo or UTC", s)
		return
	}
	p.plan.Timezone, p.plan.Location = s, loc
}
