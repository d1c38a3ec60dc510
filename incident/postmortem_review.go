package incident

import (
	"fmt"
	"strings"
)

// review fills what the team recorded for the postmortem (resolution,
// impact, root cause, action items) and how the incident started. It
// runs after names, whose map it extends with the action items' people.
func (b *pmBuilder) review() {
	pm, inc := b.pm, b.inc
	pm.Resolution, pm.Impact, pm.RootCause = inc.Resolution, inc.Impact, inc.RootCause
	if pm.Resolution == "" {
		// Incidents resolved before the resolution was kept: the
		// resolved event has it.
		for _, e := range b.events {
			if e.Kind == KindResolved && e.Data["summary"] != "" {
				pm.Resolution = e.Data["summary"]
			}
		}
	}
	pm.ActionItems = make([]PMActionItem, 0, len(inc.ActionItems))
	for _, a := range inc.ActionItems {
		pm.ActionItems = append(pm.ActionItems, PMActionItem{Owner: a.Owner, Text: a.Text, At: pmTime(a.At), By: a.By})
		b.addName(a.Owner)
		b.addName(a.By)
	}
	d := inc.Detection
	if d.Source == "" {
		// Incidents declared before the detection was kept.
		d = detectionOf(DeclareRequest{Drill: inc.Drill, UserID: inc.DeclaredBy})
	}
	pm.Detection = PMDetection{Source: d.Source, By: d.By, Alert: d.Alert, Text: b.detectionText(d), Labels: d.Labels, Links: d.Links}
}

// detectionText says how the incident started, in a sentence (the time
// is the declaration's, among the key figures).
func (b *pmBuilder) detectionText(d Detection) string {
	who := "drbot"
	if d.By != "" {
		who = b.name(d.By)
	}
	switch d.Source {
	case DetectAlert:
		if d.By == "" {
			return fmt.Sprintf("Detected by %s; declared by drbot (the alert rule declares on its own).", pmOr(d.Alert, "an alert"))
		}
		return fmt.Sprintf("Detected by %s; declared by %s.", pmOr(d.Alert, "an alert"), who)
	case DetectSchedule:
		return "A drill, started by the plan's drill schedule."
	case DetectDrill:
		return fmt.Sprintf("A drill, started by %s.", who)
	}
	return fmt.Sprintf("Declared by %s, by hand: no alert declared it.", who)
}

// addName adds a Slack member ID or contact id to the postmortem's names
// when the plan knows them.
func (b *pmBuilder) addName(id string) {
	if b.plan == nil || id == "" {
		return
	}
	c := b.plan.Contacts[id]
	if c == nil {
		c = b.plan.ContactBySlack(id)
	}
	if c == nil || c.Name == "" {
		return
	}
	if b.pm.Names == nil {
		b.pm.Names = map[string]string{}
	}
	b.pm.Names[id] = c.Name
}

// suggestions are the findings offered as action items: those that ask
// for something to be done, not the ones that only state a figure (the
// drill's score, an RTO or RPO met, an incident still open).
func (pm *Postmortem) suggestions() []string {
	var out []string
	for _, f := range pm.Findings {
		if strings.HasPrefix(f, "drill score:") || strings.HasPrefix(f, "RTO met:") || strings.HasPrefix(f, "RPO met:") || strings.HasPrefix(f, "still open") {
			continue
		}
		out = append(out, f)
	}
	return out
}
