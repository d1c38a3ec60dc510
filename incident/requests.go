package incident

import (
	"time"
)

// What a chat surface hands the engine (a command typed, a button pressed,
// a declaration) and what it gets back to show.

// CommandRequest is one "/incident ..." typed by a user.
type CommandRequest struct {
	UserID    string // Slack member ID of who typed it
	ChannelID string // where it was typed
	Text      string // what follows "/incident"
	// TriggerID lets the surface open a dialog in answer (Slack's
	// trigger_id, valid 3 s); empty where there are none. With one,
	// "/incident resolve" with no text opens the resolve dialog instead
	// of resolving.
	TriggerID string
	// Dialog names the dialog the command was submitted from ("deny",
	// "recovery point"), "" when typed: the acknowledgement that working
	// the incident makes says "by submitting the deny dialog".
	Dialog string
}

// PressRequest is a button press.
type PressRequest struct {
	UserID    string
	ChannelID string
	Action    string // Button.Action
	// TriggerID lets the surface open a dialog in answer to the press
	// (Slack's trigger_id, valid 3 s); empty where there are none.
	TriggerID string
}

// DeclareRequest declares an incident (or a drill).
type DeclareRequest struct {
	Scenario string
	Summary  string
	Drill    bool
	UserID   string
	// ChannelID is where it was declared from; the answer goes there.
	ChannelID string
	// Detection says how the incident was detected (the alerts intake
	// sets it); nil: declared by UserID, or a scheduled drill.
	Detection *Detection
	// Confirm sends UserID a direct message with the answer (the declare
	// dialog, whose submission has no place to show one; a slash command
	// is answered in its channel).
	Confirm bool
}

// Reply is the answer to the person who typed a command or pressed a
// button, shown only to them (ephemeral) unless Public.
type Reply struct {
	Text   string
	Public bool
	// OpenDeclareModal asks the surface to open the declare dialog
	// ("/incident declare" with no scenario).
	OpenDeclareModal bool
	// OpenReviewModal asks the surface to open the dialog that asks what
	// needs to change in the contact list (the review's Needs changes
	// button); submitting it runs "/incident review needs TEXT". Text says
	// the same for surfaces without dialogs.
	OpenReviewModal bool
	// OpenRecoveryPointModal asks the surface to open the dialog that
	// asks for the recovery point (Done of a recovery_point step);
	// submitting it runs "/incident recovery-point WHEN" in the incident's
	// channel. Text says the same for surfaces without dialogs.
	OpenRecoveryPointModal bool
	// OpenResolveModal asks the surface to open the resolve dialog
	// (Resolution, Impact, Root cause, Recovery point), for
	// "/incident resolve" with no text typed where dialogs open; nothing
	// is resolved yet. Submitting it runs recovery-point, impact, cause
	// and resolve. Text says what to type where it cannot open.
	OpenResolveModal bool
	// OpenDenyModal asks the surface to open the deny dialog (Deny of an
	// approval), which asks why; submitting it runs "/incident deny
	// REASON" in DialogChannel. Nothing is denied yet. Text says what to
	// type where it cannot open.
	OpenDenyModal bool
	// DialogChannel is the conversation a dialog's commands run in when
	// it is not where the button was (the incident's channel, for a
	// button in a direct message).
	DialogChannel string
	// Declared is the incident a declaration opened: a surface that can
	// wait for its channel asks DeclaredReply for the answer naming the
	// channel Slack gave.
	Declared int64
}

// ScenarioInfo is a scenario as offered in the declare dialog and by
// "/incident scenarios".
type ScenarioInfo struct {
	ID       string
	Title    string
	Service  string
	Severity string
	RTO      time.Duration
}
