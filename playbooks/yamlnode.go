package playbooks

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Helpers over yaml.v3 nodes: aliases and merge keys, the node budget,
// mappings, lists, scalars, durations, ids and references between
// sections. Each reports what is wrong at the node it is about.

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
		return fmt.Sprintf("%q", shorten(n.Value))
	}
	return "nothing"
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func isMerge(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && k.ShortTag() == "!!merge"
}

// listItem reports whether key is the first key of a list item: "- " stands
// just before it on its line.
func (p *parser) listItem(key *yaml.Node) bool {
	if key.Line < 1 || key.Line > len(p.lines) || key.Column < 3 {
		return false
	}
	text := p.lines[key.Line-1]
	i := key.Column - 1 // 0-based column of the key
	return i <= len(text) && strings.TrimRight(string(text[:i]), " ") != "" &&
		strings.HasSuffix(strings.TrimRight(string(text[:i]), " "), "-")
}

// pairs returns the entries of mapping n in file order, with YAML merge
// keys (<<: *anchor) expanded. Duplicate keys are errors. ok is false when
// n is not a mapping (already reported).
func (p *parser) pairs(n *yaml.Node, what string) (out []field, ok bool) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s: want a mapping, got %s%s", what, kindName(n), keyNoSpaceHint(n))
		return nil, false
	}
	if !p.spend(n, len(n.Content)/2) {
		return nil, false
	}
	seen := make(map[string]*yaml.Node, len(n.Content)/2)
	var merges []*yaml.Node
	// missingDash: the mapping's first key came again, at its column: a list
	// item written without its "-" has merged into the item before it. Said
	// once; its other keys would only repeat it as duplicates.
	missingDash := false
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
			switch {
			case missingDash:
			case first == deref(n.Content[0]) && k.Column == first.Column && p.listItem(first):
				missingDash = true
				p.errorf(k, "%s: duplicate key %q (first at line %d): if a new list item starts here, begin it with \"- \" (- %s: …)",
					what, k.Value, first.Line, k.Value)
			default:
				p.errorf(k, "%s: duplicate key %q (first at line %d)", what, k.Value, first.Line)
			}
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
			p.unknownKey(m, f, what, known)
			continue
		}
		m[f.name()] = f
	}
	return m
}

// unknownKey reports f, a key of a mapping that is not one of known. A
// known key written without the space after its colon ({name:Alice Berg})
// is said to be that, once, and its value goes into m as if written
// right, so that no "missing required key" or check of it follows.
func (p *parser) unknownKey(m map[string]field, f field, what string, known []string) {
	meant, fix, ok := spacelessKey(f)
	switch {
	case !ok:
		p.errorf(f.key, "unknown key %q in %s%s", f.name(), what, suggestKey(f.name(), known))
	case slices.Contains(known, meant.name()):
		p.errorf(f.key, "%s: %s", what, fix)
		if _, dup := m[meant.name()]; !dup && meant.val != nil {
			m[meant.name()] = meant
		}
	default:
		p.errorf(f.key, "unknown key %q in %s%s (and %s)", meant.name(), what, suggestKey(meant.name(), known), fix)
	}
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
// listObjects decodes a list of objects (alerts:, drills:): each item an
// object of the known keys with the required ones, named "NOUN N" in
// messages. fn gets each item that is an object, in order; ok is false
// when f is not a list.
func (p *parser) listObjects(f field, noun string, known, required []string, fn func(n *yaml.Node, m map[string]field, what string)) (ok bool) {
	ns, ok := p.items(f)
	if !ok {
		return false
	}
	for i, n := range ns {
		what := fmt.Sprintf("%s %d", noun, i+1)
		m := p.object(n, what, known)
		if m == nil {
			continue
		}
		p.require(n, m, what, required...)
		fn(n, m, what)
	}
	return true
}

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

// boolean parses true or false.
func (p *parser) boolean(f field) (bool, bool) {
	s, ok := p.text(f)
	if !ok {
		return false, false
	}
	switch s {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	p.errorf(f.val, "%s: want true or false, got %q", f.name(), s)
	return false, false
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
		p.errorf(k, "%s id %q: use the letters a-z and A-Z (no accents or other scripts), digits, \"-\", \"_\" or \".\", starting with a letter or digit (ids are typed in commands; names and titles may be in any script)", kind, k.Value)
	} else if n := len(k.Value); n > MaxID {
		p.errorf(k, "%s id %q is %d characters long: keep it to %d (Slack buttons carry it, messages show it, people type it)", kind, truncID(k.Value), n, MaxID)
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

// truncID shortens a long id for a message: its first 80 characters and
// "…" (ids are ASCII: idPattern).
func truncID(id string) string {
	if len(id) <= 80 {
		return id
	}
	return id[:80] + "…"
}
