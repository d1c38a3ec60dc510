package playbooks

import (
	"fmt"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// findByMessage looks for the causes that only one of yaml.v3's messages
// points to, near the line it names: an unclosed [ or { (reported one line
// before the line it is on, in the parser's words "did not find expected
// ',' or ']'") and a key written without the space after its colon
// (reported at the line below, or at its own line when nothing follows).
func findByMessage(lines []string, line int, msg string) (syntaxCause, bool) {
	switch {
	case strings.HasPrefix(msg, "did not find expected ',' or "):
		closer := byte(0)
		if strings.HasSuffix(msg, "']'") {
			closer = ']'
		} else if strings.HasSuffix(msg, "'}'") {
			closer = '}'
		}
		// yaml.v3 names the line of the [ or { less one; when that is on
		// the first line it names the line where it gave up instead.
		for _, n := range []int{line + 1, line, 1} {
			if n >= 1 && n <= len(lines) {
				if c, ok := unclosedFlow(lines[n-1], n, closer); ok {
					return c, true
				}
			}
		}
	case msg == "mapping values are not allowed in this context" || msg == "could not find expected ':'":
		// The key without its space is this line, or the text above that
		// YAML read on into this line.
		for n := line; n >= 1 && n <= len(lines); n-- {
			if c, ok := noSpaceAfterColon(lines[n-1], n); ok {
				return c, true
			}
			if n < line && strings.TrimSpace(lines[n-1]) != "" {
				break
			}
		}
	case msg == "did not find expected key":
		// A comment after the key without its space ends it there, and
		// yaml.v3 names the line above the mapping it is in.
		return noSpaceInMapping(lines, line)
	}
	return syntaxCause{}, false
}

// noSpaceInMapping finds a key without the space after its colon in the
// mapping that begins on the line after line: one of its keys, or the
// first key of a block in it (yaml.v3 then names the mapping around).
func noSpaceInMapping(lines []string, line int) (syntaxCause, bool) {
	keyCol, prevCol, opens := -1, -1, false
	for i := line; i < min(len(lines), line+200); i++ {
		t := strings.TrimSpace(lines[i])
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		in, col := indentOf(lines[i]), indentOf(lines[i])
		if m := listValue.FindStringSubmatchIndex(lines[i]); m != nil {
			col = m[4]
		}
		if keyCol < 0 {
			keyCol = col
		}
		if in < keyCol && !strings.HasPrefix(t, "- ") {
			return syntaxCause{}, false
		}
		// Deeper than the key above, with that key's value on its line,
		// this is more of that value's text.
		if m := keyNoSpace.FindStringSubmatch(lines[i]); m != nil && (prevCol < 0 || opens || len(m[1]) <= prevCol) {
			return noSpaceAfterColon(lines[i], i+1)
		}
		m := keyLine.FindStringSubmatch(lines[i])
		prevCol, opens = col, m != nil && (strings.TrimSpace(m[3]) == "" || strings.HasPrefix(strings.TrimSpace(m[3]), "#"))
	}
	return syntaxCause{}, false
}

// flowCloser is the character that closes each flow collection.
var flowCloser = map[byte]byte{'[': ']', '{': '}'}

// unclosedFlow finds, in a value written as a flow collection ([…] or
// {…}), the innermost [ or { left open at the end of the line (one that
// closes on closer when closer is not 0), or a ] or } that closes the
// other kind. Quoted text and comments are passed over.
func unclosedFlow(text string, n int, closer byte) (syntaxCause, bool) {
	v, col, ok := value(strings.TrimRight(text, " \r"))
	if !ok {
		v, col = strings.TrimSpace(text), indentOf(text)
	}
	if v == "" || (v[0] != '[' && v[0] != '{') {
		return syntaxCause{}, false
	}
	var open []int // offsets in v of the [ and { not closed yet
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '[' || c == '{':
			open = append(open, i)
		case c == ']' || c == '}':
			if len(open) == 0 {
				return syntaxCause{}, false
			}
			o := v[open[len(open)-1]]
			if flowCloser[o] != c {
				return syntaxCause{n, col + i + 1, fmt.Sprintf("this %c cannot close the %c at column %d: close that with %c",
					c, o, col+open[len(open)-1]+1, flowCloser[o])}, true
			}
			open = open[:len(open)-1]
		case c == '#' && v[i-1] == ' ':
			i = len(v)
		case (c == '"' || c == '\'') && strings.IndexByte("[{, ", v[i-1]) >= 0:
			i = quoteEnd(v, i)
		}
	}
	for j := len(open) - 1; j >= 0; j-- {
		if o := v[open[j]]; closer == 0 || flowCloser[o] == closer {
			what := "list"
			if o == '{' {
				what = "mapping"
			}
			return syntaxCause{n, col + open[j] + 1, fmt.Sprintf("this %c is not closed on its line: close it with %c at the end of the %s",
				o, flowCloser[o], what)}, true
		}
	}
	return syntaxCause{}, false
}

// quoteEnd is the offset in s of the quote that closes the one at s[i],
// or len(s) when the text ends first. Inside "…" a \ escapes the next
// character; inside '…' a quote is written twice.
func quoteEnd(s string, i int) int {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		switch {
		case q == '"' && s[j] == '\\':
			j++
		case q == '\'' && s[j] == '\'' && j+1 < len(s) && s[j+1] == '\'':
			j++
		case s[j] == q:
			return j
		}
	}
	return len(s)
}

// keyNoSpace matches "key:value" and "- key:value", a key written without
// the space YAML needs after its colon, capturing what comes before the
// key, the key and the value. "- https://…" is a value, not a key.
var keyNoSpace = regexp.MustCompile(`^(\s*(?:-\s+)?)([A-Za-z_][A-Za-z0-9_-]*):([^\s:/].*)$`)

// keyNoSpaceHint says how to fix a plain text n that YAML read where a
// mapping goes because its one key has no space after its colon
// ("commander:[alice]"), or "" when n is not that.
func keyNoSpaceHint(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode || n.Style != 0 || strings.Contains(n.Value, "\n") {
		return ""
	}
	if c, ok := noSpaceAfterColon(n.Value, n.Line); ok {
		return ": " + c.msg
	}
	return ""
}

// spacelessKey reads f, a key that is not one of its mapping's, as a key
// written without the space after its colon: to YAML {name:Alice Berg} is
// the one key "name:Alice Berg" with no value. It returns the field meant,
// at the positions its key and value have in the file, and the fix; ok is
// false when f is not that. meant.val is nil when the text after the
// colon is not one plain value, or f has a value of its own.
func spacelessKey(f field) (meant field, fix string, ok bool) {
	k := f.key
	if k.Kind != yaml.ScalarNode || k.Style != 0 || strings.Contains(k.Value, "\n") {
		return field{}, "", false
	}
	c, ok := noSpaceAfterColon(k.Value, k.Line)
	if !ok {
		return field{}, "", false
	}
	name, text, _ := strings.Cut(k.Value, ":")
	key := *k
	key.Value, key.Tag = name, "!!str"
	meant = field{key: &key}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err == nil && len(doc.Content) == 1 &&
		doc.Content[0].Kind == yaml.ScalarNode && isNull(deref(f.val)) {
		val := *doc.Content[0]
		val.Line, val.Column = k.Line, k.Column+len(name)+1
		meant.val = &val
	}
	return meant, c.msg, true
}

func noSpaceAfterColon(text string, n int) (syntaxCause, bool) {
	m := keyNoSpace.FindStringSubmatch(strings.TrimRight(text, " \r"))
	if m == nil {
		return syntaxCause{}, false
	}
	v, _, _ := strings.Cut(m[3], " #")
	return syntaxCause{n, len(m[1]) + 1, fmt.Sprintf(`a key needs ": " (a colon then a space) before its value: write %s: %s`, m[2], strings.TrimSpace(v))}, true
}
