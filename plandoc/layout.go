package plandoc

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/goccy/go-graphviz"
)

// gv is one Graphviz instance shared by every render. Graphviz keeps
// global state, so renders take turns (gvMu).
var (
	gvMu   sync.Mutex
	gv     *graphviz.Graphviz
	gvErr  error
	gvOnce sync.Once
)

// renderSVG lays out a graph written in DOT and returns it as an <svg>
// element to put inline in HTML: Graphviz's XML declaration, doctype and
// comments are cut.
func renderSVG(ctx context.Context, dot string) (string, error) {
	gvOnce.Do(func() { gv, gvErr = graphviz.New(ctx) })
	if gvErr != nil {
		return "", fmt.Errorf("start graphviz: %w", gvErr)
	}
	g, err := graphviz.ParseBytes([]byte(dot))
	if err != nil {
		return "", fmt.Errorf("graphviz: parse the chart: %w", err)
	}
	defer g.Close()
	var buf bytes.Buffer
	gvMu.Lock()
	err = gv.Render(ctx, g, graphviz.SVG, &buf)
	gvMu.Unlock()
	if err != nil {
		return "", fmt.Errorf("graphviz: lay out the chart: %w", err)
	}
	return inlineSVG(buf.String()), nil
}

// inlineSVG keeps the <svg> element of Graphviz's output and drops the
// comments in it (they name the Graphviz version and the graph).
func inlineSVG(s string) string {
	if i := strings.Index(s, "<svg"); i >= 0 {
		s = s[i:]
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "<!--")
		if i < 0 {
			break
		}
		j := strings.Index(s[i:], "-->")
		if j < 0 {
			break
		}
		b.WriteString(s[:i])
		s = strings.TrimLeft(s[i+j+3:], "\n")
	}
	b.WriteString(s)
	return strings.TrimSpace(b.String())
}

// dotQuote quotes s as a DOT string whose text Graphviz shows as is:
// backslashes are doubled (Graphviz reads \n, \N, \G in labels) and
// quotes escaped. Lines are joined with \n, which centres them.
func dotQuote(lines ...string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", " ", "\r", " ")
	for i, l := range lines {
		lines[i] = r.Replace(l)
	}
	return `"` + strings.Join(lines, `\n`) + `"`
}

// wrap breaks text into lines of at most width runes, at spaces; a word
// longer than width gets a line of its own. At most max lines are kept,
// the last ending in "…" when text was cut.
func wrap(text string, width, max int) []string {
	var lines []string
	var cur []rune
	for _, w := range strings.Fields(text) {
		rw := []rune(w)
		if len(cur) > 0 && len(cur)+1+len(rw) > width {
			lines = append(lines, string(cur))
			cur = nil
		}
		if len(cur) > 0 {
			cur = append(cur, ' ')
		}
		cur = append(cur, rw...)
	}
	if len(cur) > 0 {
		lines = append(lines, string(cur))
	}
	if max > 0 && len(lines) > max {
		lines = lines[:max]
		lines[max-1] = strings.TrimRight(lines[max-1], " .,;:") + "…"
	}
	return lines
}
