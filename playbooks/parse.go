package playbooks

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	// The zone database is built in, so a timezone: in the plan loads on a
	// scratch container image that has no /usr/share/zoneinfo.
	_ "time/tzdata"

	"gopkg.in/yaml.v3"
)

// The keys each object of the plan accepts, in the order plan.md lists
// them. Schema describes the same keys; a test keeps the two in step.
var (
	planKeys     = []string{"version", "name", "timezone", "contacts", "roles", "paging", "services", "scenarios", "review", "drills", "alerts", "alert_channel"}
	contactKeys  = []string{"name", "slack", "email", "phone"}
	pagingKeys   = []string{"ack_timeout", "rounds", "webhook"}
	serviceKeys  = []string{"rto", "rpo", "backup_interval", "restore_time", "availability", "depends_on"}
	scenarioKeys = []string{"title", "service", "severity", "page", "rto_alerts", "steps"}
	stepKeys     = []string{"id", "do", "estimate", "owner", "ask", "answers", "next", "approval"}
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
// on channel names.
const maxScenarioID = 60

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
// the first.
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
	d := Diagnostic{File: p.file, Line: 1, Col: 1, Severity: sev, Message: fmt.Sprintf(format, args...)}
	if n != nil && n.Line > 0 {
		d.Line, d.Col = n.Line, n.Column
	}
	p.diags = append(p.diags, d)
	if sev == Error {
		p.errs++
	}
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
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.errorf(nil, "the plan is empty: start it with version: 1")
			return nil
		}
		p.syntax(err)
		return nil
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		p.errorf(&next, "a plan is one YAML document: remove the second one (after ---) or move it to its own file")
	case !errors.Is(err, io.EOF):
		p.syntax(err)
	}
	if len(doc.Content) == 0 {
		p.errorf(nil, "the plan is empty: start it with version: 1")
		return nil
	}
	return doc.Content[0]
}

// syntax reports a YAML syntax error. yaml.v3 gives the line but not the
// column, so the column is 1.
func (p *parser) syntax(err error) {
	msg := err.Error()
	line := 1
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	p.report(&yaml.Node{Line: line, Column: 1}, Error, "YAML syntax: %s", msg)
}

// deref follows aliases to the node they stand for.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// spend takes n nodes from the budget and reports false, once, when it
// runs out.
func (p *parser) spend(at *yaml.Node, n int) bool {
	if p.over {
		return false
	}
	p.budget -= n
	if p.budget < 0 {
		p.over = true
		p.errorf(at, "the plan expands to too many values (through YAML aliases); write it out without them")
		return false
	}
	return true
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "nothing"
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func isMerge(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && k.ShortTag() == "!!merge"
}

// pairs returns the entries of mapping n in file order, with YAML merge
// keys (<<: *anchor) expanded. Duplicate keys are errors. ok is false when
// n is not a mapping (already reported).
func (p *parser) pairs(n *yaml.Node, what string) (out []field, ok bool) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s: want a mapping, got %s", what, kindName(n))
		return nil, false
	}
	if !p.spend(n, len(n.Content)/2) {
		return nil, false
	}
	seen := make(map[string]*yaml.Node, len(n.Content)/2)
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		if isMerge(k) {
			merges = append(merges, v)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			p.errorf(k, "%s: a key must be plain text, not %s", what, kindName(k))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			p.errorf(k, "%s: duplicate key %q (first at line %d)", what, k.Value, first.Line)
			continue
		}
		seen[k.Value] = k
		out = append(out, field{k, v})
	}
	// Keys written out win over merged ones, and earlier merged mappings
	// over later ones, as the YAML merge key type says.
	for _, m := range merges {
		m = deref(m)
		srcs := []*yaml.Node{m}
		if m.Kind == yaml.SequenceNode {
			srcs = m.Content
		}
		for _, src := range srcs {
			fs, _ := p.pairs(src, what)
			for _, f := range fs {
				if _, dup := seen[f.name()]; !dup {
					seen[f.name()] = f.key
					out = append(out, f)
				}
			}
		}
	}
	return out, true
}

// object returns the fields of mapping n by key, reporting keys that are
// not in known. It returns nil when n is not a mapping.
func (p *parser) object(n *yaml.Node, what string, known []string) map[string]field {
	fs, ok := p.pairs(n, what)
	if !ok {
		return nil
	}
	m := make(map[string]field, len(fs))
	for _, f := range fs {
		if !slices.Contains(known, f.name()) {
			p.errorf(f.key, "unknown key %q in %s%s", f.name(), what, suggestKey(f.name(), known))
			continue
		}
		m[f.name()] = f
	}
	return m
}

// require reports each of keys missing from m, at the node at.
func (p *parser) require(at *yaml.Node, m map[string]field, what string, keys ...string) {
	if m == nil {
		return
	}
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			p.errorf(at, "%s: missing required key %q", what, k)
		}
	}
}

// items returns the entries of sequence f.val, or nil after reporting
// that it is not one.
func (p *parser) items(f field) ([]*yaml.Node, bool) {
	n := deref(f.val)
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "%s: want a list, got %s", f.name(), kindName(n))
		return nil, false
	}
	if !p.spend(n, len(n.Content)) {
		return nil, false
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = deref(c)
	}
	return out, true
}

// scalar returns the text of a scalar value, "" for an empty one.
func (p *parser) scalar(name string, n *yaml.Node) (string, bool) {
	n = deref(n)
	if n.Kind != yaml.ScalarNode {
		p.errorf(n, "%s: want text, got %s", name, kindName(n))
		return "", false
	}
	if isNull(n) {
		return "", true
	}
	return n.Value, true
}

// text returns a scalar that must not be empty.
func (p *parser) text(f field) (string, bool) {
	s, ok := p.scalar(f.name(), f.val)
	if !ok {
		return "", false
	}
	if strings.TrimSpace(s) == "" {
		hint := ""
		// "channel: #dr-plan" is a key followed by a comment.
		if isNull(deref(f.val)) && (f.key.LineComment != "" || f.val.LineComment != "") {
			hint = `: a "#" after a space starts a YAML comment, so quote a value that starts with one`
		}
		p.errorf(f.val, "%s is empty%s", f.name(), hint)
		return "", false
	}
	return s, true
}

// duration parses a duration that must be positive, or at least zero when
// zeroOK.
func (p *parser) duration(f field, zeroOK bool) (time.Duration, bool) {
	s, ok := p.text(f)
	if !ok {
		return 0, false
	}
	d, err := ParseDuration(s)
	if err != nil {
		p.errorf(f.val, "%s: %v", f.name(), err)
		return 0, false
	}
	if d < 0 || d == 0 && !zeroOK {
		p.errorf(f.val, "%s: %s must be more than zero", f.name(), s)
		return 0, false
	}
	return d, true
}

// idList returns the non-empty scalar entries of a list of ids.
func (p *parser) idList(f field) []*yaml.Node {
	ns, ok := p.items(f)
	if !ok {
		return nil
	}
	out := ns[:0:0]
	seen := map[string]*yaml.Node{}
	for _, n := range ns {
		s, ok := p.scalar(f.name(), n)
		if !ok {
			continue
		}
		if s == "" {
			p.errorf(n, "%s: empty entry", f.name())
			continue
		}
		if first, dup := seen[s]; dup {
			p.errorf(n, "%s: %q is listed twice (first at line %d)", f.name(), s, first.Line)
			continue
		}
		seen[s] = n
		out = append(out, n)
	}
	return out
}

func values(ns []*yaml.Node) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.Value
	}
	return out
}

// checkID reports an id that cannot be typed in a command.
func (p *parser) checkID(k *yaml.Node, kind string) {
	if !idPattern.MatchString(k.Value) {
		p.errorf(k, "%s id %q: use letters, digits, \"-\", \"_\" or \".\", starting with a letter or digit (ids are typed in commands)", kind, k.Value)
	}
}

// refer checks, once the whole plan is decoded, that n names a defined
// contact, role, service or scenario.
func (p *parser) refer(kind string, n *yaml.Node, where string) {
	p.later = append(p.later, func() {
		var ok bool
		var defined []string
		switch kind {
		case "contact":
			_, ok = p.plan.Contacts[n.Value]
			defined = p.plan.ContactOrder
		case "role":
			_, ok = p.plan.Roles[n.Value]
			defined = p.plan.RoleOrder
		case "service":
			_, ok = p.plan.Services[n.Value]
			defined = p.plan.ServiceOrder
		case "scenario":
			_, ok = p.plan.Scenarios[n.Value]
			defined = p.plan.ScenarioOrder
		default:
			panic("playbooks: refer to unknown kind " + kind)
		}
		if !ok {
			p.errorf(n, "undefined %s %q in %s%s", kind, n.Value, where, suggestID(n.Value, kind, defined))
		}
	})
}

// ref returns the id in field key of m and checks, once the plan is
// decoded, that it names a defined kind. It is "" when the field is
// absent or not a usable id (already reported).
func (p *parser) ref(m map[string]field, key, kind, where string) string {
	v, ok := m[key]
	if !ok {
		return ""
	}
	s, ok := p.text(v)
	if !ok {
		return ""
	}
	p.refer(kind, v.val, where)
	return s
}

// refList returns the entries of a list of ids, as idList does, and
// checks each against the defined ids of kind once the plan is decoded.
func (p *parser) refList(f field, kind, where string) []*yaml.Node {
	ns := p.idList(f)
	for _, n := range ns {
		p.refer(kind, n, where)
	}
	return ns
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

func (p *parser) decodeContacts(f field) {
	fs, _ := p.pairs(f.val, "contacts")
	bySlack := map[string]*yaml.Node{}
	for _, e := range fs {
		id := e.name()
		p.checkID(e.key, "contact")
		what := fmt.Sprintf("contact %q", id)
		c := &Contact{ID: id}
		// Known even when its body is wrong, so that references to it do
		// not add "undefined" errors to the one that matters.
		p.plan.Contacts[id] = c
		p.plan.ContactOrder = append(p.plan.ContactOrder, id)
		p.contactKey[id] = e.key
		m := p.object(e.val, what, contactKeys)
		if m == nil {
			continue
		}
		p.require(e.key, m, what, "name")
		if v, ok := m["name"]; ok {
			c.Name, _ = p.text(v)
		}
		if v, ok := m["slack"]; ok {
			if s, ok := p.text(v); ok {
				switch first, dup := bySlack[s]; {
				case !slackPattern.MatchString(s):
					p.errorf(v.val, "slack: %q is not a Slack member ID: copy it from the person's Slack profile (⋮ → Copy member ID); it looks like U0123ABCD", s)
				case dup:
					p.errorf(v.val, "slack: %s is also the Slack member ID of the contact at line %d", s, first.Line)
				default:
					bySlack[s] = e.key
					c.Slack = s
				}
			}
		}
		if v, ok := m["email"]; ok {
			if s, ok := p.text(v); ok {
				if a, err := mail.ParseAddress(s); err != nil || a.Address != s {
					p.errorf(v.val, "email: %q is not an email address such as frank@example.com", s)
				} else {
					c.Email = s
				}
			}
		}
		_, hasSlack := m["slack"]
		_, hasEmail := m["email"]
		if !hasSlack && !hasEmail {
			p.errorf(e.key, "%s has neither slack nor email, so drbot cannot reach them: add slack: (their Slack member ID) or email:", what)
		}
		if v, ok := m["phone"]; ok {
			c.Phone, _ = p.scalar(v.name(), v.val)
		}
	}
}

func (p *parser) decodeRoles(f field) {
	fs, _ := p.pairs(f.val, "roles")
	for _, e := range fs {
		role := e.name()
		p.checkID(e.key, "role")
		where := fmt.Sprintf("role %q", role)
		ids := p.refList(e, "contact", where)
		switch len(ids) {
		case 0:
			if n := deref(e.val); n.Kind == yaml.SequenceNode {
				p.errorf(e.key, "%s has no contacts: list who to page, in escalation order", where)
			}
		case 1:
			p.warnf(e.key, "%s has a single contact (%s), so nobody is paged when they do not answer: add a second contact", where, ids[0].Value)
		}
		p.plan.Roles[role] = values(ids)
		p.plan.RoleOrder = append(p.plan.RoleOrder, role)
	}
}

// checkContactsInRoles warns about contacts nobody can page.
func (p *parser) checkContactsInRoles() {
	inRole := map[string]bool{}
	for _, ids := range p.plan.Roles {
		for _, id := range ids {
			inRole[id] = true
		}
	}
	for _, id := range p.plan.ContactOrder {
		if !inRole[id] {
			p.warnf(p.contactKey[id], "contact %q is in no role, so no incident pages them: add them to a role or remove them", id)
		}
	}
}

func (p *parser) decodePaging(f field) {
	m := p.object(f.val, "paging", pagingKeys)
	if v, ok := m["ack_timeout"]; ok {
		if d, ok := p.duration(v, false); ok {
			p.plan.Paging.AckTimeout = d
		}
	}
	if v, ok := m["rounds"]; ok {
		if s, ok := p.text(v); ok {
			if n, err := strconv.Atoi(s); err != nil || n < 1 {
				p.errorf(v.val, "rounds: want a whole number of at least 1, got %s", s)
			} else {
				p.plan.Paging.Rounds = n
			}
		}
	}
	if v, ok := m["webhook"]; ok {
		p.webhook(v)
	}
}

func (p *parser) decodeServices(f field) {
	fs, _ := p.pairs(f.val, "services")
	for _, e := range fs {
		id := e.name()
		p.checkID(e.key, "service")
		what := fmt.Sprintf("service %q", id)
		s := &Service{ID: id}
		p.plan.Services[id] = s
		p.plan.ServiceOrder = append(p.plan.ServiceOrder, id)
		var m map[string]field
		// "id:" with nothing after it is a service with no objectives.
		if !isNull(deref(e.val)) {
			if m = p.object(e.val, what, serviceKeys); m == nil {
				continue
			}
		}
		durations := []struct {
			key string
			dst *time.Duration
		}{{"rto", &s.RTO}, {"rpo", &s.RPO}, {"backup_interval", &s.BackupInterval}, {"restore_time", &s.RestoreTime}}
		for _, d := range durations {
			if v, ok := m[d.key]; ok {
				*d.dst, _ = p.duration(v, false)
			}
		}
		if v, ok := m["availability"]; ok {
			if txt, ok := p.text(v); ok {
				if a, err := ParseAvailability(txt); err != nil {
					p.errorf(v.val, "%v", err)
				} else {
					s.Availability = a
				}
			}
		}
		if v, ok := m["depends_on"]; ok {
			deps := p.refList(v, "service", "depends_on of "+what)
			s.DependsOn = values(deps)
			p.serviceDeps[id] = deps
		}
		if s.RTO > 0 && s.RestoreTime > s.RTO {
			p.warnf(m["restore_time"].val, "restore_time %s is longer than rto %s, so a full restore cannot meet the RTO: make the restore faster (smaller backups, a warm standby) or raise rto",
				FormatDuration(s.RestoreTime), FormatDuration(s.RTO))
		}
		if s.RPO > 0 && s.BackupInterval > s.RPO {
			p.warnf(m["backup_interval"].val, "backup_interval %s is longer than rpo %s, so up to %s of data can be lost: back up at least every %s or raise rpo",
				FormatDuration(s.BackupInterval), FormatDuration(s.RPO), FormatDuration(s.BackupInterval), FormatDuration(s.RPO))
		}
	}
}

// checkServiceCycles reports each depends_on entry that closes a cycle:
// composite availability is a product along chains that must end.
func (p *parser) checkServiceCycles() {
	const (
		unseen = iota
		active
		done
	)
	state := map[string]int{}
	var stack []string
	var visit func(id string)
	visit = func(id string) {
		state[id] = active
		stack = append(stack, id)
		for _, n := range p.serviceDeps[id] {
			dep := n.Value
			if _, ok := p.plan.Services[dep]; !ok {
				continue // reported as undefined
			}
			switch state[dep] {
			case active:
				i := slices.Index(stack, dep)
				cycle := append(slices.Clone(stack[i:]), dep)
				p.errorf(n, "services depend on each other in a cycle: %s; a chain of depends_on must end", strings.Join(cycle, " → "))
			case unseen:
				visit(dep)
			}
		}
		stack = stack[:len(stack)-1]
		state[id] = done
	}
	for _, id := range p.plan.ServiceOrder {
		if state[id] == unseen {
			visit(id)
		}
	}
}

func (p *parser) decodeScenarios(f field) {
	fs, _ := p.pairs(f.val, "scenarios")
	for _, e := range fs {
		id := e.name()
		if !scenarioPattern.MatchString(id) {
			p.errorf(e.key, "scenario id %q: use lowercase letters, digits, \"-\" and \"_\", starting with a letter or digit: it becomes part of the incident's Slack channel name", id)
		} else if len(id) > maxScenarioID {
			p.errorf(e.key, "scenario id %q is %d characters long: keep it to %d so that the incident's Slack channel name fits", id, len(id), maxScenarioID)
		}
		p.plan.Scenarios[id] = p.decodeScenario(e)
		p.plan.ScenarioOrder = append(p.plan.ScenarioOrder, id)
	}
	if len(fs) == 0 && !p.over {
		if n := deref(f.val); n.Kind == yaml.MappingNode {
			p.errorf(f.key, "scenarios: the plan has none: add at least one")
		}
	}
}

// decodeScenario returns the scenario, incomplete when it has errors.
func (p *parser) decodeScenario(e field) *Scenario {
	id := e.name()
	what := fmt.Sprintf("scenario %q", id)
	sc := &Scenario{ID: id, RTOAlerts: slices.Clone(DefaultRTOAlerts)}
	m := p.object(e.val, what, scenarioKeys)
	if m == nil {
		return sc
	}
	p.require(e.key, m, what, "title", "severity", "steps")
	if v, ok := m["title"]; ok {
		sc.Title, _ = p.text(v)
	}
	sc.Service = p.ref(m, "service", "service", "service of "+what)
	if v, ok := m["severity"]; ok {
		if s, ok := p.text(v); ok {
			if !slices.Contains(Severities, s) {
				p.errorf(v.val, "severity: %q is not one of %s", s, strings.Join(Severities, ", "))
			} else {
				sc.Severity = s
			}
		}
	}
	if v, ok := m["page"]; ok {
		sc.Page = values(p.refList(v, "role", "page of "+what))
	}
	if v, written := m["page"]; !written || deref(v.val).Kind == yaml.SequenceNode && len(deref(v.val).Content) == 0 {
		p.warnf(e.key, "%s pages no role, so nobody is called when it is declared: add page: [commander]", what)
	}
	if v, ok := m["rto_alerts"]; ok {
		sc.RTOAlerts = p.rtoAlerts(v)
	}
	if v, ok := m["steps"]; ok {
		before := p.errs
		sc.Steps = p.decodeSteps(sc, v)
		if p.errs == before {
			p.later = append(p.later, func() { p.checkRTO(e.key, sc) })
		}
	}
	return sc
}

func (p *parser) rtoAlerts(f field) []float64 {
	ns, ok := p.items(f)
	if !ok {
		return nil
	}
	out := []float64{}
	for _, n := range ns {
		s, ok := p.scalar(f.name(), n)
		if !ok {
			continue
		}
		a, err := parseFraction(s)
		switch {
		case err != nil:
			p.errorf(n, "rto_alerts: %v", err)
		case a <= 0 || a >= 1:
			p.errorf(n, "rto_alerts: %s is not between 0%% and 100%%: list thresholds before the breach (100%% is always alerted)", s)
		case slices.Contains(out, a):
			p.errorf(n, "rto_alerts: %s is listed twice", s)
		default:
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return out
}

// checkRTO warns when the worst-case path of a scenario's steps cannot
// finish within its service's RTO.
func (p *parser) checkRTO(at *yaml.Node, sc *Scenario) {
	svc := p.plan.Services[sc.Service]
	if svc == nil || svc.RTO == 0 {
		return
	}
	d, path := sc.LongestPath()
	if d <= svc.RTO {
		return
	}
	var longest *Step
	for _, id := range path {
		if st := sc.Step(id); longest == nil || st.Estimate > longest.Estimate {
			longest = st
		}
	}
	p.warnf(at, "scenario %q: path %s takes %s, RTO is %s: shorten its steps (%s alone takes %s), add a faster branch, or raise the rto of service %q",
		sc.ID, strings.Join(path, " → "), FormatDuration(d), FormatDuration(svc.RTO), longest.ID, FormatDuration(longest.Estimate), svc.ID)
}

// stepSrc keeps the nodes of a step that the graph checks point at.
type stepSrc struct {
	id    *yaml.Node
	edges []edge
}

// edge is one way out of a step; node is nil when the step simply goes on
// to the following one.
type edge struct {
	to   string
	node *yaml.Node
}

func (p *parser) decodeSteps(sc *Scenario, f field) []*Step {
	ns, ok := p.items(f)
	if !ok {
		return nil
	}
	if len(ns) == 0 {
		p.errorf(f.val, "steps: the scenario has none: say what to do")
		return nil
	}
	before := p.errs
	steps := make([]*Step, 0, len(ns))
	srcs := make([]stepSrc, 0, len(ns))
	index := make(map[string]int, len(ns))
	for i, n := range ns {
		st, src := p.decodeStep(n, i)
		if st == nil {
			continue
		}
		if st.ID != "" {
			if j, dup := index[st.ID]; dup {
				p.errorf(src.id, "duplicate step id %q (first at line %d)", st.ID, srcs[j].id.Line)
				continue
			}
			index[st.ID] = len(steps)
		}
		steps = append(steps, st)
		srcs = append(srcs, src)
	}
	sc.Steps = steps
	sc.stepIndex = index
	p.checkSteps(sc, srcs, index, before)
	return steps
}

func (p *parser) decodeStep(n *yaml.Node, i int) (*Step, stepSrc) {
	what := fmt.Sprintf("step %d", i+1)
	if m := deref(n); m.Kind == yaml.MappingNode {
		for j := 0; j+1 < len(m.Content); j += 2 {
			if k, v := m.Content[j], deref(m.Content[j+1]); k.Value == "id" && v.Kind == yaml.ScalarNode && v.Value != "" {
				what = fmt.Sprintf("step %q", v.Value)
			}
		}
	}
	m := p.object(n, what, stepKeys)
	if m == nil {
		return nil, stepSrc{}
	}
	p.require(n, m, what, "id", "do")
	st := &Step{}
	src := stepSrc{id: n}
	if v, ok := m["id"]; ok {
		if s, ok := p.text(v); ok {
			src.id = v.val
			switch {
			case s == End:
				p.errorf(v.val, "step id %q is reserved: it is how next: and answers: end the playbook", End)
			default:
				p.checkID(v.val, "step")
				st.ID = s
			}
		}
	}
	if v, ok := m["do"]; ok {
		st.Do, _ = p.text(v)
	}
	if v, ok := m["estimate"]; ok {
		st.Estimate, _ = p.duration(v, true)
	}
	st.Owner = p.ref(m, "owner", "role", "owner of "+what)
	st.Approval = p.ref(m, "approval", "role", "approval of "+what)
	ask, hasAsk := m["ask"]
	answers, hasAnswers := m["answers"]
	next, hasNext := m["next"]
	if hasAsk {
		st.Ask, _ = p.text(ask)
		if !hasAnswers {
			p.errorf(ask.key, "%s asks a question but has no answers: add answers: with one entry per button, each naming the next step", what)
		}
	}
	if hasAnswers {
		if !hasAsk {
			p.errorf(answers.key, "%s has answers but no ask: add the question the answers reply to", what)
		}
		if hasNext {
			p.errorf(next.key, "%s has both next and answers: the answer pressed picks the next step, so remove next", what)
		}
		st.Answers, src.edges = p.decodeAnswers(answers)
	}
	if hasNext {
		if s, ok := p.text(next); ok {
			st.Next = s
			if !hasAnswers {
				src.edges = []edge{{s, next.val}}
			}
		}
	}
	return st, src
}

// maxButtonText is Slack's limit on a button's text.
const maxButtonText = 75

func (p *parser) decodeAnswers(f field) ([]Answer, []edge) {
	fs, ok := p.pairs(f.val, "answers")
	if !ok {
		return nil, nil
	}
	if len(fs) == 0 {
		p.errorf(f.val, "answers: a decision needs at least one answer")
		return nil, nil
	}
	var out []Answer
	var edges []edge
	for _, e := range fs {
		label := strings.TrimSpace(e.name())
		if label == "" {
			p.errorf(e.key, "answers: an answer needs a label: it is the text of its button")
			continue
		}
		if n := len([]rune(label)); n > maxButtonText {
			p.errorf(e.key, "answers: %q is %d characters long; Slack buttons take at most %d", label, n, maxButtonText)
			continue
		}
		next, ok := p.scalar(label, e.val)
		if !ok {
			continue
		}
		if strings.TrimSpace(next) == "" {
			p.errorf(e.val, "answers: %q leads nowhere: name the step it goes on to, or end", label)
			continue
		}
		out = append(out, Answer{Label: label, Next: next})
		edges = append(edges, edge{next, deref(e.val)})
	}
	return out, edges
}

// checkSteps resolves next and answers, and reports cycles and steps that
// no path reaches. srcs[i] belongs to sc.Steps[i]. errsBefore is the error
// count before the steps were decoded: when they have errors, a step may
// look unreachable only because a broken reference was dropped, so no
// step is called unreachable then.
func (p *parser) checkSteps(sc *Scenario, srcs []stepSrc, index map[string]int, errsBefore int) {
	n := len(sc.Steps)
	succ := make([][]int, n) // -1 is End
	edgeNode := make([][]*yaml.Node, n)
	for i, src := range srcs {
		edges := src.edges
		if edges == nil {
			edges = []edge{{End, nil}}
			if i+1 < n {
				edges[0].to = sc.Steps[i+1].ID
			}
		}
		for _, e := range edges {
			if e.to == End {
				succ[i] = append(succ[i], -1)
				edgeNode[i] = append(edgeNode[i], e.node)
				continue
			}
			j, ok := index[e.to]
			if !ok {
				if e.node != nil {
					p.errorf(e.node, "undefined step %q in scenario %q%s", e.to, sc.ID, suggestID(e.to, "step", append(stepIDs(sc), End)))
				}
				continue
			}
			succ[i] = append(succ[i], j)
			edgeNode[i] = append(edgeNode[i], e.node)
		}
	}

	const (
		unseen = iota
		active
		done
	)
	state := make([]int, n)
	var stack []int
	var visit func(i int)
	visit = func(i int) {
		state[i] = active
		stack = append(stack, i)
		for k, j := range succ[i] {
			if j < 0 {
				continue
			}
			switch state[j] {
			case active:
				at := edgeNode[i][k]
				if at == nil {
					at = srcs[i].id
				}
				var ids []string
				for _, s := range stack[slices.Index(stack, j):] {
					ids = append(ids, sc.Steps[s].ID)
				}
				ids = append(ids, sc.Steps[j].ID)
				p.errorf(at, "steps of scenario %q form a cycle: %s; every path must reach the end (point an answer or next at a later step or at end)", sc.ID, strings.Join(ids, " → "))
			case unseen:
				visit(j)
			}
		}
		stack = stack[:len(stack)-1]
		state[i] = done
	}
	// Visiting from the first step marks exactly the reachable steps;
	// cycles among unreachable steps are found by the second loop.
	if n > 0 {
		visit(0)
	}
	clean := p.errs == errsBefore
	for i := range n {
		if state[i] == unseen {
			if clean {
				p.warnf(srcs[i].id, "step %q is never reached: no answer, next or preceding step leads to it; remove it or point a next or answer at it", sc.Steps[i].ID)
			}
			visit(i)
		}
	}
}

func stepIDs(sc *Scenario) []string {
	out := make([]string, len(sc.Steps))
	for i, st := range sc.Steps {
		out[i] = st.ID
	}
	return out
}

func (p *parser) decodeReview(f field) {
	m := p.object(f.val, "review", reviewKeys)
	if m == nil {
		return
	}
	p.require(f.key, m, "review", "schedule", "owners")
	r := &Review{OverdueAfter: DefaultOverdueAfter}
	if v, ok := m["schedule"]; ok {
		r.Schedule, _ = p.schedule(v)
	}
	if v, ok := m["owners"]; ok {
		owners := p.refList(v, "contact", "owners of review")
		if len(owners) == 0 && deref(v.val).Kind == yaml.SequenceNode {
			p.errorf(v.val, "owners: name at least one contact to confirm the contact list")
		}
		r.Owners = values(owners)
	}
	if v, ok := m["overdue_after"]; ok {
		if d, ok := p.duration(v, false); ok {
			r.OverdueAfter = d
		}
	}
	if v, ok := m["channel"]; ok {
		r.Channel, _ = p.text(v)
	}
	p.plan.Review = r
}

func (p *parser) schedule(f field) (string, bool) {
	s, ok := p.text(f)
	if !ok {
		return "", false
	}
	if _, err := ParseSchedule(s); err != nil {
		p.errorf(f.val, "%s: %v", f.name(), err)
		return "", false
	}
	return s, true
}

func (p *parser) decodeDrills(f field) {
	ns, ok := p.items(f)
	if !ok {
		return
	}
	for i, n := range ns {
		what := fmt.Sprintf("drill %d", i+1)
		m := p.object(n, what, drillKeys)
		if m == nil {
			continue
		}
		p.require(n, m, what, "scenario", "schedule")
		var d Drill
		d.Scenario = p.ref(m, "scenario", "scenario", what)
		if v, ok := m["schedule"]; ok {
			d.Schedule, _ = p.schedule(v)
		}
		p.plan.Drills = append(p.plan.Drills, d)
	}
}

// suggestKey says which known key a misspelt one probably is, or lists
// the keys.
func suggestKey(got string, known []string) string {
	if k := closest(got, known); k != "" {
		return fmt.Sprintf("; did you mean %q?", k)
	}
	return "; want one of " + strings.Join(known, ", ")
}

// suggestID says which defined id a misspelt reference probably is, or
// lists the defined ones when there are few.
func suggestID(got, kind string, defined []string) string {
	if k := closest(got, defined); k != "" {
		return fmt.Sprintf("; did you mean %q?", k)
	}
	switch {
	case len(defined) == 0:
		return fmt.Sprintf("; no %s is defined", kind)
	case len(defined) <= 12:
		return fmt.Sprintf("; defined: %s", strings.Join(defined, ", "))
	}
	return ""
}

// closest returns the candidate within a small edit distance of got, or "".
func closest(got string, candidates []string) string {
	best, bestD := "", 3
	if len(got) <= 4 {
		bestD = 2
	}
	for _, c := range candidates {
		if strings.EqualFold(c, got) {
			return c
		}
		if d := editDistance(got, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b
// in bytes: Levenshtein plus swaps of neighbours ("bbo" for "bob"), the
// commonest typo.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64 // no typo suggestion for long strings; keeps this cheap
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
