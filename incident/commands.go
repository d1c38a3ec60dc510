package incident

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Command runs "/incident TEXT". Mistakes (an unknown subcommand or
// scenario, a command that needs an incident channel used elsewhere) come
// back as an *Error whose message says what was wrong and what would be
// right; the chat surface shows it to the person who typed it only.
func (s *Engine) Command(ctx context.Context, req CommandRequest) (Reply, error) {
	cmd, err := ParseCommand(req.Text)
	if err != nil {
		return Reply{}, err
	}
	switch cmd.Name {
	case CmdHelp:
		return Reply{Text: usageText}, nil
	case CmdDeclare, CmdDrill:
		if cmd.Scenario == "" {
			// Surfaces with a dialog open it; the text is for the others.
			return Reply{
				OpenDeclareModal: true,
				Text:             fmt.Sprintf("Name the scenario: /incident %s SCENARIO summary\n%s", cmd.Name, scenariosText(s.Scenarios())),
			}, nil
		}
		inc, err := s.Declare(ctx, DeclareRequest{
			Scenario: cmd.Scenario, Summary: cmd.Text, Drill: cmd.Name == CmdDrill,
			UserID: req.UserID, ChannelID: req.ChannelID,
		})
		if err != nil {
			return Reply{}, err
		}
		return Reply{Text: declaredReply(inc) + s.alsoOpen(ctx, inc), Public: true, Declared: inc.ID}, nil
	case CmdScenarios:
		return Reply{Text: scenariosText(s.Scenarios())}, nil
	case CmdList:
		return s.list(ctx)
	case CmdReview:
		return s.review(ctx, cmd, req.UserID)
	case CmdStats:
		return s.statsReply(ctx, cmd.Text)
	case CmdWeb:
		return s.webLink(ctx, req)
	}
	return s.inChannel(ctx, cmd, req)
}

// inChannel runs the commands that act on the incident of the channel
// they are typed in.
func (s *Engine) inChannel(ctx context.Context, cmd Command, req CommandRequest) (Reply, error) {
	id, err := s.incidentOfChannel(ctx, req.ChannelID, cmd.Name)
	if err != nil {
		return Reply{}, err
	}
	var reply Reply
	how := "by typing /incident " + cmd.Name
	if req.Dialog != "" {
		how = "by submitting the " + req.Dialog + " dialog"
	}
	err = s.update(ctx, id, func(o *op) error {
		if o.inc.State == StateOpen && cmd.Name != CmdAck && cmd.Name != CmdPage {
			// Working the incident answers the pages of who works it
			// (page: once its target is known).
			o.workAck(req.UserID, how, "")
		}
		var err error
		switch cmd.Name {
		case CmdStatus:
			// Answered below, after what this change records.
		case CmdAck:
			reply, err = o.ackCommand(req.UserID)
		case CmdDeny:
			reply, err = o.denyCommand(req.UserID, cmd.Text, how)
		case CmdNote:
			reply, err = o.note(req.UserID, cmd.Text)
		case CmdPage:
			reply, err = o.page(req.UserID, cmd.Target)
		case CmdResolve:
			if cmd.Text == "" && req.TriggerID != "" && o.inc.State == StateOpen {
				reply = resolveDialogReply(o.inc)
				break
			}
			reply, err = o.resolve(req.UserID, cmd.Text)
		case CmdRecoveryPoint:
			reply, err = o.recoveryPoint(req.UserID, cmd.Text)
		case CmdBegan:
			reply, err = o.began(req.UserID, cmd.Text)
		case CmdImpact:
			reply, err = o.impact(req.UserID, cmd.Text)
		case CmdCause:
			reply, err = o.rootCause(req.UserID, cmd.Text)
		case CmdAction:
			reply, err = o.actionItem(req.UserID, cmd.Target, cmd.Text)
		default:
			err = fmt.Errorf("command %q has no handler", cmd.Name)
		}
		return err
	})
	if err != nil {
		return Reply{}, err
	}
	if cmd.Name == CmdStatus {
		return s.status(ctx, id)
	}
	return reply, nil
}

// incidentOfChannel is the number of the incident whose channel is
// channelID, or an *Error saying that command (its name) is typed in an
// incident's channel, and which those are.
func (s *Engine) incidentOfChannel(ctx context.Context, channelID, command string) (int64, error) {
	var id int64
	err := s.cfg.Store.View(ctx, func(tx Tx) error {
		inc, err := tx.IncidentByChannel(channelID)
		if err != nil {
			return err
		}
		id = inc.ID
		return nil
	})
	if ErrorCode(err) == ENOTFOUND || (err == nil && id == 0) {
		return 0, s.notInChannel(ctx, command)
	}
	if err != nil {
		return 0, fmt.Errorf("find the incident of channel %s: %w", channelID, err)
	}
	return id, nil
}

func (s *Engine) notInChannel(ctx context.Context, name string) error {
	open, err := s.Incidents(ctx, Filter{State: StateOpen})
	if err != nil {
		return err
	}
	var chans []string
	for _, inc := range open {
		chans = append(chans, channelLink(inc))
	}
	where := "no incident is open"
	if len(chans) > 0 {
		where = "open incidents: " + strings.Join(chans, ", ")
	}
	return Errorf(EINVALID, "Use /incident %s in an incident channel (%s).", name, where)
}

func (o *op) resolvedText() string {
	return fmt.Sprintf("Incident #%d is resolved (by %s at %s); nothing was done.", o.inc.ID, mention(o.inc.ResolvedBy), o.clock(o.inc.ResolvedAt))
}

// note adds text to the timeline and says it in the channel.
func (o *op) note(userID, text string) (Reply, error) {
	o.event(KindNote, userID, text, map[string]string{"source": "command"})
	o.post(Message{Text: notePost(userID, text)}, "", "post a note")
	return Reply{Text: fmt.Sprintf("Noted in the timeline of incident #%d.", o.inc.ID)}, nil
}

// page pages a role or a person at userID's request.
func (o *op) page(userID, target string) (Reply, error) {
	if o.inc.State != StateOpen {
		return Reply{}, Errorf(EINVALID, "Incident #%d is resolved; nobody was paged.", o.inc.ID)
	}
	role, contacts, err := pageTarget(o.plan, target, o.contactOf)
	if err != nil {
		return Reply{}, err
	}
	o.workAck(userID, "by typing /incident page", role)
	if len(contacts) == 0 {
		return Reply{}, Errorf(EINVALID, "The %s role has no contacts in the plan; nobody was paged.", escape(role))
	}
	rp, started := o.pageRole(role, contacts, userID, fmt.Sprintf("_Paged by %s._", mention(userID)))
	if !started {
		return Reply{Text: fmt.Sprintf("%s is being paged already (page %d, to %s); it escalates on its own until someone acknowledges.",
			escape(role), rp.Sent-rp.CalloutStart, o.who(rp.current()))}, nil
	}
	o.post(Message{Text: o.pagedPostText(userID, rp, rp.current())}, "", "say who was paged")
	return Reply{Text: fmt.Sprintf("Paged %s: %s.", escape(role), o.who(rp.current()))}, nil
}

// status answers /incident status.
func (s *Engine) status(ctx context.Context, id int64) (Reply, error) {
	var text string
	err := s.cfg.Store.View(ctx, func(tx Tx) error {
		o, err := s.opOf(tx, id)
		if err != nil {
			return err
		}
		events, err := tx.Timeline(id)
		if err != nil {
			return fmt.Errorf("timeline: %w", err)
		}
		text = o.statusText(inOrder(events))
		return nil
	})
	if err != nil {
		return Reply{}, fmt.Errorf("status of incident %d: %w", id, err)
	}
	return Reply{Text: text}, nil
}

// statusText is the answer to /incident status; events is the timeline,
// which keeps what the incident's state overwrites (an acknowledgement
// before the role was paged again).
func (o *op) statusText(events []Event) string {
	inc := o.inc
	var b strings.Builder
	if inc.Drill {
		b.WriteString(drillPrefix)
	}
	fmt.Fprintf(&b, "*Incident #%d: %s* — %s · %s · %s · %s", inc.ID, escape(inc.Title), inc.State, escape(inc.Severity), escape(inc.Service), channelLink(inc))
	elapsed := o.now.Sub(inc.DeclaredAt)
	if inc.State == StateResolved {
		elapsed = inc.ResolvedAt.Sub(inc.DeclaredAt)
		fmt.Fprintf(&b, "\nResolved by %s at %s, after %s.", mention(inc.ResolvedBy), o.clock(inc.ResolvedAt), fmtDur(elapsed))
	}
	p := o.project()
	// When every step is done the current-step line says so.
	projected := ""
	if !p.done {
		projected = " " + o.projectionText(p)
	}
	switch {
	case inc.RTO <= 0:
		fmt.Fprintf(&b, "\nElapsed %s; no RTO set.", fmtDur(elapsed))
	case inc.State == StateResolved && elapsed <= inc.RTO:
		fmt.Fprintf(&b, "\nRTO %s met, %s to spare.", fmtDur(inc.RTO), fmtDur(inc.RTO-elapsed))
	case inc.State == StateResolved:
		fmt.Fprintf(&b, "\nRTO %s missed by %s.", fmtDur(inc.RTO), fmtDur(elapsed-inc.RTO))
	case elapsed > inc.RTO:
		fmt.Fprintf(&b, "\nElapsed %s: the RTO of %s (deadline %s) was breached %s ago.%s",
			fmtDur(elapsed), fmtDur(inc.RTO), o.clock(p.deadline), fmtDur(elapsed-inc.RTO), projected)
	default:
		fmt.Fprintf(&b, "\nElapsed %s of the %s RTO (deadline %s), %s left.%s",
			fmtDur(elapsed), fmtDur(inc.RTO), o.clock(p.deadline), fmtDur(inc.RTO-elapsed), projected)
	}
	if line := o.dataLossText(); line != "" {
		b.WriteString("\n" + line)
	}
	if line := reviewSoFar(inc); line != "" {
		b.WriteString("\n" + line)
	}
	if inc.State == StateOpen {
		b.WriteString("\n" + o.currentStepText())
	}
	if len(inc.Roles) > 0 {
		b.WriteString("\n*Paged*")
		for _, rp := range inc.Roles {
			b.WriteString("\n• " + o.roleStatus(rp, events))
		}
	}
	return b.String()
}

func (o *op) currentStepText() string {
	st := o.sc.Step(o.inc.Current)
	if o.inc.Current == "" || st == nil {
		return "All steps done. When service is restored: /incident resolve"
	}
	var rec *StepRecord
	if n := len(o.inc.Steps); n > 0 {
		rec = o.inc.Steps[n-1]
	}
	head := "Current step: " + o.stepHead(st)
	switch {
	case rec == nil:
	case rec.Approval == ApprovalPending:
		head += fmt.Sprintf("\nWaiting since %s for approval by the %s role (%s).", o.clock(rec.ApprovalRequestedAt), escape(st.Approval), o.approverNames(st.Approval))
	case rec.Approval == ApprovalDenied:
		head += fmt.Sprintf("\nDenied by %s at %s; approval can be requested again on the approval message.", mention(rec.DeniedBy), o.clock(rec.DeniedAt))
	case !rec.StartedAt.IsZero():
		elapsed := o.now.Sub(rec.StartedAt)
		head += fmt.Sprintf("\nRunning for %s", fmtDur(elapsed))
		if st.Estimate > 0 && elapsed > st.Estimate {
			head += fmt.Sprintf(", %s over its estimate", fmtDur(elapsed-st.Estimate))
		}
		head += "."
	}
	return head
}

func (o *op) roleStatus(rp *RolePage, events []Event) string {
	role := escape(rp.Role)
	var state string
	switch {
	case rp.Acked:
		return fmt.Sprintf("%s: acknowledged by %s at %s", role, o.who(rp.AckedBy), o.clock(rp.AckedAt))
	case rp.StoodDown:
		return fmt.Sprintf("%s: paged about %s (%d pages), no longer needed once it was acknowledged", role, o.aboutText(rp, o.who, escape), rp.Sent-rp.CalloutStart)
	case rp.Exhausted && len(rp.About) > 0:
		state = fmt.Sprintf("no answer to %d pages about %s", rp.Sent-rp.CalloutStart, o.aboutText(rp, o.who, escape))
	case rp.Exhausted:
		state = fmt.Sprintf("nobody acknowledged after %d pages", rp.Sent-rp.CalloutStart)
	case rp.Sent > rp.CalloutStart:
		// Resolve stops the paging: "yet" would say it goes on.
		pending := "not acknowledged yet"
		if o.inc.State == StateResolved {
			pending = "not acknowledged before the incident was resolved"
		}
		about := ""
		if len(rp.About) > 0 {
			about = " about " + o.aboutText(rp, o.who, escape)
		}
		state = fmt.Sprintf("%s paged (page %d)%s, %s", o.who(rp.current()), rp.Sent-rp.CalloutStart, about, pending)
	default:
		return role + ": not paged"
	}
	if again := o.pagedAgain(rp, events); again != "" {
		return role + ": " + again + ": " + state
	}
	return role + ": " + state
}

// pagedAgain says, for a role paged again after it acknowledged, who
// acknowledged it and when, and when and why the current callout began:
// "acknowledged by Alice Berg at 10:02; paged again at 12:00 (RTO
// breached)". A new callout clears the acknowledgement in the RolePage; the
// timeline keeps it. "" when the role never acknowledged.
func (o *op) pagedAgain(rp *RolePage, events []Event) string {
	if rp.CalloutStart == 0 {
		return ""
	}
	ack, start := -1, -1
	for i, e := range events {
		if e.Data["role"] != rp.Role {
			continue
		}
		switch e.Kind {
		case KindAcknowledged:
			ack = i
		case KindPaged:
			// Every callout begins with one paged event (escalations are
			// escalated events): the last one began the current callout.
			start = i
		}
	}
	if ack < 0 || start < ack {
		return ""
	}
	t := fmt.Sprintf("acknowledged by %s at %s; paged again at %s", o.who(events[ack].Data["contact"]), o.clock(events[ack].At), o.clock(events[start].At))
	if why := o.pagedWhy(events, start); why != "" {
		t += " (" + why + ")"
	}
	return t
}

// pagedWhy says why the callout begun by events[start] began: who
// asked for it, or what drbot recorded just before in the same change.
func (o *op) pagedWhy(events []Event, start int) string {
	e := events[start]
	if e.Actor != "" {
		return "by " + mention(e.Actor)
	}
	for i := start - 1; i >= 0 && events[i].At.Equal(e.At); i-- {
		switch events[i].Kind {
		case KindRTOBreached:
			return "RTO breached"
		case KindUnanswered:
			role := events[i].Data["role"]
			if role == "" || role == e.Data["role"] {
				continue
			}
			// A person paged alone is no role: name them, as the
			// channel was told (unansweredLine).
			if person, ok := rolePerson(role); ok {
				return o.who(person) + " did not acknowledge"
			}
			return "nobody acknowledged the " + escape(role) + " role"
		}
	}
	return ""
}

// rolePerson is pagedPerson for a role as the timeline records it: the
// contact id or Slack member ID of "@id", the pseudo role of a person
// paged alone. Plan ids cannot begin with "@" (playbooks' idPattern), so
// no role of the plan is taken for a person.
func rolePerson(role string) (string, bool) {
	person, ok := strings.CutPrefix(role, "@")
	return person, ok && person != ""
}

// list answers /incident list.
func (s *Engine) list(ctx context.Context) (Reply, error) {
	open, err := s.Incidents(ctx, Filter{State: StateOpen})
	if err != nil {
		return Reply{}, err
	}
	if len(open) == 0 {
		return Reply{Text: "No incident is open."}, nil
	}
	now := s.now()
	lines := make([]string, 0, len(open))
	for _, inc := range open {
		elapsed := now.Sub(inc.DeclaredAt)
		rto := fmtDur(elapsed) + " elapsed"
		if inc.RTO > 0 {
			rto = fmt.Sprintf("%s elapsed of the %s RTO", fmtDur(elapsed), fmtDur(inc.RTO))
			if elapsed > inc.RTO {
				rto += " (breached)"
			}
		}
		drill := ""
		if inc.Drill {
			drill = drillPrefix
		}
		lines = append(lines, fmt.Sprintf("\n• %s#%d %s · %s · %s · %s", drill, inc.ID, escape(truncateRunes(inc.Title, maxListTitle)), escape(inc.Severity), channelLink(inc), rto))
	}
	return Reply{Text: listText("*Open incidents*", lines, "\n…and %d more: `drbot incidents` lists them all.")}, nil
}

// declaredReply is posted where the declaration was typed, for everyone
// there to see: a drill's is marked like every other message of the drill.
// alsoOpen says which incidents of inc's scenario declared before it are
// still open (drills with drills, real ones with real ones), so that
// whoever declared twice the same problem, or two people at once, sees it
// at once: " Also open for db-corruption: incident #1 (<#C1>), declared
// 3m ago by <@U1>." It is "" when there is none, and when the store
// cannot say (the answer is not held up for it).
func (s *Engine) alsoOpen(ctx context.Context, inc *Incident) string {
	var others []*Incident
	err := s.cfg.Store.View(ctx, func(tx Tx) (err error) {
		others, err = earlierOpen(tx, inc)
		return err
	})
	if err != nil {
		return ""
	}
	return s.alsoOpenText(inc, others)
}

// earlierOpen returns the open incidents of inc's scenario (and drill-ness)
// declared before it, newest first.
func earlierOpen(tx Tx, inc *Incident) ([]*Incident, error) {
	open, err := tx.Incidents(Filter{State: StateOpen, Limit: 50})
	var out []*Incident
	for _, o := range open {
		if o.ID < inc.ID && o.Scenario == inc.Scenario && o.Drill == inc.Drill {
			out = append(out, o)
		}
	}
	return out, err
}

// alsoOpenText is alsoOpen's sentence for others (earlierOpen), the three
// oldest named; "" for none.
func (s *Engine) alsoOpenText(inc *Incident, others []*Incident) string {
	if len(others) == 0 {
		return ""
	}
	var parts []string
	for i := len(others) - 1; i >= 0 && len(parts) < 3; i-- { // oldest first
		o := others[i]
		ago := "just now"
		if d := s.now().Sub(o.DeclaredAt).Truncate(time.Minute); d > 0 {
			ago = fmtDur(d) + " ago"
		}
		parts = append(parts, fmt.Sprintf("incident #%d (%s), declared %s by %s", o.ID, channelLink(o), ago, mention(o.DeclaredBy)))
	}
	return fmt.Sprintf("\n:information_source: Also open for %s: %s. If it is the same problem, work there and resolve this one.",
		escape(inc.Scenario), andList(parts))
}

func declaredReply(inc *Incident) string {
	kind, prefix := "incident", ""
	if inc.Drill {
		kind, prefix = "drill", drillPrefix
	}
	return fmt.Sprintf("%s%s declared %s #%d (%s): %s. Channel: %s",
		prefix, mention(inc.DeclaredBy), kind, inc.ID, escape(inc.Severity), escape(inc.Title), channelLink(inc))
}
