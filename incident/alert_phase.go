package incident

import (
	"fmt"
	"slices"
	"strings"
)

// What a notification does to a group drbot already has something open
// for: an ask waiting for an answer, or a declared incident.

// whileAsked updates the ask when alerts started or stopped firing, and
// closes it when the whole group resolved before anyone answered.
func (a *alertTx) whileAsked(st *alertState, firing []firingAlert) (string, error) {
	if len(firing) == 0 {
		st.Phase, st.At, st.Firing = phaseClosed, a.now, nil
		if err := a.editAsk(*st, a.resolvedLine()+" before anyone answered; nothing was declared.", nil); err != nil {
			return "", err
		}
		a.log("alert group resolved before anyone answered the ask", "alert", st.Name)
		return AlertResolved, nil
	}
	if sameFiring(st.Firing, firing) {
		return AlertUnchanged, nil
	}
	st.Firing = firing
	return AlertNoted, a.editAsk(*st, "", a.askButtons(*st))
}

// whileDeclared notes in the incident what changed; when the whole group
// resolved it tells the channel, with a Resolve button for the commander:
// a DR incident is never resolved by a monitoring signal alone.
func (a *alertTx) whileDeclared(st *alertState, firing []firingAlert) (string, error) {
	inc, err := a.tx.Incident(st.Incident)
	if ErrorCode(err) == ENOTFOUND {
		st.Phase, st.Incident = phaseClosed, 0
		return AlertUnchanged, nil
	}
	if err != nil {
		return "", err
	}
	if inc.State != StateOpen {
		// Resolved by a person while the group still fired: quiet until
		// the group resolves, so that a repeat is not a second incident.
		// Once it has resolved, its next firing is a new episode.
		if len(firing) == 0 || st.Cleared {
			st.Phase, st.At, st.Firing = phaseClosed, a.now, nil
			return AlertResolved, nil
		}
		st.Firing = firing
		return AlertUnchanged, nil
	}
	if sameFiring(st.Firing, firing) {
		return AlertUnchanged, nil
	}
	o, err := a.s.newOp(a.tx, inc)
	if err != nil {
		return "", err
	}
	started, stopped := diffFiring(st.Firing, firing)
	st.Firing = firing
	outcome := AlertNoted
	var m Message
	data := map[string]string{"source": st.Source, "alert": st.Name, "group": st.Key, "firing": fmt.Sprint(len(firing))}
	if len(firing) == 0 {
		st.Cleared, outcome = true, AlertResolved
		m = Message{
			Text: fmt.Sprintf(":large_green_circle: %s says every alert of *%s* has resolved. drbot does not resolve an incident by itself: commander, once the service is really restored, press *Resolve* (or type `/incident resolve`).",
				st.Source, escape(st.Name)),
			Buttons: []Button{{Label: "Resolve", Action: alertAction(alertResolve, fmt.Sprint(inc.ID), 0), Style: "primary"}},
		}
		o.event(KindNote, "", fmt.Sprintf("%s: every alert of %s resolved", st.Source, st.Name), data)
	} else {
		st.Cleared = false
		line := changeLine(st, started, stopped, len(firing))
		m = Message{Text: ":bell: " + escape(line)}
		o.event(KindNote, "", line, data)
	}
	o.post(m, "", "tell the channel what the alerts say")
	if err := o.save(); err != nil {
		return "", err
	}
	a.ops = append(a.ops, o)
	return outcome, nil
}

// changeLine says which alerts started and stopped firing.
func changeLine(st *alertState, started, stopped []firingAlert, now int) string {
	var parts []string
	if len(started) > 0 {
		parts = append(parts, fmt.Sprintf("firing: %s", descs(started)))
	}
	if len(stopped) > 0 {
		parts = append(parts, fmt.Sprintf("resolved: %s", descs(stopped)))
	}
	return fmt.Sprintf("%s: %s %s; %d firing now", st.Source, st.Name, strings.Join(parts, "; "), now)
}

func descs(fs []firingAlert) string {
	const most = 10
	var ds []string
	for i, f := range fs {
		if i == most {
			ds = append(ds, fmt.Sprintf("and %d more", len(fs)-most))
			break
		}
		ds = append(ds, f.Desc)
	}
	return strings.Join(ds, ", ")
}

func sameFiring(a, b []firingAlert) bool {
	return slices.EqualFunc(a, b, func(x, y firingAlert) bool { return x.FP == y.FP })
}

// diffFiring returns the alerts firing now that were not, and those that
// were and are not.
func diffFiring(before, now []firingAlert) (started, stopped []firingAlert) {
	has := func(fs []firingAlert, fp string) bool {
		return slices.ContainsFunc(fs, func(f firingAlert) bool { return f.FP == fp })
	}
	for _, f := range now {
		if !has(before, f.FP) {
			started = append(started, f)
		}
	}
	for _, f := range before {
		if !has(now, f.FP) {
			stopped = append(stopped, f)
		}
	}
	return started, stopped
}
