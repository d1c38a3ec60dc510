package bot

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/drbot-dev/drbot/bot/slacklimit"
	"github.com/drbot-dev/drbot/incident"
)

// The logic below is shared by HTTP and Socket Mode: each function takes
// a parsed request and returns what to answer Slack with (nil: an empty
// acknowledgement). Anything that calls Slack runs after the answer.

// WorkingText is the answer to a command the service could not finish
// within AnswerWithin; the result follows by response_url.
const WorkingText = "Working on it — drbot will answer here shortly."

// CommandResponse is the JSON answer to a slash command.
type CommandResponse struct {
	ResponseType string `json:"response_type"` // "ephemeral" or "in_channel"
	Text         string `json:"text"`
}

func ephemeral(text string) *CommandResponse {
	return &CommandResponse{ResponseType: slack.ResponseTypeEphemeral, Text: text}
}

// Command runs a slash command and returns the answer to give Slack.
func (s *Server) Command(cmd slack.SlashCommand) any {
	req := incident.CommandRequest{
		UserID:    cmd.UserID,
		ChannelID: cmd.ChannelID,
		// Slack sends &, < and > as entities; the service escapes what it
		// posts, so it gets the text as typed.
		Text:      Unescape(strings.TrimSpace(cmd.Text)),
		TriggerID: cmd.TriggerID,
	}
	log := s.log.With("user", cmd.UserID, "channel", cmd.ChannelID)
	start := time.Now()
	reply, finished, err := within(s, "command", func(ctx context.Context) (incident.Reply, error) {
		named := req
		named.Text = s.nameMentions(ctx, req.Text)
		reply, err := s.svc.Command(ctx, named)
		if err == nil && reply.Declared != 0 {
			reply.Text = s.declaredReply(ctx, reply, start.Add(s.cfg.AnswerWithin/2))
		}
		return reply, err
	}, func(ctx context.Context, reply incident.Reply, err error) {
		// Too late for the answer: say it by response_url.
		resp := s.commandReply(cmd, reply, err, true)
		if resp == nil {
			return
		}
		if rerr := s.chat.Respond(ctx, cmd.ResponseURL, ResponseMessage{ResponseType: resp.ResponseType, Text: resp.Text}); rerr != nil {
			log.Error("could not post a late command answer", "err", rerr)
		}
	})
	if !finished {
		log.Warn("command slower than the answer deadline; answering later", "within", s.cfg.AnswerWithin)
		return ephemeral(WorkingText)
	}
	if resp := s.commandReply(cmd, reply, err, false); resp != nil {
		return resp
	}
	return nil
}

// channelPoll is how often declaredReply asks whether the channel of a
// declared incident exists.
const channelPoll = 20 * time.Millisecond

// declaredReply is the answer to a declaration naming the channel Slack
// gave (after name_taken, inc-1-api-down-2): the outbox creates it at
// once, so the answer waits for it until deadline, then goes with the
// name asked for (and the incident's follow-up in the same conversation
// says the real one). It does not wait when the engine says the answer is
// final without the channel: Slack holds creations back, and the channel
// is queued behind others.
func (s *Server) declaredReply(ctx context.Context, reply incident.Reply, deadline time.Time) string {
	tick := time.NewTicker(channelPoll)
	defer tick.Stop()
	for {
		text, final, err := s.svc.DeclaredReply(ctx, reply.Declared)
		switch {
		case err != nil:
			s.log.Warn("could not read the declared incident's channel", "incident", reply.Declared, "err", err)
			return reply.Text
		case final:
			return text
		case !time.Now().Before(deadline):
			return reply.Text
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return reply.Text
		}
	}
}

// commandReply turns the service's reply into an answer; it opens the
// declare modal when asked to.
func (s *Server) commandReply(cmd slack.SlashCommand, reply incident.Reply, err error, late bool) *CommandResponse {
	if err != nil {
		s.logEngineError("command", err, "user", cmd.UserID, "channel", cmd.ChannelID)
		return ephemeral(incident.ErrorMessage(err))
	}
	if reply.OpenDeclareModal {
		scenarios := s.svc.Scenarios()
		if len(scenarios) == 0 {
			return ephemeral("The plan has no scenarios to declare.")
		}
		if late {
			// trigger_id lives 3 s: too late for a modal.
			return ephemeral("The declare dialog could not be opened in time. Type `/incident declare SCENARIO [summary]`; `/incident scenarios` lists them.")
		}
		s.background("command", func(ctx context.Context) { s.openDeclareModal(ctx, cmd, scenarios) })
		return nil
	}
	if reply.OpenResolveModal && !late {
		s.background("command", func(ctx context.Context) { s.openResolveModal(ctx, cmd, reply.Text) })
		return nil
	}
	if reply.Text == "" {
		return nil
	}
	rt := slack.ResponseTypeEphemeral
	if reply.Public {
		rt = slack.ResponseTypeInChannel
	}
	return &CommandResponse{ResponseType: rt, Text: truncate(reply.Text, slacklimit.ChatText)}
}

// logEngineError logs an error of the service: internal ones as errors,
// the person's own mistakes (not found, invalid ...) at debug.
func (s *Server) logEngineError(what string, err error, args ...any) {
	args = append(args, "err", err)
	if incident.ErrorCode(err) == incident.EINTERNAL {
		s.log.Error(what+" failed", args...)
		return
	}
	s.log.Debug(what+" refused", args...)
}

// Interaction handles a button press or a modal submission and returns
// the answer to give Slack.
func (s *Server) Interaction(cb slack.InteractionCallback) any {
	switch cb.Type {
	case slack.InteractionTypeBlockActions:
		for _, a := range cb.ActionCallback.BlockActions {
			if a == nil || a.Value == "" {
				continue
			}
			s.press(cb, a.Value)
		}
		return nil
	case slack.InteractionTypeBlockSuggestion:
		if cb.ActionID == BlockScenario {
			return ScenarioOptions(s.svc.Scenarios(), cb.Value)
		}
		return &slack.OptionsResponse{Options: []*slack.OptionBlockObject{}}
	case slack.InteractionTypeViewSubmission:
		switch cb.View.CallbackID {
		case DeclareCallbackID:
			return s.submitDeclare(cb)
		case ReviewCallbackID:
			return s.submitReviewNote(cb)
		case RecoveryPointCallbackID:
			return s.submitRecoveryPoint(cb)
		case ResolveCallbackID:
			return s.submitResolve(cb)
		case DenyCallbackID:
			return s.submitDeny(cb)
		}
	}
	s.log.Debug("ignored interaction", "type", cb.Type, "callback_id", cb.View.CallbackID)
	return nil
}

// press hands a button press to the service and says its reply to the
// presser alone, after the answer.
//
// The press is recorded before Slack hears back (at most AnswerWithin):
// Slack does not send a press again, so one answered first and then lost
// to a crash would be lost for good. Past AnswerWithin, Slack gets its
// answer and the press finishes after.
func (s *Server) press(cb slack.InteractionCallback, action string) {
	channel := cb.Channel.ID
	if channel == "" {
		channel = cb.Container.ChannelID
	}
	req := incident.PressRequest{UserID: cb.User.ID, ChannelID: channel, Action: action, TriggerID: cb.TriggerID}
	reply, finished, err := within(s, "press", func(ctx context.Context) (incident.Reply, error) {
		return s.svc.Press(ctx, req)
	}, func(ctx context.Context, reply incident.Reply, err error) {
		s.sayPress(ctx, cb, req, reply, err)
	})
	if finished {
		s.background("press", func(ctx context.Context) { s.sayPress(ctx, cb, req, reply, err) })
	}
}

// pressDialog is the dialog a press's reply asks the surface to open: the
// recovery point (a recovery_point step's Done), what the contact list
// needs (the review's Needs changes), the resolution (an alert group's
// Resolve), or why an approval is denied (Deny).
func pressDialog(reply incident.Reply, channel string) (slack.ModalViewRequest, string, bool) {
	switch {
	case reply.OpenRecoveryPointModal:
		return RecoveryPointView(channel), "recovery point", true
	case reply.OpenReviewModal:
		return ReviewView(channel), "review", true
	case reply.OpenResolveModal:
		return ResolveView(channel), "resolve", true
	case reply.OpenDenyModal && reply.DialogChannel != "":
		// Deny may be pressed in a direct message: the command runs in
		// the incident's channel.
		return DenyView(reply.DialogChannel), "deny", true
	}
	return slack.ModalViewRequest{}, "", false
}

// sayPress says the service's reply to a press to the presser.
func (s *Server) sayPress(ctx context.Context, cb slack.InteractionCallback, req incident.PressRequest, reply incident.Reply, err error) {
	channel := req.ChannelID
	text, public := reply.Text, reply.Public
	if err != nil {
		s.logEngineError("press", err, "user", req.UserID, "channel", channel)
		text, public = incident.ErrorMessage(err), false
	}
	if view, what, ok := pressDialog(reply, channel); err == nil && ok && req.TriggerID != "" {
		// The reply's text (the command to type) is for when the
		// dialog cannot open.
		oerr := s.chat.OpenView(ctx, req.TriggerID, view)
		if oerr == nil {
			return
		}
		s.log.Warn("could not open the "+what+" dialog; answering with the command instead", "user", req.UserID, "err", oerr)
	}
	if text == "" {
		return
	}
	rt := slack.ResponseTypeEphemeral
	if public {
		rt = slack.ResponseTypeInChannel
	}
	var rerr error
	if cb.ResponseURL != "" {
		rerr = s.chat.Respond(ctx, cb.ResponseURL, ResponseMessage{ResponseType: rt, Text: text})
	} else {
		rerr = s.chat.Ephemeral(ctx, channel, req.UserID, incident.Message{Text: text})
	}
	if rerr != nil {
		s.log.Error("could not answer a press", "user", req.UserID, "err", rerr)
	}
}

// ViewErrors is the answer that keeps a modal open with errors under
// its fields.
type ViewErrors struct {
	ResponseAction string            `json:"response_action"` // "errors"
	Errors         map[string]string `json:"errors"`          // block id -> message
}

// viewErrors keeps a dialog open with msg under block. Slack shows the
// error as plain text: the engine's mrkdwn escapes are undone, or
// "&lt;" would show where "<" was typed.
func viewErrors(block, msg string) *ViewErrors {
	return &ViewErrors{ResponseAction: "errors", Errors: map[string]string{block: Unescape(msg)}}
}

// stateValues returns the values of a submitted dialog. Slack always sends
// its state; a payload without one must not panic the handler (over
// Socket Mode, the whole process).
func stateValues(cb slack.InteractionCallback) map[string]map[string]slack.BlockAction {
	if cb.View.State == nil {
		return nil
	}
	return cb.View.State.Values
}

// Block ids of the review dialog (the contact-list review's Needs
// changes button).
const (
	ReviewCallbackID = "review_needs"
	BlockReviewNote  = "review_note"
)

// ReviewView is the dialog that asks what needs to change in the contact
// list. channelID (where the button was) travels in private_metadata.
func ReviewView(channelID string) slack.ModalViewRequest {
	note := textField{block: BlockReviewNote, label: "What needs to change?",
		placeholder: "Who left, who joined, which number changed…", multiline: true}.input()
	return modalView(ReviewCallbackID, "Contact list", "Send", "Cancel", channelID, []slack.Block{note})
}

// submitReviewNote records what the review dialog says needs to change,
// as "/incident review needs TEXT" would, and shows the answer in the
// dialog; errors keep it open with the message under the field.
func (s *Server) submitReviewNote(cb slack.InteractionCallback) any {
	text := strings.TrimSpace(stateValues(cb)[BlockReviewNote][BlockReviewNote].Value)
	if text == "" {
		return viewErrors(BlockReviewNote, "Say what needs to change")
	}
	if utf8.RuneCountInString(text) > maxSummary {
		return viewErrors(BlockReviewNote, fmt.Sprintf("Keep it under %d characters", maxSummary))
	}
	req := incident.CommandRequest{UserID: cb.User.ID, ChannelID: cb.View.PrivateMetadata, Text: incident.CmdReview + " " + incident.ReviewNeeds + " " + text}
	reply, finished, err := within(s, "review note", func(ctx context.Context) (incident.Reply, error) {
		return s.svc.Command(ctx, req)
	}, func(ctx context.Context, reply incident.Reply, err error) {
		// The dialog is closed by now: say the outcome in a DM.
		msg := reply.Text
		if err != nil {
			s.logEngineError("review note", err, "user", req.UserID)
			msg = "Could not record what needs to change: " + incident.ErrorMessage(err)
		}
		if msg == "" {
			return
		}
		if _, _, derr := s.chat.DM(ctx, req.UserID, incident.Message{Text: msg}); derr != nil {
			s.log.Error("could not answer a review note", "user", req.UserID, "err", derr)
		}
	})
	if resp, ok := s.dialogAnswered("review note", req.UserID, finished, err, BlockReviewNote); !ok {
		return resp
	}
	done := slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, truncate(reply.Text, maxSectionText), false, false), nil, nil)
	return slack.NewUpdateViewSubmissionResponse(&slack.ModalViewRequest{
		Type:   slack.VTModal,
		Title:  slack.NewTextBlockObject(slack.PlainTextType, "Contact list", false, false),
		Close:  slack.NewTextBlockObject(slack.PlainTextType, "Close", false, false),
		Blocks: slack.Blocks{BlockSet: []slack.Block{done}},
	})
}

// Event handles an Events API callback and returns the HTTP status to
// answer: 200 once the event is recorded (or ignored), 503 when it could
// not be recorded, so that Slack sends it again.
//
// A pinned message or a :pushpin: reaction becomes a note once per message
// (however often it is pinned, or Slack retries the event): the message is
// recorded as seen in the same transaction as its note, so that a crash in
// between loses neither. Events that note nothing record nothing.
func (s *Server) Event(ev slackevents.EventsAPIEvent) int {
	cb, ok := ev.Data.(*slackevents.EventsAPICallbackEvent)
	if !ok || ev.Type != slackevents.CallbackEvent {
		s.log.Debug("ignored event", "type", ev.Type)
		return http.StatusOK
	}
	switch e := ev.InnerEvent.Data.(type) {
	case *slackevents.PinAddedEvent:
		return s.pinAdded(cb.EventID, e)
	case *slackevents.ReactionAddedEvent:
		if e.Reaction != "pushpin" || e.Item.Type != "message" {
			return http.StatusOK
		}
		// Reading the message (conversations.history) may take longer than
		// Slack waits for an answer: answered first, noted after.
		s.background("reaction_added", func(ctx context.Context) {
			if s.isBot(ctx, e.User) {
				return
			}
			text, author, err := s.chat.MessageText(ctx, e.Item.Channel, e.Item.Timestamp)
			if err != nil {
				s.log.Warn("could not read a :pushpin: message", "channel", e.Item.Channel, "ts", e.Item.Timestamp, "err", err)
				return
			}
			if author == "" {
				author = e.ItemUser
			}
			if s.isBot(ctx, author) {
				return
			}
			if err := s.note(ctx, e.Item.Channel, e.Item.Timestamp, author, text); err != nil {
				s.log.Error("could not add a :pushpin: message to the timeline", "event_id", cb.EventID, "channel", e.Item.Channel, "err", err)
			}
		})
		return http.StatusOK
	case *slackevents.ChannelArchiveEvent:
		return s.channelArchived(cb.EventID, e.Channel, e.User, true)
	case *slackevents.ChannelUnarchiveEvent:
		return s.channelArchived(cb.EventID, e.Channel, e.User, false)
	}
	s.log.Debug("ignored event", "type", ev.InnerEvent.Type)
	return http.StatusOK
}

// pinAdded notes a pinned message (see Event).
func (s *Server) pinAdded(eventID string, e *slackevents.PinAddedEvent) int {
	if e.Item.Type != "message" || e.Item.Message == nil {
		return http.StatusOK
	}
	channel := e.Item.Channel
	if channel == "" {
		channel = e.Channel
	}
	msg := e.Item.Message
	if !s.botKnown() {
		// Telling drbot's own pins (the incident summary) needs its
		// member id, which auth.test would give: Slack was not
		// reachable when drbot started. Slack is not kept waiting for
		// its own Web API: answered first, noted after.
		s.background("pin_added", func(ctx context.Context) {
			if s.isBot(ctx, e.User) || s.isBot(ctx, msg.User) {
				return
			}
			if err := s.note(ctx, channel, msg.Timestamp, msg.User, msg.Text); err != nil {
				s.log.Error("could not add a pinned message to the timeline", "event_id", eventID, "channel", channel, "err", err)
			}
		})
		return http.StatusOK
	}
	// The event carries the message: it is noted before Slack is
	// answered, and a note that could not be written is answered 503,
	// so that Slack sends the event again.
	_, finished, err := within(s, "pin_added", func(ctx context.Context) (struct{}, error) {
		if s.isBot(ctx, e.User) || s.isBot(ctx, msg.User) {
			return struct{}{}, nil
		}
		return struct{}{}, s.note(ctx, channel, msg.Timestamp, msg.User, msg.Text)
	}, func(_ context.Context, _ struct{}, err error) {
		if err != nil {
			s.log.Error("could not add a pinned message to the timeline", "event_id", eventID, "channel", channel, "err", err)
		}
	})
	switch {
	case !finished:
		// Still writing: it finishes after the answer.
		return http.StatusOK
	case err != nil:
		s.log.Error("could not add a pinned message to the timeline; Slack will send it again", "event_id", eventID, "channel", channel, "err", err)
		return http.StatusServiceUnavailable
	}
	return http.StatusOK
}

// channelArchived records an incident channel archived (or unarchived)
// before Slack is answered; 503 when it could not be, so that Slack
// sends the event again (recording it twice changes nothing).
func (s *Server) channelArchived(eventID, channel, user string, archived bool) int {
	_, finished, err := within(s, "channel_archive", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, s.svc.ChannelArchived(ctx, channel, user, archived)
	}, func(_ context.Context, _ struct{}, err error) {
		if err != nil {
			s.log.Error("could not record an archived channel", "event_id", eventID, "channel", channel, "err", err)
		}
	})
	if finished && err != nil {
		s.log.Error("could not record an archived channel; Slack will send it again", "event_id", eventID, "channel", channel, "err", err)
		return http.StatusServiceUnavailable
	}
	return http.StatusOK
}

// note adds a pinned message to the timeline of the incident whose
// channel it is in, once per message however many times it is pinned. It
// returns only the errors worth trying again for (the database failing);
// a channel of no incident, or a message noted before, is no error.
func (s *Server) note(ctx context.Context, channel, ts, author, text string) error {
	text = s.nameMentions(ctx, strings.TrimSpace(Unescape(text)))
	if text == "" {
		return nil
	}
	dup, err := s.svc.AddNoteForEvent(ctx, "pinned/"+channel+"/"+ts, channel, author, "Pinned: "+text)
	switch {
	case incident.ErrorCode(err) == incident.ENOTFOUND:
		s.log.Debug("pinned message outside an incident channel", "channel", channel)
	case err != nil && incident.ErrorCode(err) != incident.EINTERNAL:
		s.log.Warn("pinned message not noted", "channel", channel, "err", err)
	case err != nil:
		return err
	case dup:
		s.log.Debug("pinned message noted before", "channel", channel, "ts", ts)
	}
	return nil
}

// botKnown reports whether drbot's own member id is known, so that isBot
// calls no Slack.
func (s *Server) botKnown() bool { return s.chat.knownBotUserID() != "" }

// isBot reports whether user is drbot itself.
func (s *Server) isBot(ctx context.Context, user string) bool {
	if user == "" {
		return false
	}
	id, err := s.chat.BotUserID(ctx)
	if err != nil {
		s.log.Warn("auth.test failed; cannot tell drbot's own pins", "err", err)
		return false
	}
	return user == id
}
