package fakeslack

import (
	"net/url"
	"strings"

	"github.com/drbot-dev/drbot/bot/slacklimit"
)

func (s *Server) conversationsInviteLocked(p url.Values) answer {
	ch := s.channels[p.Get("channel")]
	if ch != nil && ch.IM {
		ch = nil // a DM is no channel to invite to
	}
	if code := writable(ch); code != "" {
		return fail(code)
	}
	users := strings.Split(p.Get("users"), ",")
	if p.Get("users") == "" {
		return fail("no_user")
	}
	if len(users) > slacklimit.InviteUsers {
		return fail("too_many_users")
	}
	force := p.Get("force") == "true"
	var errs []map[string]any
	var valid []string
	for _, id := range users {
		code := ""
		switch u := s.users[id]; {
		case id == BotUserID:
			code = "cant_invite_self"
		case u == nil:
			code = "user_not_found"
		case u.Deleted:
			code = "user_is_deactivated"
		case ch.members[id]:
			code = "already_in_channel"
		}
		if code != "" {
			errs = append(errs, map[string]any{"user": id, "ok": false, "error": code})
			continue
		}
		valid = append(valid, id)
	}
	// Without force, one bad user fails the whole call and nobody is
	// invited; with it, the valid ones are invited anyway.
	if len(errs) == 0 || force {
		for _, id := range valid {
			ch.members[id] = true
		}
	}
	if len(errs) > 0 {
		return answer{code: errs[0]["error"].(string), fields: map[string]any{"errors": errs}}
	}
	return ok(map[string]any{"channel": channelJSON(ch)})
}
