package bot

import (
	"context"
	"strings"

	"github.com/slack-go/slack"

	"github.com/drbot-dev/drbot/incident"
)

// The postmortem's dialogs: the recovery point asked by Done of a step
// with recovery_point, and the resolve dialog of "/incident resolve" with
// no text. Each submission runs the same /incident commands a person
// could type, in the incident's channel (private_metadata), so that the
// rules stay in the engine.

// Callback and block ids of the recovery point dialog.
const (
	RecoveryPointCallbackID = "recovery_point"
	BlockRecoveryPoint      = "recovery_point"
)

// whenPlaceholder shows the forms of WHEN (incident.ParseWhen).
const whenPlaceholder = "10:45, 2026-11-21 10:45, or 15m ago"

// RecoveryPointView asks for the point in time the data was recovered to.
// channelID, the incident's channel, travels in private_metadata.
func RecoveryPointView(channelID string) slack.ModalViewRequest {
	block := textField{block: BlockRecoveryPoint, label: "Data recovered to", placeholder: whenPlaceholder,
		hint: "The time of the newest data you have back (the backup's time, in the plan's time zone). The data lost is measured from it to when the failure began, against the RPO."}.input()
	return modalView(RecoveryPointCallbackID, "Recovery point", "Record", "Later", channelID, []slack.Block{block})
}

// submitRecoveryPoint runs "/incident recovery-point WHEN" with what the
// dialog says; a time drbot cannot read keeps it open with the message
// under the field.
func (s *Server) submitRecoveryPoint(cb slack.InteractionCallback) any {
	when := strings.TrimSpace(stateValues(cb)[BlockRecoveryPoint][BlockRecoveryPoint].Value)
	if when == "" {
		return viewErrors(BlockRecoveryPoint, "Say when: "+whenPlaceholder)
	}
	return s.runSubmitted(cb, "recovery point", "recovery point", []submitted{{BlockRecoveryPoint, incident.CmdRecoveryPoint + " " + when}})
}

// submitted is one command a dialog runs, and the block its error goes
// under.
type submitted struct {
	block, text string
}

// runSubmitted runs cmds in order as the submitter, from dialog (its
// name, for the timeline), in the channel of private_metadata, and stops at the first refused: its message goes
// under its block and the dialog stays open (nil: close it). Past the
// answer deadline the dialog closes and a refusal goes to the submitter
// by DM.
func (s *Server) runSubmitted(cb slack.InteractionCallback, what, dialog string, cmds []submitted) any {
	channel := cb.View.PrivateMetadata
	var failed string // the block of the refused command
	_, finished, err := within(s, what, func(ctx context.Context) (struct{}, error) {
		for _, c := range cmds {
			if _, err := s.svc.Command(ctx, incident.CommandRequest{UserID: cb.User.ID, ChannelID: channel, Text: c.text, Dialog: dialog}); err != nil {
				failed = c.block
				return struct{}{}, err
			}
		}
		return struct{}{}, nil
	}, func(ctx context.Context, _ struct{}, err error) {
		if err != nil {
			s.reportLateDialog(ctx, what, cb.User.ID, err)
		}
	})
	resp, _ := s.dialogAnswered(what, cb.User.ID, finished, err, failed)
	return resp
}

// reportLateDialog tells userID by DM that what their dialog submitted,
// answered past the deadline (the dialog already closed), was refused.
func (s *Server) reportLateDialog(ctx context.Context, what, userID string, err error) {
	s.logEngineError(what, err, "user", userID)
	msg := incident.Message{Text: "Could not record the " + what + ": " + incident.ErrorMessage(err)}
	if _, _, derr := s.chat.DM(ctx, userID, msg); derr != nil {
		s.log.Error("could not report a failed dialog", "user", userID, "err", derr)
	}
}

// dialogAnswered is how a dialog's submission ends once within returns:
// ok when the engine answered in time and agreed (the caller answers).
// Otherwise resp is the answer: nil, closing the dialog, past the answer
// deadline (within's late function says the outcome); the refusal under
// block, keeping it open.
func (s *Server) dialogAnswered(what, userID string, finished bool, err error, block string) (resp any, ok bool) {
	if !finished {
		s.log.Warn(what+" slower than the answer deadline; closing the dialog", "within", s.cfg.AnswerWithin)
		return nil, false
	}
	if err != nil {
		s.logEngineError(what, err, "user", userID)
		return viewErrors(block, incident.ErrorMessage(err)), false
	}
	return nil, true
}

// Callback and block ids of the resolve dialog.
const (
	ResolveCallbackID = "resolve"
	BlockResolution   = "resolution"
	BlockImpact       = "impact"
	BlockCause        = "cause"
)

// ResolveView is the dialog of "/incident resolve" with no text: the
// resolution (required), and for the postmortem the impact, the root cause
// and trigger, and the recovery point. channelID, the incident's channel,
// travels in private_metadata.
func ResolveView(channelID string) slack.ModalViewRequest {
	text := func(block, label, placeholder string, optional, multiline bool) *slack.InputBlock {
		return textField{block: block, label: label, placeholder: placeholder, optional: optional, multiline: multiline}.input()
	}
	return modalView(ResolveCallbackID, "Resolve the incident", "Resolve", "Cancel", channelID, []slack.Block{
		text(BlockResolution, "Resolution", "What ended the incident?", false, true),
		text(BlockImpact, "Impact", "Who and what was affected, and how much?", true, true),
		text(BlockCause, "Root cause and trigger", "What was wrong, and what set it off?", true, true),
		text(BlockRecoveryPoint, "Recovery point", whenPlaceholder, true, false),
	})
}

// openResolveModal opens the resolve dialog; when it cannot, the person
// is told what to type (fallback).
func (s *Server) openResolveModal(ctx context.Context, cmd slack.SlashCommand, fallback string) {
	if err := s.chat.OpenView(ctx, cmd.TriggerID, ResolveView(cmd.ChannelID)); err != nil {
		s.log.Error("could not open the resolve dialog", "user", cmd.UserID, "err", err)
		msg := ResponseMessage{ResponseType: slack.ResponseTypeEphemeral, Text: "The resolve dialog could not be opened. " + fallback}
		if rerr := s.chat.Respond(ctx, cmd.ResponseURL, msg); rerr != nil {
			s.log.Error("could not say so by response_url", "err", rerr)
		}
	}
}

// submitResolve records what the resolve dialog says and resolves, in
// one change (incident.Engine.ResolveWith): a refusal keeps the dialog
// open with why, under its field, and records nothing. Past the answer
// deadline the dialog closes and a refusal goes to the submitter by DM.
func (s *Server) submitResolve(cb slack.InteractionCallback) any {
	values := stateValues(cb)
	get := func(block string) string { return strings.TrimSpace(values[block][block].Value) }
	req := incident.ResolveRequest{UserID: cb.User.ID, ChannelID: cb.View.PrivateMetadata,
		Resolution: get(BlockResolution), Impact: get(BlockImpact), Cause: get(BlockCause), RecoveryPoint: get(BlockRecoveryPoint)}
	if req.Resolution == "" {
		return viewErrors(BlockResolution, "Say what ended the incident")
	}
	const what = "resolution"
	_, finished, err := within(s, what, func(ctx context.Context) (incident.Reply, error) {
		return s.svc.ResolveWith(ctx, req)
	}, func(ctx context.Context, _ incident.Reply, err error) {
		if err != nil {
			s.reportLateDialog(ctx, what, cb.User.ID, err)
		}
	})
	resp, _ := s.dialogAnswered(what, cb.User.ID, finished, err, resolveBlock(incident.ErrorField(err)))
	return resp
}

// resolveBlock is the resolve dialog's block of an input of
// incident.ResolveRequest (incident.Field*).
func resolveBlock(field string) string {
	switch field {
	case incident.FieldImpact:
		return BlockImpact
	case incident.FieldCause:
		return BlockCause
	case incident.FieldRecoveryPoint:
		return BlockRecoveryPoint
	}
	return BlockResolution
}
