package incident

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/drbot-dev/drbot/playbooks"
)

// Paging rules.
//
// A role is paged in callouts. A callout pages the role's contacts in
// list order, one every ack_timeout, for `rounds` paging rounds (passes
// over the list); then the channel is told nobody answered (unanswered)
// and, unless the role is the commander's, the commander role is paged
// (unansweredPagesCommander). An acknowledgement by any contact of the
// role ends the callout. Paging a role again (/incident page, an RTO
// breach, another role going unanswered) while a callout is going on
// changes nothing; once the role acknowledged or ran out, it starts a new
// callout from the top of the list.
//
// "/incident page @someone" pages one person the same way, as the pseudo
// role "@contact" (a plan contact) or "@U123" (any Slack member); when
// they do not answer, the commander role is paged too, unless they are a
// commander contact.

const timerEscalate TimerKind = "escalate"

// commanderRole is the role paged when a person paged alone does not answer.
const commanderRole = "commander"

func (o *op) ackTimeout() time.Duration {
	if d := o.plan.Paging.AckTimeout; d > 0 {
		return d
	}
	return playbooks.DefaultAckTimeout // a plan made in Go rather than parsed
}

func (o *op) rounds() int {
	if r := o.plan.Paging.Rounds; r > 0 {
		return r
	}
	return playbooks.DefaultRounds
}

func (o *op) rolePage(role string) *RolePage {
	for _, rp := range o.inc.Roles {
		if rp.Role == role {
			return rp
		}
	}
	return nil
}

func (o *op) escalateKey(role string) string { return o.ref("escalate", role) }

// pageRole pages role (its contacts in escalation order) and reports
// whether a new callout started; false when the role is being paged
// already.
// actor is who asked ("" for drbot); reason is a line for the page.
func (o *op) pageRole(role string, contacts []string, actor, reason string) (*RolePage, bool) {
	return o.pageCallout(role, contacts, actor, reason, nil)
}

// pageCallout is pageRole for a callout about other roles
// (RolePage.About), or of the role's own when about is empty.
func (o *op) pageCallout(role string, contacts []string, actor, reason string, about []string) (*RolePage, bool) {
	if len(contacts) == 0 {
		o.s.cfg.Logger.Warn("role has no contacts to page", "incident", o.inc.ID, "role", role)
		return nil, false
	}
	rp := o.rolePage(role)
	if rp != nil && rp.paging() {
		if len(about) == 0 && len(rp.About) > 0 {
			// Paged in its own right while paged about another role: the
			// callout is the role's own now, and goes on when that role answers.
			rp.About, rp.Prev = nil, nil
		}
		return rp, false
	}
	if rp == nil {
		rp = &RolePage{Role: role, PagedAt: o.now}
		o.inc.Roles = append(o.inc.Roles, rp)
	}
	// Nobody answered the callout before this one (and it was not stood
	// down): the role has been waiting since that one's first page.
	waiting := rp.Sent > 0 && !rp.Acked && !rp.StoodDown && !rp.WaitingSince.IsZero()
	rp.Prev = nil
	if len(about) > 0 && rp.Sent > 0 {
		rp.Prev = &CalloutState{Acked: rp.Acked, AckedBy: rp.AckedBy, AckedAt: rp.AckedAt, Exhausted: rp.Exhausted}
	}
	rp.About, rp.StoodDown = about, false
	rp.Contacts = slices.Clone(contacts)
	rp.CalloutStart = rp.Sent
	if !waiting {
		rp.WaitingSince = o.now
	}
	rp.Acked, rp.AckedBy, rp.AckedAt, rp.Exhausted = false, "", time.Time{}, false

	var cs, us []string
	for _, id := range contacts {
		if o.plan.Contacts[id] != nil {
			cs = append(cs, id)
		} else {
			us = append(us, id)
		}
	}
	o.invite(cs, us)

	first := contacts[0]
	o.sendPage(rp, first, reason)
	data := map[string]string{"role": role, "contact": first}
	if len(about) > 0 {
		data["about"] = strings.Join(about, ",")
	}
	o.event(KindPaged, actor, fmt.Sprintf("Paged %s as %s", o.whoPlain(first), role), data)
	o.setTimer(o.escalateKey(role), timerEscalate, o.now.Add(o.ackTimeout()), role)
	return rp, true
}

// pageRef names the DM of page k (1-based over the incident) of a role.
func (o *op) pageRef(role string, k int) string { return o.ref("page", role, strconv.Itoa(k)) }

// sendPage sends page number rp.Sent+1 to who.
func (o *op) sendPage(rp *RolePage, who, reason string) {
	rp.Sent++
	o.urgentDM(who, o.pageMessage(rp, reason), o.pageRef(rp.Role, rp.Sent), "page "+who)
	o.webhook(hookTrigger, rp, who)
	// Metrics.PageSent is counted by the outbox worker when the DM is
	// delivered (its Purpose begins with "page").
}

// calloutPages calls f for each page of the current callout, with its
// number and the contact it went to.
func (rp *RolePage) calloutPages(f func(k int, who string)) {
	n := len(rp.Contacts)
	if n == 0 {
		return
	}
	for k := rp.CalloutStart + 1; k <= rp.Sent; k++ {
		f(k, rp.Contacts[(k-rp.CalloutStart-1)%n])
	}
}

// ranOutPages calls f for each page of rp's earlier callouts that ran out
// (unanswered), with its number and the contact it went to. Those pages
// still show Acknowledge: a late press counts while no new callout began,
// so running out leaves them. The pages of an earlier callout that was
// acknowledged were marked so then, and keep saying who it was. RolePage
// keeps only the current callout; the earlier ones are in the timeline,
// where each page sent is one paged (the first of a callout) or escalated
// event.
func (o *op) ranOutPages(rp *RolePage, f func(k int, who string)) {
	if rp.CalloutStart == 0 || o.err != nil {
		return
	}
	events, err := o.tx.Timeline(o.inc.ID)
	if err != nil {
		o.fail(fmt.Errorf("timeline of incident %d: %w", o.inc.ID, err))
		return
	}
	type page struct {
		k   int
		who string
	}
	var callout, out []page
	k := 0
	for _, e := range events {
		if e.Kind == KindAcknowledged && slices.Contains(strings.Split(e.Data["stood_down"], ","), rp.Role) {
			// A callout about another role, stood down when it answered:
			// its pages were marked then.
			callout = nil
			continue
		}
		if e.Data["role"] != rp.Role {
			continue
		}
		switch e.Kind {
		case KindPaged, KindEscalated:
			// Pages past CalloutStart are the current callout's
			// (calloutPages).
			if k++; k <= rp.CalloutStart {
				callout = append(callout, page{k, e.Data["contact"]})
			}
		case KindAcknowledged:
			callout = nil
		case KindUnanswered:
			out = append(out, callout...)
			callout = nil
		}
	}
	for _, p := range out {
		if p.who != "" {
			f(p.k, p.who)
		}
	}
}

// current returns the contact the newest page of the callout went to.
func (rp *RolePage) current() string {
	n := len(rp.Contacts)
	if n == 0 || rp.Sent <= rp.CalloutStart {
		return ""
	}
	return rp.Contacts[(rp.Sent-rp.CalloutStart-1)%n]
}

// escalate is the escalation timer of role falling due.
func (o *op) escalate(role string) {
	rp := o.rolePage(role)
	if rp == nil || !rp.paging() || len(rp.Contacts) == 0 {
		return
	}
	n := len(rp.Contacts)
	inCallout := rp.Sent - rp.CalloutStart
	from := rp.current()
	if inCallout < o.rounds()*n {
		next := rp.Contacts[inCallout%n]
		data := map[string]string{"role": role, "contact": next, "from": from}
		reason := escalationReason(o.who(from), o.ackTimeout())
		text := fmt.Sprintf("%s did not acknowledge within %s; paged %s as %s",
			o.whoPlain(from), fmtDur(o.ackTimeout()), o.whoPlain(next), role)
		if rp.Undelivered == rp.Sent && rp.UndeliveredCode != "" {
			// The outbox worker brought this escalation forward: the page
			// never reached from (pageUndelivered).
			data["reason"] = undeliveredLine(from, rp.UndeliveredCode)
			reason = undeliveredReason(o.who(from), escape(rp.UndeliveredCode))
			text = fmt.Sprintf("%s could not be paged (%s); paged %s as %s",
				o.whoPlain(from), rp.UndeliveredCode, o.whoPlain(next), role)
		}
		if len(rp.About) > 0 {
			data["about"] = strings.Join(rp.About, ",")
		}
		o.sendPage(rp, next, reason)
		o.event(KindEscalated, "", text, data)
		// The channel hears of trouble as it happens, not only when the
		// list runs out.
		o.urgentPost(Message{Text: o.escalatedText(rp, from, next)}, "", "say that "+role+" escalated to "+next)
		o.setTimer(o.escalateKey(role), timerEscalate, o.now.Add(o.ackTimeout()), role)
		return
	}
	rp.Exhausted = true
	data := map[string]string{"role": role, "pages": strconv.Itoa(inCallout)}
	if len(rp.About) > 0 {
		data["about"] = strings.Join(rp.About, ",")
	}
	o.event(KindUnanswered, "", o.unansweredPlain(rp, inCallout), data)
	paged := false
	if o.unansweredPagesCommander(rp) {
		paged = o.pageAbout(rp, o.unansweredReason(rp, inCallout))
	}
	o.urgentPost(Message{Text: o.unansweredText(rp, inCallout, paged)}, "", "say that nobody acknowledged "+role)
}

// unansweredPagesCommander reports whether rp running out pages the
// commander role: for any role but the commander's, and for a person
// paged alone (/incident page @someone) unless they are a commander
// contact themselves. As for roles, a commander role that acknowledged
// earlier in the incident is paged again (a new callout): nobody answering
// is new news the commander may not have seen.
func (o *op) unansweredPagesCommander(rp *RolePage) bool {
	commanders := o.plan.Roles[commanderRole]
	if rp.Role == commanderRole || len(commanders) == 0 {
		return false
	}
	if person, ok := pagedPerson(rp); ok {
		if c := o.plan.Contacts[person]; c != nil {
			return !slices.Contains(commanders, c.ID)
		}
		// A Slack member the plan may know by email since the page.
		if c := o.contactOf(person); c != nil {
			return !slices.Contains(commanders, c.ID)
		}
	}
	return true
}

// pagedPerson returns the one contact id or Slack member ID of a page of
// a person (/incident page @someone: the pseudo role "@id"); ok is false
// for a role of the plan.
func pagedPerson(rp *RolePage) (string, bool) {
	if !strings.HasPrefix(rp.Role, "@") || len(rp.Contacts) != 1 {
		return "", false
	}
	return rp.Contacts[0], true
}

// parsePageRef reads the role and page number out of a page DM's ref
// (pageRef). ok is false for any other message of the incident.
func parsePageRef(incidentID int64, ref string) (role string, k int, ok bool) {
	rest, found := strings.CutPrefix(ref, "inc/"+strconv.FormatInt(incidentID, 10)+"/page/")
	if !found {
		return "", 0, false
	}
	i := strings.LastIndexByte(rest, '/')
	if i <= 0 {
		return "", 0, false
	}
	k, err := strconv.Atoi(rest[i+1:])
	if err != nil || k <= 0 {
		return "", 0, false
	}
	return rest[:i], k, true
}

// undeliveredLine is the reason recorded with an escalation brought
// forward; it reads like the delivery_failed line of the page.
func undeliveredLine(who, code string) string { return "could not page " + who + ": " + code }

// pageUndelivered is the outbox worker dropping page DM out for good
// (code says why), in the transaction that records the failure. A page
// that can never arrive must not hold the role for its ack_timeout: when
// it was the role's current page and the role is still unacknowledged,
// the escalation timer is brought forward to now, so the next Tick pages
// the next contact. Rounds still count: a role whose every contact is
// broken runs out (unanswered, the commander paged) in a few Ticks.
//
// It reports the role whose escalation it brought forward, "" for none.
func (s *Engine) pageUndelivered(tx Tx, out Outgoing, code string) (string, error) {
	if out.Kind != OutDM || out.IncidentID == 0 {
		return "", nil
	}
	role, k, ok := parsePageRef(out.IncidentID, out.Body.Ref)
	if !ok {
		return "", nil
	}
	inc, err := tx.Incident(out.IncidentID)
	if ErrorCode(err) == ENOTFOUND {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("incident %d of an undelivered page: %w", out.IncidentID, err)
	}
	if inc.State != StateOpen {
		return "", nil
	}
	o, err := s.newOp(tx, inc)
	if err != nil {
		// Its plan cannot be read: the escalation keeps its own time,
		// rather than the failure going unrecorded (the message would be
		// sent again and again).
		s.cfg.Logger.Error("undelivered page: escalation not brought forward", "incident", inc.ID, "role", role, "err", err)
		return "", nil
	}
	rp := o.rolePage(role)
	if rp == nil || !rp.paging() || k != rp.Sent || k <= rp.CalloutStart {
		// Acknowledged, run out, or escalated past this page already.
		return "", nil
	}
	rp.Undelivered, rp.UndeliveredCode = k, code
	o.setTimer(o.escalateKey(role), timerEscalate, o.now, role)
	if err := o.save(); err != nil {
		return "", fmt.Errorf("bring the escalation of %s forward: %w", role, err)
	}
	return role, nil
}

// pageTarget turns what follows "/incident page" into a role and its
// contacts: a role of the plan, a contact ("@alice"), or a Slack member
// ("<@U123|name>", "<@U123>", "@U123").
func pageTarget(p *playbooks.Plan, target string, contactOf func(userID string) *playbooks.Contact) (role string, contacts []string, err error) {
	if cs, ok := p.Roles[target]; ok {
		return target, cs, nil
	}
	for _, r := range p.RoleOrder {
		if strings.EqualFold(r, target) {
			return r, p.Roles[r], nil
		}
	}
	t := target
	if strings.HasPrefix(t, "<@") && strings.HasSuffix(t, ">") {
		t = strings.TrimSuffix(strings.TrimPrefix(t, "<@"), ">")
		t, _, _ = strings.Cut(t, "|")
		if !isSlackID(t) {
			return "", nil, Errorf(EINVALID, "%q is not a Slack mention drbot understands.", escape(target))
		}
	} else if strings.HasPrefix(t, "@") {
		t = t[1:]
		if c := p.Contacts[t]; c != nil {
			return "@" + c.ID, []string{c.ID}, nil
		}
		for _, id := range p.ContactOrder {
			if strings.EqualFold(id, t) {
				return "@" + id, []string{id}, nil
			}
		}
		if !isSlackID(t) {
			return "", nil, Errorf(EINVALID, "Unknown contact %q. Page a role (%s), a contact of the plan (@%s) or a Slack member (mention them).",
				escape(target), escape(strings.Join(p.RoleOrder, ", ")), escape(strings.Join(p.ContactOrder, ", @")))
		}
	} else {
		return "", nil, Errorf(EINVALID, "Unknown role %q. Page a role (%s), a contact of the plan (@%s) or a Slack member (mention them).",
			escape(target), escape(strings.Join(p.RoleOrder, ", ")), escape(strings.Join(p.ContactOrder, ", @")))
	}
	if c := contactOf(t); c != nil {
		return "@" + c.ID, []string{c.ID}, nil
	}
	return "@" + t, []string{t}, nil
}

// isSlackID reports whether s looks like a Slack member ID (U... or W...).
func isSlackID(s string) bool {
	if len(s) < 3 || len(s) > 20 || (s[0] != 'U' && s[0] != 'W') {
		return false
	}
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// --- the paging webhook

const (
	hookTrigger     = "trigger"
	hookAcknowledge = "acknowledge"
	hookResolve     = "resolve"
)

// pdSeverity maps a plan severity to PagerDuty's.
func pdSeverity(sev string) string {
	switch sev {
	case "sev1":
		return "critical"
	case "sev2":
		return "error"
	case "sev3":
		return "warning"
	case "sev4":
		return "info"
	}
	return "error"
}

// webhook enqueues the POST of a page event to the plan's paging.webhook,
// when it has one.
//
// To events.pagerduty.com (or events.eu.pagerduty.com) it is a PagerDuty
// Events API v2 event: the integration key is the routing_key query
// parameter of the webhook URL (https://events.pagerduty.com/v2/enqueue?routing_key=KEY);
// it is taken out of the URL and put in the body, as PagerDuty wants. One
// PagerDuty alert per incident and role: dedup_key "drbot-N-ROLE", so an
// escalation re-triggers the same alert and Acknowledge and resolve close
// it. To any other URL it is plain JSON:
//
//	{"event": "page"|"acknowledge"|"resolve", "incident": 3, "role": "executor",
//	 "contact": "bob", "title": "...", "channel": "inc-3-db-corruption",
//	 "at": "2026-11-21T10:00:00Z", "drill": false, "severity": "sev1",
//	 "service": "payments-db", "scenario": "db-corruption"}
//
// The URL and the routing_key are secrets (the plan may take them from
// the environment), so the outbox row holds neither: it says "the plan's
// webhook" and the body without routing_key; delivery (planWebhook) adds
// them from the incident's plan.
func (o *op) webhook(event string, rp *RolePage, contact string) {
	raw := o.plan.Paging.Webhook
	if raw == "" || o.err != nil {
		return
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		o.s.cfg.Logger.Warn("paging webhook URL does not parse; not sent", "incident", o.inc.ID)
		return
	}
	var body []byte
	if playbooks.PagerDutyHost(u.Hostname()) {
		if u.Query().Get("routing_key") == "" {
			o.s.cfg.Logger.Warn("PagerDuty paging webhook has no routing_key query parameter; not sent", "incident", o.inc.ID)
			return
		}
		body, err = json.Marshal(o.pagerDutyEvent(event, rp, contact))
	} else {
		name := event
		if event == hookTrigger {
			name = "page"
		}
		body, err = json.Marshal(map[string]any{
			"event": name, "incident": o.inc.ID, "role": rp.Role, "contact": contact,
			"title": o.inc.Title, "channel": o.inc.ChannelName, "at": o.now.Format(time.RFC3339),
			"drill": o.inc.Drill, "severity": o.inc.Severity, "service": o.inc.Service, "scenario": o.inc.Scenario,
		})
	}
	if err != nil {
		o.fail(fmt.Errorf("encode paging webhook: %w", err))
		return
	}
	o.enqueue(o.webhookLane(), OutWebhook, OutBody{
		WebhookPlan: true, WebhookBody: body, Hook: event, HookRole: rp.Role, Urgent: event == hookTrigger,
		Purpose: "send the paging webhook (" + event + " " + rp.Role + ")",
	})
}

// planWebhook returns where and what to POST for an outbox row of the
// plan's webhook: the paging.webhook of plan, and body with, for
// PagerDuty, the routing_key taken out of the URL and put in the body.
// Its errors never quote the URL.
func planWebhook(plan *playbooks.Plan, body []byte) (target string, out []byte, err error) {
	raw := plan.Paging.Webhook
	if raw == "" {
		if len(plan.Paging.WebhookUnset) > 0 {
			return "", nil, &badMessage{reason: fmt.Sprintf("paging.webhook needs the environment variable %s, which is not set in drbot's environment", strings.Join(plan.Paging.WebhookUnset, ", "))}
		}
		return "", nil, &badMessage{reason: "the incident's plan has no paging.webhook"}
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", nil, &badMessage{reason: "the paging.webhook URL does not parse"}
	}
	if !playbooks.PagerDutyHost(u.Hostname()) {
		return raw, body, nil
	}
	key := u.Query().Get("routing_key")
	if key == "" {
		return "", nil, &badMessage{reason: "the PagerDuty paging.webhook has no routing_key query parameter"}
	}
	var ev map[string]json.RawMessage
	if err := json.Unmarshal(body, &ev); err != nil {
		return "", nil, &badMessage{reason: fmt.Sprintf("webhook body is not a JSON object: %v", err)}
	}
	k, err := json.Marshal(key)
	if err != nil {
		return "", nil, &badMessage{reason: fmt.Sprintf("encode routing_key: %v", err)}
	}
	ev["routing_key"] = k
	if out, err = json.Marshal(ev); err != nil {
		return "", nil, &badMessage{reason: fmt.Sprintf("encode webhook body: %v", err)}
	}
	u.RawQuery = ""
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v2/enqueue"
	}
	return u.String(), out, nil
}

// pagerDutyEvent is the PagerDuty event without its routing_key, which
// planWebhook adds when it is sent.
func (o *op) pagerDutyEvent(event string, rp *RolePage, contact string) map[string]any {
	ev := map[string]any{
		"event_action": event,
		"dedup_key":    fmt.Sprintf("drbot-%d-%s", o.inc.ID, rp.Role),
	}
	if event != hookTrigger {
		return ev
	}
	summary := fmt.Sprintf("Incident #%d: %s (%s, %s), paging %s: %s", o.inc.ID, o.inc.Title, o.inc.Severity, o.inc.Service, rp.Role, o.whoPlain(contact))
	if o.inc.Drill {
		summary = drillPrefix + summary
	}
	ev["client"] = "drbot"
	ev["payload"] = map[string]any{
		"summary":   truncateRunes(summary, 1024), // PagerDuty's limit
		"source":    "drbot",
		"severity":  pdSeverity(o.inc.Severity),
		"timestamp": o.now.Format(time.RFC3339),
		"component": o.inc.Service,
		"group":     o.inc.Scenario,
		"custom_details": map[string]any{
			"incident": o.inc.ID, "role": rp.Role, "contact": contact, "channel": o.inc.ChannelName,
			"drill": o.inc.Drill, "summary": o.inc.Summary,
		},
	}
	return ev
}
