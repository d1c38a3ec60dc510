package console

import (
	"context"
	"fmt"
	"strings"

	"github.com/drbot-dev/drbot/incident"
)

// chat is the console's incident.Chat: instead of calling Slack it prints
// what Slack would show, and remembers the buttons it printed so that
// "press" can find them. It is the Console itself under another method
// set, so both share one lock, one clock and one output.
type chat Console

var (
	_ incident.Chat      = (*chat)(nil)
	_ incident.Directory = (*chat)(nil)
	_ incident.Webhooks  = (*chat)(nil)
)

// Chat returns the console's chat surface, to pass as incident.Config.Chat.
func (c *Console) Chat() incident.Chat { return (*chat)(c) }

func (ch *chat) console() *Console { return (*Console)(ch) }

// CreateChannel "creates" a channel; a name already taken in this run gets
// a suffix, as Slack's name_taken does.
func (ch *chat) CreateChannel(ctx context.Context, name string) (string, string, error) {
	c := ch.console()
	c.mu.Lock()
	defer c.mu.Unlock()
	name = strings.TrimPrefix(name, "#")
	if name == "" {
		return "", "", &incident.ChatError{Method: "conversations.create", Code: "invalid_name_required", Permanent: true}
	}
	final := name
	for n := 2; c.channels[final]; n++ {
		final = fmt.Sprintf("%s-%d", name, n)
	}
	c.channels[final] = true
	id := ChannelID(final)
	c.printf(id, "", "(channel created)")
	return id, final, nil
}

// Invite shows who joined the channel.
func (ch *chat) Invite(ctx context.Context, channelID string, userIDs []string) error {
	c := ch.console()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(userIDs) == 0 {
		return nil
	}
	names := make([]string, len(userIDs))
	for i, u := range userIDs {
		names[i] = userName(c.plan, u)
	}
	c.printf(normalizeChannel(channelID), "", "(%s joined)", strings.Join(names, ", "))
	return nil
}

// SetTopic shows the topic on one line.
func (ch *chat) SetTopic(ctx context.Context, channelID, topic string) error {
	c := ch.console()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.printf(normalizeChannel(channelID), "", "(topic) %s", oneLine(renderText(c.plan, topic)))
	return nil
}

// Post shows a message in a channel.
func (ch *chat) Post(ctx context.Context, channelID string, m incident.Message) (string, error) {
	c := ch.console()
	c.mu.Lock()
	defer c.mu.Unlock()
	id := normalizeChannel(channelID)
	ts := c.nextTS()
	c.show(&shown{channel: id, ts: ts, msg: m}, "")
	return ts, nil
}

// DM shows a direct message from drbot to a user.
func (ch *chat) DM(ctx context.Context, userID string, m incident.Message) (string, string, error) {
	c := ch.console()
	c.mu.Lock()
	defer c.mu.Unlock()
	if userID == "" {
		return "", "", &incident.ChatError{Method: "conversations.open", Code: "user_not_found", Permanent: true, Reason: incident.ReasonUserNotFound}
	}
	id := DMID(userID)
	ts := c.nextTS()
	c.show(&shown{channel: id, ts: ts, msg: m}, "")
	return id, ts, nil
}

// Update shows the new version of a message; its buttons replace the old
// ones, so a button that is gone cannot be pressed any more.
func (ch *chat) Update(ctx context.Context, channelID, ts string, m incident.Message) error {
	c := ch.console()
	c.mu.Lock()
	defer c.mu.Unlock()
	id := normalizeChannel(channelID)
	for i, s := range c.shown {
		if s.channel == id && s.ts == ts {
			// The updated message is now the newest one on screen.
			c.shown = append(c.shown[:i], c.shown[i+1:]...)
			break
		}
	}
	// A message from an earlier console run is not in memory; show its new
	// version all the same.
	c.show(&shown{channel: id, ts: ts, msg: m}, "(updated)")
	return nil
}

// Pin shows the first line of the pinned message.
func (ch *chat) Pin(ctx context.Context, channelID, ts string) error {
	c := ch.console()
	c.mu.Lock()
	defer c.mu.Unlock()
	id := normalizeChannel(channelID)
	what := "a message"
	for _, s := range c.shown {
		if s.channel == id && s.ts == ts {
			what = firstLine(renderText(c.plan, s.msg.Text))
		}
	}
	c.printf(id, "", "(pinned) %s", what)
	return nil
}

// Ephemeral shows a message only userID sees.
func (ch *chat) Ephemeral(ctx context.Context, channelID, userID string, m incident.Message) error {
	c := ch.console()
	c.mu.Lock()
	defer c.mu.Unlock()
	tag := "(only " + userName(c.plan, userID) + ")"
	if userID == c.user {
		tag = "(only you)"
	}
	c.show(&shown{channel: normalizeChannel(channelID), ts: c.nextTS(), msg: m, onlyFor: userID}, tag)
	return nil
}

// LookupUserByEmail finds the plan contact with that email; its user id is
// its Slack member ID, or "U-CONTACT" when it has none. An unknown email
// fails the way Slack's users.lookupByEmail does.
func (ch *chat) LookupUserByEmail(ctx context.Context, email string) (string, error) {
	c := ch.console()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.plan != nil {
		for _, id := range c.plan.ContactOrder {
			ct := c.plan.Contacts[id]
			if ct.Email != "" && strings.EqualFold(ct.Email, email) {
				return UserID(ct), nil
			}
		}
	}
	return "", &incident.ChatError{Method: "users.lookupByEmail", Code: "users_not_found", Permanent: true, Reason: incident.ReasonUserNotFound}
}

// LookupUser answers for the contacts of the plan, all of them active (the
// console has no accounts to deactivate); any other user is not found, as
// with Slack's users.info.
func (ch *chat) LookupUser(ctx context.Context, userID string) (incident.UserInfo, error) {
	c := ch.console()
	c.mu.Lock()
	defer c.mu.Unlock()
	if ct := contactByUser(c.plan, userID); ct != nil {
		return incident.UserInfo{ID: userID, Name: ct.ID, RealName: ct.Name, Email: ct.Email}, nil
	}
	return incident.UserInfo{}, &incident.ChatError{Method: "users.info", Code: "user_not_found", Permanent: true, Reason: incident.ReasonUserNotFound}
}

// Webhook shows the POST on one line; the console never sends it.
func (ch *chat) Webhook(ctx context.Context, url string, body []byte) error {
	c := ch.console()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.printf("", "", "(webhook) POST to %s, %d bytes (not sent from the console)", webhookTarget(url), len(body))
	return nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
