package incident

import (
	"context"
)

// A chat surface is three small interfaces, so that a new one implements
// what it has: Chat (conversations and messages), Directory (who a user
// is) and Webhooks (the paging webhook's POST). Slack (bot.SlackChat) and
// the console implement all three. Errors should be *ChatError so that the
// outbox worker knows whether to retry.

// Chat is the conversations and messages of a chat surface the outbox
// worker delivers through: Slack in production (bot.SlackChat), the
// terminal in the console.
type Chat interface {
	// CreateChannel creates a public channel; on name_taken it adds a
	// suffix. It returns the channel's id and its final name.
	CreateChannel(ctx context.Context, name string) (id, finalName string, err error)
	Invite(ctx context.Context, channelID string, userIDs []string) error
	SetTopic(ctx context.Context, channelID, topic string) error
	Post(ctx context.Context, channelID string, m Message) (ts string, err error)
	// DM opens (or reuses) the direct conversation with a user and posts.
	DM(ctx context.Context, userID string, m Message) (channelID, ts string, err error)
	Update(ctx context.Context, channelID, ts string, m Message) error
	Pin(ctx context.Context, channelID, ts string) error
	Ephemeral(ctx context.Context, channelID, userID string, m Message) error
}

// Directory is the chat's directory of users: a plan contact known by
// email only is found by it, and the contact-list review checks that each
// account still exists and is active.
type Directory interface {
	LookupUserByEmail(ctx context.Context, email string) (userID string, err error)
	// LookupUser returns what the chat knows of a user (users.info), for
	// the contact-list review: whether the account still exists and is
	// active. A user that does not exist is a permanent *ChatError
	// (user_not_found).
	LookupUser(ctx context.Context, userID string) (UserInfo, error)
}

// Webhooks POSTs the paging webhook (the plan's paging.webhook: PagerDuty,
// Opsgenie ...). The URL may hold a secret: errors must not quote it.
type Webhooks interface {
	Webhook(ctx context.Context, url string, body []byte) error
}

// ChannelPoster is a Chat whose posts say which channel they went to. A
// Chat implements it when it takes channel names as well as ids (Slack's
// chat.postMessage does) but updates by id only (Slack's chat.update): the
// outbox then remembers a message posted by name (the plan's
// alert_channel) under the channel's id, so that it can be updated.
type ChannelPoster interface {
	PostTo(ctx context.Context, channel string, m Message) (channelID, ts string, err error)
}

// UserInfo is what a chat surface knows of a user.
type UserInfo struct {
	ID       string
	Name     string // handle
	RealName string
	Email    string
	Deleted  bool // deactivated
	IsBot    bool
}
