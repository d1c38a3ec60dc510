package playbooks

import (
	"fmt"
	"regexp"
	"strings"
)

// keyLine matches a line that holds a mapping key ("key:", "key: value",
// "- key: value"), capturing the "- " prefix, the key and what follows
// its colon. Continuation lines of plain text do not match.
var keyLine = regexp.MustCompile(`^\s*(-\s+)?([^\s#'"{\[\-][^:#]*?|"[^"]*"|'[^']*'):(\s.*)?$`)

// blockScalarStart matches the value that starts a literal or folded block
// ("|", ">-", "|2" …), whose lines may be indented any way.
var blockScalarStart = regexp.MustCompile(`^[|>][-+0-9]*\s*(#.*)?$`)

// anchorOrTag matches the anchors (&name) and tags (!name) before a value:
// "steps: &steps" still opens a block.
var anchorOrTag = regexp.MustCompile(`^\s*(?:[&!]\S*\s*)+`)

// indentLevel is a block open at a line: the column its keys (or its
// list's "-") stand at, and the last key seen there.
type indentLevel struct {
	col int
	key string // "" for a list's "-"
}

// misaligned finds, from line on, a key whose indentation matches none of
// the blocks open above it: one space short of its siblings, one space too
// many for the keys below it, or between a list's "-" and its item's keys.
// yaml.v3 reports these as "did not find expected key" (or "-" indicator)
// where the enclosing mapping or list began, often lines earlier. Lines of
// block scalars, multi-line flow collections and plain text that goes on
// over lines are passed over.
func misaligned(lines []string, line int) (syntaxCause, bool) {
	var open []indentLevel
	opens := true // the line before opened a block: a deeper line starts it
	scalar, flow := -1, 0
	for i := max(line-1, 0); i < min(len(lines), line+200); i++ {
		t := strings.TrimSpace(lines[i])
		in := indentOf(lines[i])
		switch {
		case t == "" || strings.HasPrefix(t, "#"):
			continue
		case scalar >= 0 && in > scalar:
			continue
		case flow > 0:
			flow += strings.Count(t, "{") + strings.Count(t, "[") - strings.Count(t, "}") - strings.Count(t, "]")
			continue
		}
		scalar = -1
		m := keyLine.FindStringSubmatch(lines[i])
		dash := strings.HasPrefix(t, "- ") || t == "-"
		if m == nil && !dash {
			continue // plain text going on over lines
		}
		var popped *indentLevel
		for len(open) > 0 && open[len(open)-1].col > in {
			left := open[len(open)-1]
			popped = &left
			open = open[:len(open)-1]
		}
		if popped != nil {
			opens = false // back out of the line above's block: not its content
		}
		if len(open) == 0 {
			// Left every block seen since line: what encloses this one
			// was opened before it, so there is nothing to compare with.
			opens = true
		}
		top := -1
		if len(open) > 0 {
			top = open[len(open)-1].col
		}
		if top != in && !opens {
			return misalignedCause(lines, i, in, open[len(open)-1], popped)
		}
		if top != in {
			open = append(open, indentLevel{col: in})
		}
		opens = m == nil // a "-" with no key opens its item
		if m == nil {
			continue
		}
		keyCol := in
		if m[1] != "" {
			keyCol = in + len(m[1])
			open[len(open)-1].key = ""
			open = append(open, indentLevel{col: keyCol})
		}
		open[len(open)-1].key = m[2]
		v := strings.TrimSpace(anchorOrTag.ReplaceAllString(m[3], ""))
		switch {
		case v == "" || strings.HasPrefix(v, "#"):
			opens = true
		case blockScalarStart.MatchString(v):
			scalar = keyCol
		case v[0] == '{' || v[0] == '[':
			flow = strings.Count(v, "{") + strings.Count(v, "[") - strings.Count(v, "}") - strings.Count(v, "]")
		}
	}
	return syntaxCause{}, false
}

// misalignedCause says what is wrong with the key at lines[i], indented
// in, which lines up with no block above it: top is the block it is
// inside, popped the deeper block it left (nil if none). With the keys
// below at the same column as this one, popped's key was the one indented
// too far.
func misalignedCause(lines []string, i, in int, top indentLevel, popped *indentLevel) (syntaxCause, bool) {
	switch {
	case popped == nil && top.key != "":
		return syntaxCause{i + 1, in + 1, fmt.Sprintf("this key is indented %d more than %s: above it, which already has its value: "+
			"line it up with %s: (%d spaces)", in-top.col, top.key, top.key, top.col)}, true
	case popped == nil || popped.key == "":
		return syntaxCause{}, false // between a list's "-" and the blocks around it: no one fix
	}
	if next, ok := nextKeyIndent(lines, i); ok && next == in {
		// The keys from here on agree: the block above went too far.
		for j := i - 1; j >= 0; j-- {
			if m := keyLine.FindStringSubmatch(lines[j]); m != nil && m[2] == popped.key && indentOf(lines[j])+len(m[1]) == popped.col {
				return syntaxCause{j + 1, popped.col + 1, fmt.Sprintf("this key is indented %d more than the keys below it: "+
					"line it up with them (%d spaces)", popped.col-in, in)}, true
			}
		}
	}
	return syntaxCause{i + 1, in + 1, fmt.Sprintf("this key is indented %d short of %s: above it, and lines up with no key there: "+
		"line it up with %s: (%d spaces)", popped.col-in, popped.key, popped.key, popped.col)}, true
}

// nextKeyIndent is the indentation of the first key line after lines[i].
func nextKeyIndent(lines []string, i int) (int, bool) {
	for j := i + 1; j < len(lines); j++ {
		if keyLine.MatchString(lines[j]) && !strings.HasPrefix(strings.TrimSpace(lines[j]), "- ") {
			return indentOf(lines[j]), true
		}
		if t := strings.TrimSpace(lines[j]); t != "" && !strings.HasPrefix(t, "#") {
			return 0, false
		}
	}
	return 0, false
}
