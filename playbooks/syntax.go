package playbooks

import (
	"fmt"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// syntaxCause is where a YAML syntax error really is, and how to fix it.
type syntaxCause struct {
	line, col int // 1-based
	msg       string
}

// findSyntaxCause looks in the source for the usual causes of a YAML syntax
// error that yaml.v3 reported at line. yaml.v3 gives no column, its line can
// be one early (a tab) or far late (an unclosed quote is reported where the
// parser finally gave up, often dozens of lines on), and its words ("did not
// find expected key") do not say what to change. The causes, each found at
// its own line and column:
//
//   - a tab in the indentation;
//   - a quote opened and not closed on its line, or closed before more
//     text ('Don't panic');
//   - ": " inside unquoted text;
//   - unquoted text starting with a character YAML reserves (* & ! % @ `)
//     or with "- ";
//   - a , or ? inside unquoted text within {…};
//   - a key indented too far or too little, a list item's "-" left of
//     the items above it, a key that lines up with no block above it
//     (syntax_indent.go);
//   - a [ or { not closed on its line, a key with no space after its
//     colon (title:API is down), found from yaml.v3's message msg
//     (syntax_flow.go);
//   - an alias of no anchor, a \ in "…" that starts no escape, a control
//     character, bytes that are not UTF-8, found from msg first
//     (syntax_chars.go).
//
// ok is false when none of them is found; the caller then reports yaml.v3's
// own words.
func findSyntaxCause(src []byte, line int, msg string) (c syntaxCause, ok bool) {
	lines := strings.Split(string(src), "\n")
	if c, ok := findByChars(src, lines, line, msg); ok {
		return c, true
	}
	limit := min(line+1, len(lines))
	for i := 0; i < limit; i++ {
		if c, ok := tabIndent(lines[i], i+1); ok {
			return c, true
		}
	}
	for i := 0; i < limit; i++ {
		if c, ok := unclosedQuote(lines[i], i+1); ok {
			return c, true
		}
	}
	// A key that lines up with no block above it is the cause before any
	// the message suggests: a valid "- db:5432" below a misaligned key
	// must not be taken for a key missing its space.
	if c, ok := misaligned(lines, line); ok {
		return c, true
	}
	if c, ok := findByMessage(lines, line, msg); ok {
		return c, true
	}
	if c, ok := overIndented(lines, line); ok {
		return c, true
	}
	if c, ok := underIndented(lines, line); ok {
		return c, true
	}
	// The causes that yaml.v3 reports on (or next to) their own line.
	for _, n := range []int{line, line + 1, line - 1} {
		if n < 1 || n > len(lines) {
			continue
		}
		for _, check := range []func(string, int) (syntaxCause, bool){reservedStart, colonInText, flowPunctuation} {
			if c, ok := check(lines[n-1], n); ok {
				return c, true
			}
		}
	}
	if c, ok := outdentedItem(lines, line); ok {
		return c, true
	}
	// Text after a closing quote ('Don't panic') is reported at the start
	// of the mapping it is in, a few lines early.
	for i := limit; i < min(limit+10, len(lines)); i++ {
		if c, ok := unclosedQuote(lines[i], i+1); ok {
			return c, true
		}
	}
	return syntaxCause{}, false
}

// overIndented finds a "key: value" line indented deeper than the line
// before it, when that line already has its value: YAML then reads it as a
// continuation of that value and stops at its ": ".
func overIndented(lines []string, line int) (syntaxCause, bool) {
	if line < 2 || line > len(lines) {
		return syntaxCause{}, false
	}
	cur := lines[line-1]
	prev := ""
	for i := line - 2; i >= 0; i-- {
		if t := strings.TrimSpace(lines[i]); t != "" && !strings.HasPrefix(t, "#") {
			prev = lines[i]
			break
		}
	}
	if !keyValue.MatchString(cur) || !keyValue.MatchString(prev) {
		return syntaxCause{}, false
	}
	ci, pi := indentOf(cur), indentOf(prev)
	if m := listValue.FindStringSubmatchIndex(prev); m != nil {
		pi = m[4] // "- id: fix": the item's keys line up with id, after the "- "
	}
	if ci <= pi {
		return syntaxCause{}, false
	}
	key, _, _ := strings.Cut(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(prev), "-")), ":")
	return syntaxCause{line, ci + 1, fmt.Sprintf("this key is indented %d more than %s: above it, which already has its value: "+
		"line it up with %s: (%d spaces)", ci-pi, key, key, pi)}, true
}

// underIndented finds, from line on, a key written at the column of a
// list's "-" without one: yaml.v3 reports "did not find expected '-'
// indicator" at the line the list began.
func underIndented(lines []string, line int) (syntaxCause, bool) {
	dash, keys := -1, -1
	for i := max(line-1, 0); i < min(len(lines), line+200); i++ {
		t := strings.TrimSpace(lines[i])
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		in := indentOf(lines[i])
		if m := listValue.FindStringSubmatchIndex(lines[i]); m != nil {
			dash, keys = in, m[4]
			continue
		}
		if dash >= 0 && in == dash {
			return syntaxCause{i + 1, in + 1, fmt.Sprintf("this key is at the column of the list's \"-\": indent it %d more "+
				"to belong to the item above, or begin a new item with \"- \"", keys-dash)}, true
		}
		if dash >= 0 && in < dash {
			dash = -1
		}
	}
	return syntaxCause{}, false
}

// outdentedItem finds, from line on, a list item whose "-" is left of the
// items above it in the same list, at a column no list there uses:
// yaml.v3 reports "did not find expected key" where the mapping holding
// the list began.
func outdentedItem(lines []string, line int) (syntaxCause, bool) {
	var dashes []int // the "-" columns of the lists open at this point, outermost first
	for i := max(line-1, 0); i < min(len(lines), line+200); i++ {
		t := strings.TrimSpace(lines[i])
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		in := indentOf(lines[i])
		if !listValue.MatchString(lines[i]) {
			for len(dashes) > 0 && dashes[len(dashes)-1] >= in {
				dashes = dashes[:len(dashes)-1]
			}
			continue
		}
		above := -1
		for len(dashes) > 0 && dashes[len(dashes)-1] > in {
			above = dashes[len(dashes)-1]
			dashes = dashes[:len(dashes)-1]
		}
		if above >= 0 && (len(dashes) == 0 || dashes[len(dashes)-1] != in) {
			return syntaxCause{i + 1, in + 1, fmt.Sprintf("this list item's \"-\" is %d left of the items above it: "+
				"line it up with theirs (%d spaces)", above-in, above)}, true
		}
		if len(dashes) == 0 || dashes[len(dashes)-1] != in {
			dashes = append(dashes, in)
		}
	}
	return syntaxCause{}, false
}

func indentOf(text string) int { return len(text) - len(strings.TrimLeft(text, " ")) }

func tabIndent(text string, n int) (syntaxCause, bool) {
	indent := text[:len(text)-len(strings.TrimLeft(text, " \t"))]
	if i := strings.IndexByte(indent, '\t'); i >= 0 && strings.TrimSpace(text) != "" {
		return syntaxCause{n, i + 1, "a tab indents this line: YAML indents with spaces only; replace the tab with spaces"}, true
	}
	return syntaxCause{}, false
}

// keyValue matches "key: value" and "- key: value", capturing what comes
// before the value and the value itself.
var keyValue = regexp.MustCompile(`^(\s*(?:-\s+)?[^\s#'"{\[][^:#]*?:\s+)(\S.*)$`)

// listValue matches "- value".
var listValue = regexp.MustCompile(`^(\s*-\s+)(\S.*)$`)

// value returns the value written on a line (after "key: " or "- ") and
// its 0-based column, or ok false.
func value(text string) (v string, col int, ok bool) {
	if m := keyValue.FindStringSubmatchIndex(text); m != nil {
		return text[m[4]:m[5]], m[4], true
	}
	if m := listValue.FindStringSubmatchIndex(text); m != nil {
		return text[m[4]:m[5]], m[4], true
	}
	return "", 0, false
}

func unclosedQuote(text string, n int) (syntaxCause, bool) {
	v, col, ok := value(text)
	if !ok || v == "" || (v[0] != '"' && v[0] != '\'') {
		return syntaxCause{}, false
	}
	if end := quoteEnd(v, 0); end < len(v) {
		return textAfterQuote(v, end, col, n)
	}
	return syntaxCause{n, col + 1, "this text opens a " + string(v[0]) + " that is not closed on its line: close it at the end of the text (or remove it)"}, true
}

// textAfterQuote finds text after the quote that closes a quoted value at
// v[end]: 'Don't panic' is 'Don' and then t panic'.
func textAfterQuote(v string, end, col, n int) (syntaxCause, bool) {
	rest := strings.TrimSpace(v[end+1:])
	if rest == "" || rest[0] == '#' || rest[0] == ':' || rest[0] == ',' {
		return syntaxCause{}, false
	}
	fix := "to write ' inside '…', double it (Don''t), or quote the text with \" instead"
	if v[0] == '"' {
		fix = `to write " inside "…", escape it as \", or quote the text with ' instead`
	}
	return syntaxCause{n, col + end + 1, "this " + string(v[0]) + " ends the quoted text " + v[:end+1] + ", and more text follows it: " + fix}, true
}

// reserved says what YAML reads into a value's first character.
var reserved = map[byte]string{
	'*': "an alias (*name)",
	'&': "an anchor (&name)",
	'!': "a tag (!name)",
	'%': "a directive",
	'@': "a reserved character",
	'`': "a reserved character",
}

func reservedStart(text string, n int) (syntaxCause, bool) {
	v, col, ok := value(text)
	if !ok || v == "" {
		return syntaxCause{}, false
	}
	if strings.HasPrefix(v, "- ") {
		return syntaxCause{n, col + 1, "unquoted text cannot start with \"- \" (YAML reads a list item): quote the text, as in \"" +
			strings.ReplaceAll(v, `"`, `\"`) + "\""}, true
	}
	if what, bad := reserved[v[0]]; bad {
		return syntaxCause{n, col + 1, "unquoted text cannot start with " + string(v[0]) + " (YAML reads " + what +
			"): quote the text, as in \"" + strings.ReplaceAll(v, `"`, `\"`) + "\""}, true
	}
	return syntaxCause{}, false
}

func colonInText(text string, n int) (syntaxCause, bool) {
	v, col, ok := value(text)
	if !ok || v == "" || strings.ContainsAny(v[:1], `"'{[|>`) {
		return syntaxCause{}, false
	}
	if i := strings.Index(v, ": "); i >= 0 {
		return syntaxCause{n, col + i + 1, `": " inside unquoted text starts a mapping in YAML: quote the text, as in "` +
			strings.ReplaceAll(v, `"`, `\"`) + `"`}, true
	}
	return syntaxCause{}, false
}

// flowText finds text inside {…} on a line.
var flowText = regexp.MustCompile(`:\s+([^{}\[\]"',]*[?,][^{}\[\]"',]*)`)

func flowPunctuation(text string, n int) (syntaxCause, bool) {
	open := strings.IndexByte(text, '{')
	if open < 0 {
		return syntaxCause{}, false
	}
	for _, m := range flowText.FindAllStringSubmatchIndex(text[open:], -1) {
		v := text[open+m[2] : open+m[3]]
		i := strings.IndexAny(v, "?")
		if i < 0 {
			continue
		}
		return syntaxCause{n, open + m[2] + i + 1, "inside {…} a ? or , ends the text early: quote the text, or write the mapping as indented lines (key: value, one per line)"}, true
	}
	return syntaxCause{}, false
}

// proseKeys are the keys whose values are text people read in Slack, where a
// " #" that YAML takes for a comment silently cuts the sentence.
var proseKeys = map[string]bool{"do": true, "ask": true, "title": true}

// commentCuts warns about a comment on the same line as unquoted prose (do:,
// ask:, title:, or an answer label): `do: Roll back (see runbook #42 first).`
// posts "Roll back (see runbook". parent is the key of the mapping n is the
// value of.
func (p *parser) commentCuts(n *yaml.Node, parent string) {
	switch n.Kind {
	case yaml.SequenceNode, yaml.DocumentNode:
		for _, c := range n.Content {
			p.commentCuts(c, parent)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			switch {
			case proseKeys[k.Value] && v.Kind == yaml.ScalarNode && v.Style == 0 && v.LineComment != "":
				p.commentCut(v, k.Value, v.Value, v.LineComment)
			case parent == "answers" && k.Style == 0 && (k.LineComment != "" || v.LineComment != "") && k.Line == v.Line:
				p.commentCut(v, "answer", k.Value, k.LineComment+v.LineComment)
			default:
				p.commentCuts(v, k.Value)
			}
		}
	}
}

func (p *parser) commentCut(at *yaml.Node, what, kept, comment string) {
	col := at.Column
	if at.Line >= 1 && at.Line <= len(p.lines) {
		if i := strings.Index(string(p.lines[at.Line-1][min(col-1, len(p.lines[at.Line-1])):]), " #"); i >= 0 {
			col += i + 1
		}
	}
	p.warnf(&yaml.Node{Line: at.Line, Column: col},
		"%s: YAML reads %q as a comment, so the text ends at %q; quote the whole text to keep it", what, comment, kept)
}
