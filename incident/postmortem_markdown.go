package incident

import (
	"fmt"
	"strings"
	"time"
)

// Markdown renders the postmortem as the document a team reviews, in the
// order of a blameless postmortem (the Google SRE book's template):
// summary, impact, detection, the key figures of the timeline (times to
// acknowledge and recover against the RTO, the data lost against the
// RPO, acknowledgements, steps against their estimates, decisions,
// approvals, escalations), root cause and trigger, resolution, action
// items with drbot's findings as suggestions, lessons learned as
// headings for the team to fill, notes, and the full timeline, one
// method of mdWriter per section. Drills say so in the title and under
// it. It reads only pm.
func (pm *Postmortem) Markdown() string {
	w := &mdWriter{pm: pm}
	w.Grow(1024 + 96*len(pm.Timeline))
	w.header()
	w.impact()
	w.detection()
	w.keyFigures()
	w.acks()
	w.steps()
	w.decisions()
	w.approvals()
	w.escalations()
	w.rootCause()
	w.resolution()
	w.actionItems()
	w.lessons()
	w.notes()
	w.timeline()
	return w.String()
}

// mdWriter writes one postmortem as Markdown.
type mdWriter struct {
	strings.Builder
	pm *Postmortem
}

// name is the display name of a Slack member ID or contact, as the
// postmortem's Names has it.
func (w *mdWriter) name(id string) string {
	if id == "" {
		return ""
	}
	if n := w.pm.Names[id]; n != "" {
		return n
	}
	return id
}

// actor is who did something: a name, or drbot itself.
func (w *mdWriter) actor(id string) string {
	if id == "" {
		return "drbot"
	}
	return w.name(id)
}

// row writes one row of a table.
func (w *mdWriter) row(cells ...string) {
	w.WriteString("|")
	for _, c := range cells {
		w.WriteString(" ")
		w.WriteString(w.cell(c))
		w.WriteString(" |")
	}
	w.WriteString("\n")
}

// header writes the title, the incident's facts on one line, and its
// summary.
func (w *mdWriter) header() {
	pm := w.pm
	title := pm.Title
	if title == "" {
		title = pm.Scenario
	}
	if pm.Drill {
		fmt.Fprintf(w, "# DRILL: Postmortem of incident %d: %s\n\n", pm.ID, w.text(title))
		w.WriteString("> This was a drill, not a real incident. Its figures score the exercise.\n\n")
	} else {
		fmt.Fprintf(w, "# Postmortem of incident %d: %s\n\n", pm.ID, w.text(title))
	}

	var head []string
	add := func(label, v string) {
		if v != "" {
			head = append(head, "**"+label+":** "+w.text(v))
		}
	}
	add("Scenario", pm.Scenario)
	add("Service", pm.Service)
	add("Severity", pm.Severity)
	add("State", string(pm.State))
	if pm.Channel != "" {
		add("Channel", "#"+pm.Channel)
	}
	w.WriteString(strings.Join(head, " · "))
	w.WriteString("\n\n")
	w.WriteString("## Summary\n\n")
	if pm.Summary != "" {
		w.WriteString(w.text(pm.Summary))
	} else {
		w.WriteString("_No summary was given when it was declared._")
	}
	w.WriteString("\n\n")
}

// keyFigures writes the times to acknowledge and recover against the RTO.
func (w *mdWriter) keyFigures() {
	pm := w.pm
	w.WriteString("## Key figures\n\n| | |\n|---|---|\n")
	w.row("Declared", w.time(pm.DeclaredAt))
	if pm.State == StateResolved {
		w.row("Resolved", w.time(pm.ResolvedAt))
	} else {
		w.row("Resolved", "not yet (figures as of "+w.time(pm.AsOf)+")")
	}
	w.row("Time to acknowledge", pm.AckText())
	w.row("Time to recover", mdSeconds(pm.TimeToRecoverSeconds))
	if pm.RTOSeconds > 0 {
		w.row("RTO", mdSeconds(pm.RTOSeconds))
		margin := mdSeconds(abs64(pm.RTOMarginSeconds))
		switch {
		case pm.State != StateResolved && pm.RTOMet:
			w.row("RTO met", "so far: "+margin+" left")
		case pm.State != StateResolved:
			w.row("RTO met", "no: "+margin+" past it, still open")
		case pm.RTOMet:
			w.row("RTO met", "yes, "+margin+" to spare")
		default:
			w.row("RTO met", "no, missed by "+margin)
		}
	} else {
		w.row("RTO", "none set")
	}
	if pm.BeganAt != "" && pm.BeganAt != pm.DeclaredAt {
		w.row("Failure began", w.time(pm.BeganAt))
	}
	if pm.RPOSeconds != nil || pm.RecoveryPoint != nil {
		if pm.RecoveryPoint != nil {
			w.row("Recovery point", w.time(*pm.RecoveryPoint))
		}
		w.row("Data lost", pm.dataLossRow())
	}
	for _, f := range pm.Findings {
		if score, ok := strings.CutPrefix(f, "drill score: "); ok {
			w.row("Drill score", score)
		}
	}
	w.WriteString("\n")
}

// acks writes who acknowledged each role's page, after how many pages.
func (w *mdWriter) acks() {
	mdTable(w, "### Acknowledgements", []string{"Role", "Acknowledged by", "Pages", "Time to acknowledge"}, w.pm.Acks, func(a PMAck) []string {
		if !a.Acknowledged {
			return []string{a.Role, "nobody", fmt.Sprint(a.Pages), ""}
		}
		return []string{a.Role, w.name(a.Contact), fmt.Sprint(a.Pages), mdSeconds(a.AckSeconds)}
	})
}

// steps writes the runbook steps with their outcome against their estimate.
func (w *mdWriter) steps() {
	if len(w.pm.Steps) == 0 {
		w.WriteString("### Steps\n\nNo step was started.\n\n")
		return
	}
	mdTable(w, "### Steps", []string{"Step", "Outcome", "Estimate", "Actual", "By"}, w.pm.Steps, func(s PMStep) []string {
		step := "**" + s.ID + "**"
		if s.Do != "" {
			step += " " + s.Do
		}
		est := ""
		if s.EstimateSeconds > 0 {
			est = mdSeconds(s.EstimateSeconds)
		}
		return []string{step, string(s.Outcome), est, mdSeconds(s.ActualSeconds), w.name(s.By)}
	})
}

// decisions writes the answers given to the runbook's questions.
func (w *mdWriter) decisions() {
	mdList(w, "### Decisions", w.pm.Decisions, func(d PMDecision) string {
		q := ""
		if d.Ask != "" {
			q = " " + w.text(d.Ask)
		}
		item := fmt.Sprintf("%s **%s**%s Answer: **%s**", w.time(d.At), w.text(d.Step), q, w.text(d.Answer))
		if d.By != "" {
			item += ", by " + w.text(w.name(d.By))
		}
		return item
	})
}

// approvals writes the approvals asked for, who decided, and the wait.
func (w *mdWriter) approvals() {
	mdTable(w, "### Approvals", []string{"Step", "Role", "Outcome", "By", "Requested", "Decided", "Wait"}, w.pm.Approvals, func(a PMApproval) []string {
		outcome := string(a.Outcome)
		if a.Reason != "" {
			outcome += ": " + a.Reason
		}
		return []string{a.Step, a.Role, outcome, w.name(a.By), w.time(a.RequestedAt), w.time(a.DecidedAt), mdSeconds(a.WaitSeconds)}
	})
}

// escalations writes each escalation with its time.
func (w *mdWriter) escalations() {
	mdList(w, "### Escalations", w.pm.Escalations, func(e PMEvent) string {
		return w.time(e.At) + " " + w.text(e.Text)
	})
}

// notes writes the notes people added, with who and when.
func (w *mdWriter) notes() {
	mdList(w, "## Notes", w.pm.Notes, func(e PMEvent) string {
		return w.time(e.At) + " " + w.text(w.actor(e.Actor)) + ": " + w.text(e.Text)
	})
}

// timeline writes every event of the incident as a table.
func (w *mdWriter) timeline() {
	w.tableHead("## Timeline", "Time", "What", "Who", "Details")
	for _, e := range w.pm.Timeline {
		w.row(w.time(e.At), string(e.Kind), w.actor(e.Actor), e.Text)
	}
}

// tableHead starts a table under heading: the row of its columns and the
// line under it.
func (w *mdWriter) tableHead(heading string, columns ...string) {
	w.WriteString(heading + "\n\n")
	w.row(columns...)
	w.WriteString(strings.Repeat("|---", len(columns)) + "|\n")
}

// mdTable writes a section that is a table, a row of cells per item;
// nothing when there are none.
func mdTable[T any](w *mdWriter, heading string, columns []string, items []T, cells func(T) []string) {
	if len(items) == 0 {
		return
	}
	w.tableHead(heading, columns...)
	for _, it := range items {
		w.row(cells(it)...)
	}
	w.WriteString("\n")
}

// mdList writes a section that is a list, an item a line; nothing when
// there are none.
func mdList[T any](w *mdWriter, heading string, items []T, item func(T) string) {
	if len(items) == 0 {
		return
	}
	w.WriteString(heading + "\n\n")
	for _, it := range items {
		w.WriteString("- " + item(it) + "\n")
	}
	w.WriteString("\n")
}

func abs64(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

func mdSeconds(s int64) string { return pmDur(time.Duration(s) * time.Second) }

// time shows an RFC 3339 time of the postmortem ("2026-11-21T10:00:00Z",
// always UTC and whole seconds) in the plan's time zone, with its
// abbreviation: "2026-11-21 11:00:00 CET". Every time of the document is
// written this way: people read it in the plan's zone, as they saw the
// incident in Slack, and the abbreviation says which zone when it is
// read elsewhere or next to logs in UTC (the JSON has UTC). Seconds stay:
// an acknowledgement 95 s after the page is a figure of the review.
func (w *mdWriter) time(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	loc := w.pm.loc
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format("2006-01-02 15:04:05 MST")
}

// text is what people typed, readable (Slack's markup for members,
// channels and links as @Ben Dahl, #ops, [label](url): readable), on one
// line, with what Markdown would read in it escaped (mdLiteral) and its
// right-to-left controls closed (closeBidi).
func (w *mdWriter) text(s string) string {
	return closeBidi(mdText(readable(s, w.memberName, mdLiteral, mdURL)))
}

// cell is text for a table cell: a pipe would end the cell.
func (w *mdWriter) cell(s string) string {
	return closeBidi(mdCell(readable(s, w.memberName, mdLiteral, mdURL)))
}

// memberName is the name of a Slack member the postmortem knows, or "".
func (w *mdWriter) memberName(id string) string { return w.pm.Names[id] }

// mdText keeps text on one line, so that a newline typed in Slack cannot
// start a heading or end a list item.
var mdText = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace

// mdCell is mdText for a table cell.
var mdCell = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "|", `\|`).Replace

// mdLiteral backslash-escapes (CommonMark) what people typed that Markdown
// would read as markup rather than show: "<timeout>" or "<b>" (HTML, which
// a renderer passes through or drops) and "[text](url)" (a link, perhaps
// to javascript:). Slack's own links become Markdown links (readable);
// typed ones show as typed.
var mdLiteral = strings.NewReplacer(`\`, `\\`, "<", `\<`, "[", `\[`, "]", `\]`).Replace

// mdURL percent-encodes what would end a Markdown link's address or
// start markup in it, so that a link's URL stays one address:
// "https://a.example/)[x](javascript:…" cannot close the link and open
// another.
var mdURL = strings.NewReplacer("(", "%28", ")", "%29", "[", "%5B", "]", "%5D", "<", "%3C", ">", "%3E", `\`, "%5C", " ", "%20").Replace

// closeBidi closes the right-to-left embeddings, overrides and isolates
// left open in s (U+202A–U+202E, U+2066–U+2069), so that one typed in a
// note cannot turn the rest of the postmortem's line around.
func closeBidi(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r >= '\u202a' && r <= '\u202e' || r >= '\u2066' && r <= '\u2069' }) {
		return s
	}
	embed, isolate := 0, 0
	for _, r := range s {
		switch {
		case r >= '\u202a' && r <= '\u202e' && r != '\u202c':
			embed++
		case r == '\u202c' && embed > 0:
			embed--
		case r >= '\u2066' && r <= '\u2068':
			isolate++
		case r == '\u2069' && isolate > 0:
			isolate--
		}
	}
	return s + strings.Repeat("\u202c", embed) + strings.Repeat("\u2069", isolate)
}
