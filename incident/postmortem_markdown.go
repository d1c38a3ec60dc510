package incident

import (
	"fmt"
	"strings"
	"time"
)

// Markdown renders the postmortem as a document a team pastes into its
// review: header, key figures, acknowledgements, steps against their
// estimates, decisions, approvals, escalations, notes, findings and the
// full timeline. Drills say so in the title and under it.
func (pm *Postmortem) Markdown() string {
	var w strings.Builder
	w.Grow(256 + 96*len(pm.Timeline))
	name := func(id string) string {
		if id == "" {
			return ""
		}
		if n := pm.Names[id]; n != "" {
			return n
		}
		return id
	}
	actor := func(id string) string {
		if id == "" {
			return "drbot"
		}
		return name(id)
	}

	title := pm.Title
	if title == "" {
		title = pm.Scenario
	}
	if pm.Drill {
		fmt.Fprintf(&w, "# DRILL: Postmortem of incident %d: %s\n\n", pm.ID, mdText(title))
		w.WriteString("> This was a drill, not a real incident. Its figures score the exercise.\n\n")
	} else {
		fmt.Fprintf(&w, "# Postmortem of incident %d: %s\n\n", pm.ID, mdText(title))
	}

	var head []string
	add := func(label, v string) {
		if v != "" {
			head = append(head, "**"+label+":** "+mdText(v))
		}
	}
	add("Scenario", pm.Scenario)
	add("Service", pm.Service)
	add("Severity", pm.Severity)
	add("State", pm.State)
	if pm.Channel != "" {
		add("Channel", "#"+pm.Channel)
	}
	w.WriteString(strings.Join(head, " · "))
	w.WriteString("\n\n")
	if pm.Summary != "" {
		w.WriteString(mdText(pm.Summary))
		w.WriteString("\n\n")
	}

	// Key figures.
	w.WriteString("## Key figures\n\n| | |\n|---|---|\n")
	row := func(cells ...string) {
		w.WriteString("|")
		for _, c := range cells {
			w.WriteString(" ")
			w.WriteString(mdCell(c))
			w.WriteString(" |")
		}
		w.WriteString("\n")
	}
	row("Declared", mdTime(pm.DeclaredAt))
	if pm.State == StateResolved {
		row("Resolved", mdTime(pm.ResolvedAt))
	} else {
		row("Resolved", "not yet (figures as of "+mdTime(pm.AsOf)+")")
	}
	ack := "nobody acknowledged"
	if pm.TimeToAckSeconds > 0 || anyAck(pm.Acks) {
		ack = mdSeconds(pm.TimeToAckSeconds)
	}
	row("Time to acknowledge", ack)
	row("Time to recover", mdSeconds(pm.TimeToRecoverSeconds))
	if pm.RTOSeconds > 0 {
		row("RTO", mdSeconds(pm.RTOSeconds))
		margin := mdSeconds(abs64(pm.RTOMarginSeconds))
		switch {
		case pm.State != StateResolved && pm.RTOMet:
			row("RTO met", "so far: "+margin+" left")
		case pm.State != StateResolved:
			row("RTO met", "no: "+margin+" past it, still open")
		case pm.RTOMet:
			row("RTO met", "yes, "+margin+" to spare")
		default:
			row("RTO met", "no, missed by "+margin)
		}
	} else {
		row("RTO", "none set")
	}
	w.WriteString("\n")

	if len(pm.Acks) > 0 {
		w.WriteString("## Acknowledgements\n\n| Role | Acknowledged by | Pages | Time to acknowledge |\n|---|---|---|---|\n")
		for _, a := range pm.Acks {
			if a.Acknowledged {
				row(a.Role, name(a.Contact), fmt.Sprint(a.Pages), mdSeconds(a.AckSeconds))
			} else {
				row(a.Role, "nobody", fmt.Sprint(a.Pages), "")
			}
		}
		w.WriteString("\n")
	}

	w.WriteString("## Steps\n\n")
	if len(pm.Steps) == 0 {
		w.WriteString("No step was started.\n\n")
	} else {
		w.WriteString("| Step | Outcome | Estimate | Actual | By |\n|---|---|---|---|---|\n")
		for _, s := range pm.Steps {
			step := "**" + s.ID + "**"
			if s.Do != "" {
				step += " " + s.Do
			}
			est := ""
			if s.EstimateSeconds > 0 {
				est = mdSeconds(s.EstimateSeconds)
			}
			row(step, s.Outcome, est, mdSeconds(s.ActualSeconds), name(s.By))
		}
		w.WriteString("\n")
	}

	if len(pm.Decisions) > 0 {
		w.WriteString("## Decisions\n\n")
		for _, d := range pm.Decisions {
			q := ""
			if d.Ask != "" {
				q = " " + mdText(d.Ask)
			}
			fmt.Fprintf(&w, "- %s **%s**%s Answer: **%s**", mdTime(d.At), mdText(d.Step), q, mdText(d.Answer))
			if d.By != "" {
				fmt.Fprintf(&w, ", by %s", mdText(name(d.By)))
			}
			w.WriteString("\n")
		}
		w.WriteString("\n")
	}

	if len(pm.Approvals) > 0 {
		w.WriteString("## Approvals\n\n| Step | Role | Outcome | By | Requested | Decided | Wait |\n|---|---|---|---|---|---|---|\n")
		for _, a := range pm.Approvals {
			row(a.Step, a.Role, a.Outcome, name(a.By), mdTime(a.RequestedAt), mdTime(a.DecidedAt), mdSeconds(a.WaitSeconds))
		}
		w.WriteString("\n")
	}

	if len(pm.Escalations) > 0 {
		w.WriteString("## Escalations\n\n")
		for _, e := range pm.Escalations {
			fmt.Fprintf(&w, "- %s %s\n", mdTime(e.At), mdText(e.Text))
		}
		w.WriteString("\n")
	}

	if len(pm.Notes) > 0 {
		w.WriteString("## Notes\n\n")
		for _, e := range pm.Notes {
			fmt.Fprintf(&w, "- %s %s: %s\n", mdTime(e.At), mdText(actor(e.Actor)), mdText(e.Text))
		}
		w.WriteString("\n")
	}

	w.WriteString("## Findings\n\n")
	if len(pm.Findings) == 0 {
		w.WriteString("None.\n")
	}
	for _, f := range pm.Findings {
		fmt.Fprintf(&w, "- %s\n", mdText(f))
	}
	w.WriteString("\n")

	w.WriteString("## Timeline\n\n| Time | What | Who | Details |\n|---|---|---|---|\n")
	for _, e := range pm.Timeline {
		row(mdTime(e.At), e.Kind, actor(e.Actor), e.Text)
	}
	return w.String()
}

func anyAck(acks []PMAck) bool {
	for _, a := range acks {
		if a.Acknowledged {
			return true
		}
	}
	return false
}

func abs64(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

func mdSeconds(s int64) string { return pmDur(time.Duration(s) * time.Second) }

// mdTime shows an RFC 3339 time of the postmortem ("2026-11-21T10:00:00Z",
// always UTC and whole seconds) as "2026-11-21 10:00:00 UTC". Every time
// of the document is written this way and says its zone: a postmortem is
// read by people in other zones than the plan's, long after the fact, and
// compared with logs that are in UTC. Seconds stay: an acknowledgement
// 95 s after the page is a figure of the review.
func mdTime(s string) string {
	if len(s) == len("2006-01-02T15:04:05Z") && s[10] == 'T' && s[19] == 'Z' {
		return s[:10] + " " + s[11:19] + " UTC"
	}
	return s
}

// mdText keeps text on one line, so that a newline typed in Slack cannot
// start a heading or end a list item.
var mdText = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace

// mdCell is mdText for a table cell: a pipe would end the cell.
var mdCell = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "|", `\|`).Replace
