package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/drbot-dev/drbot/bot/slacklimit"
	"github.com/drbot-dev/drbot/incident"
)

// The incident channel through Slack: creating it (adopting drbot's own
// channel left by a crash), inviting people, setting its topic.

// maxChannelName is Slack's limit on channel names.
const maxChannelName = slacklimit.ChannelName

// maxSuffix is the highest suffix CreateChannel tries (NAME-50).
const maxSuffix = 50

// CreateChannel creates a public channel. A name Slack would refuse is
// made acceptable first (lowercase, no spaces or dots, at most 80
// characters); on name_taken it tries NAME-2, NAME-3 ...
//
// A taken name may be drbot's own channel: a process killed after Slack
// created the channel and before the outbox recorded it leaves the
// channel behind, and the next process asks for it again. So on
// name_taken, before a suffix, the channel of that name is looked up
// (conversations.list) and adopted (its id returned, nothing created)
// when it is not archived, drbot's bot user created it, and its topic is
// empty: drbot sets the topic of every incident channel it has recorded,
// so a channel of drbot's with a topic belongs to an earlier incident of
// the same number (a database restored from a backup, or started afresh)
// and gets a suffix, as does a channel someone else created.
func (c *SlackChat) CreateChannel(ctx context.Context, name string) (string, string, error) {
	base := channelName(name)
	candidates := make([]string, 0, maxSuffix)
	for n := 1; n <= maxSuffix; n++ {
		candidate := base
		if n > 1 {
			suffix := "-" + strconv.Itoa(n)
			candidate = strings.TrimRight(cutRunes(base, maxChannelName-len(suffix)), "-") + suffix
		}
		candidates = append(candidates, candidate)
	}
	var existing map[string]slack.Channel // listed at the first name_taken
	for _, candidate := range candidates {
		ch, err := get(c, "conversations.create", func() (*slack.Channel, error) {
			return c.api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: candidate})
		})
		var ce *incident.ChatError
		if errors.As(err, &ce) && ce.Code == "name_taken" {
			if existing == nil {
				if existing, err = c.channelsNamed(ctx, candidates); err != nil {
					return "", "", fmt.Errorf("create channel %q: it exists; look it up: %w", candidate, err)
				}
			}
			ch, found := existing[candidate]
			if !found {
				// Archived, or created since the list was read.
				continue
			}
			bot, err := c.BotUserID(ctx)
			if err != nil {
				return "", "", fmt.Errorf("create channel %q: it exists; who is drbot: %w", candidate, err)
			}
			if ch.Creator == bot && ch.Topic.Value == "" {
				c.log.Info("adopted an incident channel created before a restart", "channel", ch.ID, "name", ch.Name)
				return ch.ID, ch.Name, nil
			}
			continue
		}
		if err != nil {
			return "", "", fmt.Errorf("create channel %q: %w", candidate, err)
		}
		return ch.ID, ch.Name, nil
	}
	return "", "", &incident.ChatError{Method: "conversations.create", Code: "name_taken", Permanent: true}
}

// Paging through conversations.list: Slack's documentation gives its limit
// as "no larger than 1000" in one place and "under 1000" in another.
const (
	listPageSize = 999
	// listMaxPages bounds the search for a taken name (a million
	// channels): past it, the name gets a suffix.
	listMaxPages = 1000
)

// channelsNamed returns the workspace's public channels, not archived,
// whose name is one of names, by name (conversations.list, every page).
func (c *SlackChat) channelsNamed(ctx context.Context, names []string) (map[string]slack.Channel, error) {
	want := make(map[string]bool, len(names))
	for _, n := range names {
		want[n] = true
	}
	out := map[string]slack.Channel{}
	params := slack.GetConversationsParameters{Types: []string{"public_channel"}, ExcludeArchived: true, Limit: listPageSize}
	for range listMaxPages {
		var (
			page []slack.Channel
			next string
		)
		err := c.do("conversations.list", func() error {
			var err error
			page, next, err = c.api.GetConversationsContext(ctx, &params)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("list channels: %w", err)
		}
		for _, ch := range page {
			if want[ch.Name] && !ch.IsArchived {
				out[ch.Name] = ch
			}
		}
		if next == "" {
			return out, nil
		}
		params.Cursor = next
	}
	c.log.Warn("stopped listing channels: too many pages", "pages", listMaxPages)
	return out, nil
}

// channelName makes name acceptable to Slack: lowercase letters, digits,
// hyphens and underscores, at most 80 characters.
func channelName(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimPrefix(name, "#")) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r > utf8.RuneSelf && !strings.ContainsRune(" .,", r):
			// Slack accepts lowercase letters of other scripts.
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	s := strings.Trim(cutRunes(b.String(), maxChannelName), "-")
	if s == "" {
		s = "incident"
	}
	return s
}

func cutRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return s[:byteIndexOfRune(s, n)]
}

// maxInvite is the most users conversations.invite takes in one call.
const maxInvite = slacklimit.InviteUsers

// Invite adds users to a channel, in batches of 1000. Users already in it
// (or the bot itself) are not an error; other per-user failures are
// reported after the rest were invited.
func (c *SlackChat) Invite(ctx context.Context, channelID string, userIDs []string) error {
	seen := map[string]bool{}
	var users []string
	for _, u := range userIDs {
		if u != "" && !seen[u] {
			seen[u] = true
			users = append(users, u)
		}
	}
	var failed error
	for len(users) > 0 {
		batch := users[:min(maxInvite, len(users))]
		users = users[len(batch):]
		var raw error
		err := c.do("conversations.invite", func() error {
			// force: one bad user must not keep the others out.
			_, raw = c.api.ForceInviteUsersToConversationContext(ctx, channelID, batch...)
			var se slack.SlackErrorResponse
			if errors.As(raw, &se) && inviteErrorsIgnorable(se) {
				return nil
			}
			return raw
		})
		if err == nil {
			continue
		}
		var ce *incident.ChatError
		if !errors.As(err, &ce) || !ce.Permanent {
			return fmt.Errorf("invite to %s: %w", channelID, err)
		}
		// A user that cannot be invited: go on with the next batches and
		// say so at the end.
		var se slack.SlackErrorResponse
		if errors.As(raw, &se) {
			if u, code := firstInviteError(se); u != "" {
				ce = slackError(ce.Method, code)
				ce.Permanent, ce.User = true, u
				c.log.Warn("could not invite a user", "channel", channelID, "user", u, "error", code)
			}
		}
		if failed == nil {
			failed = fmt.Errorf("invite to %s: %w", channelID, ce)
		}
	}
	return failed
}

// inviteErrorsIgnorable reports whether every failure of a forced invite
// is a user already in the channel.
func inviteErrorsIgnorable(se slack.SlackErrorResponse) bool {
	per := 0
	for _, e := range se.Errors {
		if ie := e.ConversationsInviteResponseError; ie != nil {
			per++
			if !ignoredInviteCodes[ie.Error] {
				return false
			}
		}
	}
	if per == 0 {
		return ignoredInviteCodes[se.Err]
	}
	return true
}

func firstInviteError(se slack.SlackErrorResponse) (user, code string) {
	for _, e := range se.Errors {
		if ie := e.ConversationsInviteResponseError; ie != nil && !ignoredInviteCodes[ie.Error] {
			return ie.User, ie.Error
		}
	}
	return "", ""
}

// maxTopic is Slack's limit on a channel topic.
const maxTopic = slacklimit.Topic

// SetTopic sets a channel's topic, shortened to Slack's 250 characters.
func (c *SlackChat) SetTopic(ctx context.Context, channelID, topic string) error {
	return c.do("conversations.setTopic", func() error {
		_, err := c.api.SetTopicOfConversationContext(ctx, channelID, truncate(topic, maxTopic))
		return err
	})
}
