package playbooks

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// swallowedKey matches a line that, outside quotes, would be a key:
// "estimate: 10m", "- id: next", "other:".
var swallowedKey = regexp.MustCompile(`^(\s*)(-\s+)?([A-Za-z_][A-Za-z0-9_-]*):(\s|$)`)

// quoteSwallows reports a quoted value whose quote is closed on a later
// line, with a line between that is a key at or left of the value's own
// key: a sibling key, a next list item or a key of a mapping around it.
//
//	do: "Look at the dashboards
//	estimate: 10m
//	… and the logs"
//
// yaml.v3 reads this, and the step silently loses its estimate (or a whole
// next step) into its text. It is an error, not a warning: the plan that
// would load is not the plan that was written, and YAML 1.2 itself
// requires the lines of quoted text to be indented more than its key
// (https://yaml.org/spec/1.2.2/#733-double-quoted-style, s-flow-line-prefix),
// which is how text meant to go on over lines is written; yaml.v3 is
// lenient there.
func (p *parser) quoteSwallows(n *yaml.Node) {
	switch n.Kind {
	case yaml.SequenceNode, yaml.DocumentNode:
		for _, c := range n.Content {
			p.quoteSwallows(c)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if v.Kind == yaml.ScalarNode && (v.Style == yaml.DoubleQuotedStyle || v.Style == yaml.SingleQuotedStyle) {
				p.quoteSwallow(k, v)
			} else {
				p.quoteSwallows(v)
			}
		}
	}
}

// quoteSwallow reports the first line that the quoted value v of key k
// swallowed, if any. Only keys that begin their line (block mappings) are
// looked at.
func (p *parser) quoteSwallow(k, v *yaml.Node) {
	if k.Line != v.Line || v.Line < 1 || v.Line > len(p.lines) {
		return
	}
	line := string(p.lines[v.Line-1])
	at, keyCol := byteOffset(line, v.Column-1), byteOffset(line, k.Column-1)
	if at >= len(line) || line[at] != '"' && line[at] != '\'' ||
		strings.Trim(line[:keyCol], " -") != "" {
		return
	}
	end, endAt := p.quoteClose(v.Line-1, at)
	for i := v.Line; i <= end; i++ {
		text := string(p.lines[i])
		if i == end {
			text = text[:endAt]
		}
		if m := swallowedKey.FindStringSubmatch(text); m != nil && len(m[1]) <= keyCol {
			p.errorf(v, "%s: the %c opened here closes on line %d, so %s on line %d is part of the text: "+
				"close the quote on this line (text that goes on over lines: indent its lines more than %s:)",
				k.Value, line[at], end+1, strings.TrimSpace(m[2]+m[3])+":", i+1, k.Value)
			return
		}
	}
}

// quoteClose is the 0-based line and byte offset of the quote that closes
// the one at p.lines[line][at], or the end of the file.
func (p *parser) quoteClose(line, at int) (int, int) {
	if j := quoteEnd(string(p.lines[line]), at); j < len(p.lines[line]) {
		return line, j
	}
	q := string(p.lines[line][at])
	for i := line + 1; i < len(p.lines); i++ {
		// Each line after the first goes on inside the quote: read it
		// as if the quote were opened in front of it.
		if j := quoteEnd(q+string(p.lines[i]), 0); j <= len(p.lines[i]) {
			return i, j - 1
		}
	}
	last := len(p.lines) - 1
	return last, len(p.lines[last])
}

// byteOffset is the byte offset in text of the character at col (0-based):
// yaml.v3 counts columns in characters.
func byteOffset(text string, col int) int {
	off := 0
	for ; col > 0 && off < len(text); col-- {
		_, size := utf8.DecodeRuneInString(text[off:])
		off += size
	}
	return off
}
