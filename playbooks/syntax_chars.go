package playbooks

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// findByChars looks for the causes of yaml.v3's messages about single
// characters, which name no line at all ("unknown anchor", the reader's
// "control characters are not allowed" and "invalid … UTF-8 …") or the
// line where a "…" began rather than the character ("found unknown escape
// character"): an alias of an anchor that is not defined above it, a \ in
// "…" that starts no escape YAML knows, a control character, bytes that
// are not UTF-8.
func findByChars(src []byte, lines []string, line int, msg string) (syntaxCause, bool) {
	switch {
	case unknownAnchor.MatchString(msg):
		return undefinedAlias(lines, unknownAnchor.FindStringSubmatch(msg)[1])
	case msg == "found unknown escape character" || msg == "did not find expected hexdecimal number" ||
		msg == "found invalid Unicode character escape code":
		return badEscape(lines, line)
	case msg == "control characters are not allowed":
		return controlChar(src)
	case strings.Contains(msg, "UTF-8") || msg == "invalid Unicode character":
		return notUTF8(src)
	}
	return syntaxCause{}, false
}

// unknownAnchor matches yaml.v3's words for an alias of no anchor,
// capturing the anchor's name.
var unknownAnchor = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)

// undefinedAlias finds the first *name that starts a value (after "key: ",
// "- ", or a [ { or , of a flow collection): yaml.v3 names no line for it.
func undefinedAlias(lines []string, name string) (syntaxCause, bool) {
	alias := "*" + name
	for i, text := range lines {
		for off := 0; ; {
			j := strings.Index(text[off:], alias)
			if j < 0 {
				break
			}
			at, end := off+j, off+j+len(alias)
			off = end
			before := strings.TrimRight(text[:at], " \t")
			if before != "" && !strings.ContainsAny(before[len(before)-1:], ":-[{,?") {
				continue
			}
			if end < len(text) && !strings.ContainsAny(text[end:end+1], " \t\r,]}") {
				continue
			}
			return syntaxCause{i + 1, charCol(text, at), fmt.Sprintf("%s refers to no anchor &%s above it: define &%s before it, "+
				"or quote the text if * was meant literally", alias, name, name)}, true
		}
	}
	return syntaxCause{}, false
}

// escapeChars are the characters yaml.v3 takes after a \ inside "…" (a \
// at the end of a line goes on to the next one).
const escapeChars = "0abt\tnvfre \"'\\N_LPxuU\r"

// escapeDigits is how many hex digits follow \x, \u and \U.
var escapeDigits = map[byte]int{'x': 2, 'u': 4, 'U': 8}

// badEscape finds, in the "…" values that begin on line (yaml.v3 names
// the line a quoted text began on, not where its escape is), the first \
// that starts no escape yaml.v3 knows: an unknown letter (C:\q, \d+), or
// \x, \u, \U without their hex digits (C:\users).
func badEscape(lines []string, line int) (syntaxCause, bool) {
	if line < 1 || line > len(lines) {
		return syntaxCause{}, false
	}
	text := lines[line-1]
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case c == '#' && (i == 0 || text[i-1] == ' '):
			return syntaxCause{}, false
		case c == '\'' && startsValue(text, i):
			i = quoteEnd(text, i)
		case c == '"' && startsValue(text, i):
			if cause, end, ok := escapeIn(lines, line-1, i); ok {
				return cause, true
			} else if end < 0 {
				return syntaxCause{}, false
			} else {
				i = end
			}
		}
	}
	return syntaxCause{}, false
}

// startsValue reports whether the quote at text[i] begins a value: it
// stands first on its line or after ": ", "- ", [ { or ,.
func startsValue(text string, i int) bool {
	before := strings.TrimRight(text[:i], " \t")
	return before == "" || strings.ContainsAny(before[len(before)-1:], ":-[{,?")
}

// escapeIn reads the "…" that opens at lines[l][at] and returns the
// first bad escape in it, or else the offset of its closing quote on
// lines[l] (-1 when it closes on a later line or never).
func escapeIn(lines []string, l, at int) (syntaxCause, int, bool) {
	for i, from := l, at+1; i < len(lines); i, from = i+1, 0 {
		text := lines[i]
		for j := from; j < len(text); j++ {
			switch text[j] {
			case '"':
				if i == l {
					return syntaxCause{}, j, false
				}
				return syntaxCause{}, -1, false
			case '\\':
				if j+1 == len(text) {
					continue // the text goes on on the next line
				}
				if bad(text[j+1:]) {
					return syntaxCause{i + 1, charCol(text, j), `inside "…" a \ starts an escape (\n, \t, \", \\): ` +
						`write \\ for a backslash (C:\\path, a\\d+), or quote the text with ' instead, where \ is just a character`}, 0, true
				}
				j++
			}
		}
	}
	return syntaxCause{}, -1, false
}

// bad reports whether s, the text after a \ inside "…", starts no escape
// yaml.v3 knows.
func bad(s string) bool {
	if !strings.Contains(escapeChars, s[:1]) {
		return true
	}
	n, ok := escapeDigits[s[0]]
	if !ok {
		return false
	}
	if len(s) < 1+n || strings.Trim(s[1:1+n], "0123456789abcdefABCDEF") != "" {
		return true
	}
	code, _ := strconv.ParseUint(s[1:1+n], 16, 64)
	return code >= 0xD800 && code <= 0xDFFF || code > 0x10FFFF
}

// controlChar finds the first character YAML does not allow in a file
// (yaml.v3 names no line): a control character other than tab, line feed
// and carriage return, DEL, or U+FFFE and U+FFFF.
func controlChar(src []byte) (syntaxCause, bool) {
	s := string(src)
	for off, r := range s {
		allowed := r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r <= 0x7E || r == 0x85 ||
			r >= 0xA0 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF ||
			r == utf8.RuneError // bytes that are not UTF-8: notUTF8's
		if allowed {
			continue
		}
		line, col, text := position(s, off)
		what := fmt.Sprintf("byte 0x%02X", r)
		if r > 0x7F {
			what = fmt.Sprintf("U+%04X", r)
		}
		return syntaxCause{line, col, fmt.Sprintf("remove the control character (%s) at this column, %s; a plan is text", what, after(text))}, true
	}
	return syntaxCause{}, false
}

// notUTF8 finds the first byte that is not part of UTF-8 text.
func notUTF8(src []byte) (syntaxCause, bool) {
	s := string(src)
	for off, r := range s {
		if r != utf8.RuneError {
			continue
		}
		if _, size := utf8.DecodeRuneInString(s[off:]); size != 1 {
			continue // a U+FFFD written out is text
		}
		line, col, _ := position(s, off)
		return syntaxCause{line, col, fmt.Sprintf("the file is not UTF-8 text (byte 0x%02X): save it as UTF-8", s[off])}, true
	}
	return syntaxCause{}, false
}

// position is the 1-based line and column (in characters) of byte off of
// s, and the text of its line before it.
func position(s string, off int) (line, col int, before string) {
	start := strings.LastIndexByte(s[:off], '\n') + 1
	return strings.Count(s[:start], "\n") + 1, charCol(s[start:], off-start), s[start:off]
}

// after says what a character invisible in most editors follows on its
// line, given the text before it.
func after(before string) string {
	t := strings.TrimLeft(before, " \t")
	if t == "" {
		return "first on its line"
	}
	if r := []rune(t); len(r) > 30 {
		t = "…" + string(r[len(r)-30:])
	}
	return fmt.Sprintf("just after %q", t)
}

// charCol is the 1-based column, in characters as yaml.v3 counts them, of
// byte off of the line text.
func charCol(text string, off int) int {
	return utf8.RuneCountInString(text[:off]) + 1
}
