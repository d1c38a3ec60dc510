package incident

import (
	"fmt"
	"strings"
)

// The sections of the Markdown postmortem that the team writes (impact,
// root cause, resolution, action items, lessons) and the one that says how
// the incident started. A section nobody filled says how to fill it.

// unfilled is the line of a section nobody has written yet.
func (w *mdWriter) unfilled(how string) {
	fmt.Fprintf(w, "_Not recorded yet: %s_\n\n", how)
}

// paragraph writes text as typed, on one line, or how to record it.
func (w *mdWriter) paragraph(heading, text, how string) {
	w.WriteString("## " + heading + "\n\n")
	if strings.TrimSpace(text) == "" {
		w.unfilled(how)
		return
	}
	w.WriteString(w.text(text))
	w.WriteString("\n\n")
}

// impact writes who and what was affected.
func (w *mdWriter) impact() {
	w.paragraph("Impact", w.pm.Impact, "`/incident impact TEXT` (who and what was affected, and how much).")
}

// detection writes how the incident started.
func (w *mdWriter) detection() {
	w.WriteString("## Detection\n\n")
	w.WriteString(w.text(w.pm.Detection.Text))
	w.WriteString("\n\n")
	if d := w.pm.Detection; len(d.Labels) > 0 || len(d.Links) > 0 {
		if len(d.Labels) > 0 {
			w.WriteString("- Labels: " + w.text(labelText(d.Labels)) + "\n")
		}
		for _, l := range d.Links {
			w.WriteString("- " + w.text(l.Label) + ": <" + strings.ReplaceAll(l.URL, ">", "%3E") + ">\n")
		}
		w.WriteString("\n")
	}
}

// rootCause writes the root cause and the trigger.
func (w *mdWriter) rootCause() {
	w.paragraph("Root cause and trigger", w.pm.RootCause, "`/incident cause TEXT` (what was wrong, and what set it off).")
}

// resolution writes what ended the incident.
func (w *mdWriter) resolution() {
	how := "`/incident resolve TEXT` says what ended the incident."
	if w.pm.State != StateResolved {
		how = "the incident is still open; `/incident resolve TEXT` will say what ended it."
	}
	w.paragraph("Resolution", w.pm.Resolution, how)
}

// actionItems writes the action items recorded, with their owners, and
// drbot's findings as suggested ones.
func (w *mdWriter) actionItems() {
	pm := w.pm
	w.WriteString("## Action items\n\n")
	if len(pm.ActionItems) == 0 {
		w.unfilled("`/incident action [@owner] TEXT`, one per item.")
	} else {
		w.WriteString("| # | Action | Owner | Recorded |\n|---|---|---|---|\n")
		for i, a := range pm.ActionItems {
			owner := w.name(a.Owner)
			if owner == "" {
				owner = "nobody yet"
			}
			w.row(fmt.Sprint(i+1), a.Text, owner, w.time(a.At)+" by "+w.actor(a.By))
		}
		w.WriteString("\n")
	}
	w.WriteString("### Suggested by drbot's findings\n\n")
	suggested := pm.suggestions()
	if len(suggested) == 0 {
		w.WriteString("None.\n\n")
		return
	}
	for _, f := range suggested {
		fmt.Fprintf(w, "- [ ] %s\n", w.text(f))
	}
	w.WriteString("\n")
}

// lessons writes the headings of the lessons learned, for the team to
// fill in the review.
func (w *mdWriter) lessons() {
	w.WriteString("## Lessons learned\n\n")
	for _, h := range []string{"What went well", "What went badly", "Where we got lucky"} {
		fmt.Fprintf(w, "### %s\n\n_For the team to fill in the review._\n\n", h)
	}
}
