package console

import (
	"strings"

	"github.com/drbot-dev/drbot/playbooks"
)

// The console invents ids that read back as the names people type:
// channel "#inc-3-db-corruption" has id "C-inc-3-db-corruption", the direct
// conversation of user U0BOB0001 has id "D-U0BOB0001", and a contact of the
// plan without a Slack member ID ("frank", email only) has the user id
// "U-frank". They are derived, never remembered, so a second console run on
// the same database still recognises the channels of the first.
const (
	channelPrefix = "C-"
	dmPrefix      = "D-"
	pseudoPrefix  = "U-"
)

// ChannelID returns the console's id for a channel name ("#general" or
// "general").
func ChannelID(name string) string {
	return channelPrefix + strings.TrimPrefix(name, "#")
}

// DMID returns the console's id of the direct conversation between drbot
// and a user.
func DMID(userID string) string { return dmPrefix + userID }

// UserID returns the user id of a contact: its Slack member ID, or a
// pseudo id "U-CONTACT" for a contact known by email only.
func UserID(c *playbooks.Contact) string {
	if c.Slack != "" {
		return c.Slack
	}
	return pseudoPrefix + c.ID
}

// contactByUser returns the contact a user id stands for, or nil.
func contactByUser(p *playbooks.Plan, userID string) *playbooks.Contact {
	if p == nil || userID == "" {
		return nil
	}
	if c := p.ContactBySlack(userID); c != nil {
		return c
	}
	if id, ok := strings.CutPrefix(userID, pseudoPrefix); ok {
		if c := p.Contacts[id]; c != nil && c.Slack == "" {
			return c
		}
	}
	return nil
}

// userName renders a user as "@contact" when the plan knows them, else
// "@USERID".
func userName(p *playbooks.Plan, userID string) string {
	if c := contactByUser(p, userID); c != nil {
		return "@" + c.ID
	}
	return "@" + userID
}

// convName renders a conversation id as people say it: "#name" for a
// channel, "@contact" for a direct conversation. An id the console did not
// make (a channel name from the plan, such as review.channel) is shown as
// a channel name.
func convName(p *playbooks.Plan, id string) string {
	switch {
	case strings.HasPrefix(id, channelPrefix):
		return "#" + strings.TrimPrefix(id, channelPrefix)
	case strings.HasPrefix(id, dmPrefix):
		return userName(p, strings.TrimPrefix(id, dmPrefix))
	default:
		return "#" + strings.TrimPrefix(id, "#")
	}
}

// normalizeChannel turns whatever the service passes as a channel (an id
// the console made, or a bare or #-prefixed name from the plan) into a
// console id, so that messages to "dr-plan" and "C-dr-plan" land in the
// same conversation.
func normalizeChannel(id string) string {
	if strings.HasPrefix(id, channelPrefix) || strings.HasPrefix(id, dmPrefix) {
		return id
	}
	return ChannelID(id)
}
