package plandoc

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"
)

//go:embed book.html.tmpl
var bookHTML string

//go:embed book.css
var bookCSS string

// CSS is the book's style sheet, print rules included; the web view uses
// it for the pages that show the book.
func CSS() string { return bookCSS }

var bookTmpl = template.Must(template.New("book").Funcs(template.FuncMap{
	"css":  func() template.CSS { return template.CSS(bookCSS) },
	"join": strings.Join,
	"short": func(s string) string {
		if len(s) > 12 {
			return s[:12]
		}
		return s
	},
}).Parse(bookHTML))

// svgHTML marks Graphviz's SVG as safe HTML: Graphviz escapes the text of
// every label it writes (the tests hold it to that with a label full of
// markup).
func svgHTML(svg string) template.HTML { return template.HTML(svg) }

// WriteHTML writes the book as one self-contained HTML document.
func (b *Book) WriteHTML(w io.Writer) error {
	return bookTmpl.ExecuteTemplate(w, "book", b)
}

// WriteHTMLBody writes the book's content without <html>, <head> and
// style, for a page that has its own (the web view's /plan; it includes
// CSS()).
func (b *Book) WriteHTMLBody(w io.Writer) error {
	return bookTmpl.ExecuteTemplate(w, "content", b)
}

// WriteMarkdown writes the book as Markdown with Mermaid charts.
func (b *Book) WriteMarkdown(w io.Writer) error {
	m := &mdWriter{w: w}
	b.markdown(m)
	return m.err
}

type mdWriter struct {
	w   io.Writer
	err error
}

func (m *mdWriter) f(format string, args ...any) {
	if m.err == nil {
		_, m.err = fmt.Fprintf(m.w, format, args...)
	}
}

// md neutralises text for a Markdown table cell or line: the characters
// that would make it markup are escaped, and line breaks become spaces.
func md(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "|", `\|`, "*", `\*`, "_", `\_`, "`", "\\`", "<", "&lt;", ">", "&gt;", "[", `\[`, "]", `\]`, "#", `\#`, "\n", " ")
	return r.Replace(s)
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func (b *Book) markdown(m *mdWriter) {
	m.f("# %s\n\n", md(b.Name))
	m.f("| | |\n|---|---|\n")
	m.f("| Plan file | %s |\n| Version | `%s`%s |\n| Timezone | %s |\n", md(b.File), b.Hash, md(datePart(b.FileDate)), md(b.Timezone))
	if b.Contacts != "" {
		m.f("| Contact list | %s |\n", md(b.Contacts))
	}
	m.f("\n## Contacts\n\n| Name | Slack | Email | Phone | Roles |\n|---|---|---|---|---|\n")
	for _, p := range b.People {
		m.f("| %s | %s | %s | %s | %s |\n", md(p.Name), md(orDash(p.Slack)), md(orDash(p.Email)), md(orDash(p.Phone)), md(orDash(strings.Join(p.Roles, ", "))))
	}
	m.f("\n## Roles and escalation order\n\n")
	for _, r := range b.Roles {
		m.f("- **%s**: %s\n", md(r.Name), md(strings.Join(r.Chain, " → ")))
	}
	m.f("\n## Paging\n\nA page not acknowledged within %s goes to the next contact of the role; after %d rounds over the list the channel is told nobody answered.", b.Paging.AckTimeout, b.Paging.Rounds)
	if b.Paging.Webhook != "" {
		m.f(" Every page is also sent to %s.", md(b.Paging.Webhook))
	}
	m.f("\n\n## Services\n\n| Service | RTO | RPO | Backup every | Restore takes | Own | Composite | Downtime/month | Downtime/year | Depends on |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, s := range b.Services {
		m.f("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", md(s.ID), orDash(s.RTO), orDash(s.RPO), orDash(s.Backup), orDash(s.Restore),
			orDash(s.Own), s.Composite, s.DowntimeMonth, s.DowntimeYear, md(orDash(strings.Join(s.DependsOn, ", "))))
	}
	m.f("\nDowntime is what the composite availability allows per 30 days and per 365 days.\n\n```mermaid\n%s```\n", b.DepGraph.Mermaid)
	for _, sc := range b.Scenarios {
		b.mdScenario(m, sc)
	}
	b.mdSchedules(m)
}

func datePart(d string) string {
	if d == "" {
		return ""
	}
	return ", file of " + d
}

func (b *Book) mdScenario(m *mdWriter, sc Scenario) {
	m.f("\n## Scenario: %s\n\n", md(sc.Title))
	m.f("`%s` · %s · service %s", sc.ID, md(sc.Severity), md(orDash(sc.Service)))
	if sc.RTO != "" {
		m.f(" · RTO %s", sc.RTO)
	}
	m.f("\n\n**Worst case %s** (%s): %s.\n\n", sc.Worst, md(strings.Join(sc.WorstPath, " → ")), md(sc.Verdict))
	if len(sc.Paged) > 0 {
		m.f("Paged when declared:\n\n")
		for _, r := range sc.Paged {
			m.f("- %s: %s\n", md(r.Name), md(strings.Join(r.Chain, " → ")))
		}
		m.f("\n")
	}
	m.f("```mermaid\n%s```\n\n", sc.Chart.Mermaid)
	for _, st := range sc.Steps {
		m.f("%d. **%s**", st.N, md(st.ID))
		var facts []string
		if st.Estimate != "" {
			facts = append(facts, st.Estimate)
		}
		if st.Owner != "" {
			facts = append(facts, "owner: "+md(st.Owner))
		}
		if st.Approval != "" {
			facts = append(facts, "needs approval by "+md(st.Approval))
		}
		if st.Worst {
			facts = append(facts, "worst-case path")
		}
		if len(facts) > 0 {
			m.f(" (%s)", strings.Join(facts, ", "))
		}
		m.f(": %s", md(st.Do))
		if st.Ask != "" {
			m.f("\n   **%s**", md(st.Ask))
			for _, a := range st.Answers {
				m.f("\n   - %s → %s", md(a.Label), md(a.Then))
			}
		} else {
			m.f(" Then %s.", md(st.Then))
		}
		m.f("\n")
	}
	if len(sc.Warnings) > 0 {
		m.f("\n**Feasibility warnings**\n\n")
		for _, w := range sc.Warnings {
			m.f("- %s\n", md(w))
		}
	}
}

func (b *Book) mdSchedules(m *mdWriter) {
	m.f("\n## Reviews and drills\n\n")
	if b.Review != nil {
		m.f("Contact-list review: `%s`", b.Review.Schedule)
		if b.Review.Next != "" {
			m.f(" (next %s)", b.Review.Next)
		}
		m.f(", by %s; reminded again after %s unconfirmed", md(strings.Join(b.Review.Owners, ", ")), b.Review.OverdueAfter)
		if b.Review.Channel != "" {
			m.f(", overdue notices in #%s", md(b.Review.Channel))
		}
		m.f(".\n\n")
	} else {
		m.f("No contact-list review is scheduled.\n\n")
	}
	if len(b.Drills) == 0 {
		m.f("No drill is scheduled.\n")
	}
	for _, d := range b.Drills {
		m.f("- Drill of `%s` (%s): `%s`", d.Scenario, md(d.Title), d.Schedule)
		if d.Next != "" {
			m.f(", next %s", d.Next)
		}
		m.f("\n")
	}
	m.f("\n## Plan check findings\n\n")
	if len(b.Findings) == 0 {
		m.f("None: the plan checks clean.\n")
	}
	for _, f := range b.Findings {
		m.f("- %s\n", md(f))
	}
}
