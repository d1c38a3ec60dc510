package bot

import (
	"strings"

	"github.com/slack-go/slack"

	"github.com/drbot-dev/drbot/incident"
)

// The deny dialog: Deny of an approval asks why before it denies. The
// submission runs "/incident deny REASON" in the incident's channel
// (private_metadata), as a person could type it, so that the rule stays
// in the engine. The reason is optional: an empty one denies without.

// Callback and block ids of the deny dialog.
const (
	DenyCallbackID  = "deny"
	BlockDenyReason = "deny_reason"
)

// DenyView asks why the approval is denied. channelID, the incident's
// channel, travels in private_metadata.
func DenyView(channelID string) slack.ModalViewRequest {
	block := textField{block: BlockDenyReason, label: "Reason", placeholder: "Why it must not start now",
		hint: "Shown in the channel, the timeline and the postmortem.", optional: true, multiline: true}.input()
	return modalView(DenyCallbackID, "Deny", "Deny", "Cancel", channelID, []slack.Block{block})
}

// submitDeny runs "/incident deny REASON" with what the dialog says; a
// refusal keeps it open with the message under the field.
func (s *Server) submitDeny(cb slack.InteractionCallback) any {
	reason := strings.TrimSpace(stateValues(cb)[BlockDenyReason][BlockDenyReason].Value)
	return s.runSubmitted(cb, "denial", "deny", []submitted{{BlockDenyReason, strings.TrimSpace(incident.CmdDeny + " " + reason)}})
}
