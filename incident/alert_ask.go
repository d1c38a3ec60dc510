package incident

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// The ask: a group of a declare: ask rule is posted in the plan's
// alert_channel with Declare and Dismiss buttons; nothing pages until a
// person presses Declare. The buttons carry the group's hash and the
// number of its alert episode, so a press on the ask of an earlier episode
// of the same group is stale.
//
//	alert|declare|EPISODE|HASH
//	alert|dismiss|EPISODE|HASH
//	alert|resolve|0|INCIDENT  the Resolve button once the whole group resolved

const (
	actAlert     = "alert"
	alertDeclare = "declare"
	alertDismiss = "dismiss"
	alertResolve = "resolve"
)

type alertPress struct {
	verb    string
	episode int
	id      string // group hash, or incident id for resolve
}

func alertAction(verb, id string, episode int) string {
	return actAlert + "|" + verb + "|" + strconv.Itoa(episode) + "|" + id
}

func parseAlertAction(s string) (alertPress, bool) {
	parts := strings.SplitN(s, "|", 4)
	if len(parts) != 4 || parts[0] != actAlert || parts[3] == "" {
		return alertPress{}, false
	}
	episode, err := strconv.Atoi(parts[2])
	if err != nil || episode < 0 {
		return alertPress{}, false
	}
	switch parts[1] {
	case alertDeclare, alertDismiss, alertResolve:
		return alertPress{verb: parts[1], episode: episode, id: parts[3]}, true
	}
	return alertPress{}, false
}

func alertLane(hash string) string { return "alert/" + hash }

func askRef(hash string, episode int) string {
	return "alert/" + hash + "/" + strconv.Itoa(episode) + "/ask"
}

func (a *alertTx) enqueue(kind OutKind, body OutBody) error {
	out := &Outgoing{Lane: alertLane(a.hash), Kind: kind, Body: body}
	if err := a.tx.Enqueue(out); err != nil {
		return fmt.Errorf("enqueue %s of alert group: %w", kind, err)
	}
	a.changed = true
	return nil
}

// ask posts the group in alert_channel with its buttons.
func (a *alertTx) ask(st alertState) error {
	m := a.askMessage(st, "", a.askButtons(st))
	return a.enqueue(OutPost, OutBody{
		Channel: a.p.AlertChannel, Message: &m, Ref: askRef(a.hash, st.Episode),
		Purpose: "ask in " + a.p.AlertChannel + " whether alert " + st.Name + " is an incident",
	})
}

// editAsk replaces the ask with its current state, line added under it.
func (a *alertTx) editAsk(st alertState, line string, buttons []Button) error {
	m := a.askMessage(st, line, buttons)
	return a.enqueue(OutUpdate, OutBody{Message: &m, UpdateRef: askRef(a.hash, st.Episode), Purpose: "update the ask about alert " + st.Name})
}

func (a *alertTx) askButtons(st alertState) []Button {
	return []Button{
		{Label: "Declare " + st.Scenario, Action: alertAction(alertDeclare, a.hash, st.Episode), Style: "primary"},
		{Label: "Dismiss", Action: alertAction(alertDismiss, a.hash, st.Episode)},
	}
}

// askMessage shows the alert, the scenario it would declare, and line
// (what happened to the ask) under it.
func (a *alertTx) askMessage(st alertState, line string, buttons []Button) Message {
	what := fmt.Sprintf("scenario `%s`", escape(st.Scenario))
	if sc := a.p.Scenario(st.Scenario); sc != nil {
		what = fmt.Sprintf("*%s* (scenario `%s`, %s)", escape(sc.Title), escape(sc.ID), escape(sc.Severity))
	}
	var b strings.Builder
	fmt.Fprintf(&b, ":rotating_light: *%s* from %s: %s firing", escape(st.Name), st.Source, alertCount(len(st.Firing)))
	if st.Summary != "" {
		b.WriteString("\n>" + strings.ReplaceAll(escape(st.Summary), "\n", "\n>"))
	}
	if buttons != nil {
		fmt.Fprintf(&b, "\nIs this %s? Nothing pages until someone presses *Declare*.", what)
	} else {
		fmt.Fprintf(&b, "\nMatched %s.", what)
	}
	if line != "" {
		b.WriteString("\n" + line)
	}
	m := Message{Text: b.String(), Buttons: buttons, Context: linkText(st.Links)}
	m.Fields = append(m.Fields, Field{Label: "Labels", Value: escape(truncateRunes(labelText(st.Labels), 1500))})
	if len(st.Firing) > 1 {
		m.Fields = append(m.Fields, Field{Label: "Firing", Value: escape(descs(st.Firing))})
	}
	return m
}

func alertCount(n int) string {
	if n == 1 {
		return "1 alert"
	}
	return strconv.Itoa(n) + " alerts"
}

// linkText is the links as Slack links; one whose URL would break the
// markup is left out.
func linkText(ls []Link) string {
	var parts []string
	for _, l := range ls {
		u, err := url.Parse(l.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || strings.ContainsAny(l.URL, "<>| \n") {
			continue
		}
		parts = append(parts, "<"+strings.ReplaceAll(l.URL, "&", "&amp;")+"|"+escape(strings.ReplaceAll(l.Label, "|", "/"))+">")
	}
	return strings.Join(parts, " · ")
}

func (a *alertTx) when() string { return clock(a.now, a.now, a.p.Location) }

func (a *alertTx) resolvedLine() string {
	return fmt.Sprintf(":large_green_circle: Every alert of this group resolved at %s", a.when())
}

func (a *alertTx) dismissedLine(st alertState) string {
	return fmt.Sprintf(":no_entry_sign: Dismissed by %s at %s: not an incident. drbot asks again once the group has resolved and fires again.",
		mention(st.By), clock(st.At, st.At, a.p.Location))
}

// pressAlert handles Declare, Dismiss and Resolve. A press on an ask that
// was answered, or that belongs to an earlier episode of the group, says
// what happened instead and changes nothing.
func (s *Engine) pressAlert(ctx context.Context, req PressRequest, ap alertPress) (Reply, error) {
	if ap.verb == alertResolve {
		return s.pressAlertResolve(ctx, req, ap)
	}
	var (
		reply Reply
		at    *alertTx
	)
	err := s.cfg.Store.Update(ctx, func(tx Tx) error {
		at = &alertTx{s: s, tx: tx, p: s.Plan(), now: s.now(), hash: ap.id}
		st, ok, err := at.state()
		if err != nil {
			return err
		}
		if !ok || st.Episode != ap.episode || st.Phase != phaseAsked {
			reply.Text = at.staleAskText(st, ok, ap.episode)
			return nil
		}
		at.g = AlertGroup{Source: st.Source, Key: st.Key}
		if ap.verb == alertDismiss {
			st.Phase, st.By, st.At = phaseDismissed, req.UserID, at.now
			if err := at.editAsk(st, at.dismissedLine(st), nil); err != nil {
				return err
			}
			at.log("alert dismissed", "alert", st.Name, "by", req.UserID)
			reply.Text = "Dismissed: nothing is declared for this group until it resolves and fires again."
			return at.save(st)
		}
		inc, err := at.declare(&st, req.UserID)
		if err != nil {
			return err
		}
		line := fmt.Sprintf(":white_check_mark: Declared by %s at %s: incident #%d, #%s.", mention(req.UserID), at.when(), inc.ID, inc.ChannelName)
		if err := at.editAsk(st, line, nil); err != nil {
			return err
		}
		at.log("alert declared an incident", "incident", inc.ID, "scenario", st.Scenario, "alert", st.Name, "by", req.UserID)
		reply = Reply{Text: declaredReply(inc)}
		return at.save(st)
	})
	if err != nil {
		return Reply{}, fmt.Errorf("answer the ask about an alert: %w", err)
	}
	at.committed()
	return reply, nil
}

// staleAskText says why a press on an ask does nothing.
func (a *alertTx) staleAskText(st alertState, ok bool, episode int) string {
	switch {
	case !ok || st.Episode < episode:
		return "drbot has no record of this alert; nothing was done."
	case st.Episode > episode:
		return "This alert group has fired again since; answer the newer message about it. Nothing was done."
	case st.Phase == phaseDeclared:
		return fmt.Sprintf("Already declared by %s: incident #%d. Nothing more was done.", mention(st.By), st.Incident)
	case st.Phase == phaseDismissed:
		return fmt.Sprintf("Already dismissed by %s at %s. Nothing was done.", mention(st.By), stamp(st.At, a.p))
	}
	return fmt.Sprintf("Every alert of this group resolved at %s, before anyone answered; nothing was declared.", stamp(st.At, a.p))
}

// pressAlertResolve is the Resolve button posted when the whole group
// resolved: the same as /incident resolve with no text, it opens the
// resolve dialog (what ended the incident, impact, cause, recovery
// point); nothing is resolved until that is submitted.
func (s *Engine) pressAlertResolve(ctx context.Context, req PressRequest, ap alertPress) (Reply, error) {
	id, err := strconv.ParseInt(ap.id, 10, 64)
	if err != nil || id <= 0 {
		return Reply{}, Errorf(EINVALID, "This button is not one drbot knows; nothing was done.")
	}
	var inc *Incident
	err = s.cfg.Store.View(ctx, func(tx Tx) error {
		var err error
		inc, err = tx.Incident(id)
		return err
	})
	switch {
	case ErrorCode(err) == ENOTFOUND:
		return Reply{}, Errorf(ENOTFOUND, "Incident #%d does not exist (any more); nothing was done.", id)
	case err != nil:
		return Reply{}, err
	case inc.State != StateOpen:
		return Reply{Text: fmt.Sprintf("Incident #%d is already resolved (by %s).", inc.ID, mention(inc.ResolvedBy))}, nil
	}
	return resolveDialogReply(inc), nil
}
