package fakeslack

import (
	"net/url"
)

// postTargetLocked resolves the channel parameter of chat.* calls: an id,
// a channel name, or a user id (Slack posts to the user's DM with the bot).
func (s *Server) postTargetLocked(conv string) *channel {
	if ch := s.resolveLocked(conv); ch != nil {
		return ch
	}
	if u := s.users[conv]; u != nil && !u.Deleted {
		a := s.conversationsOpenLocked(url.Values{"users": {conv}})
		if a.code == "" {
			return s.channels[s.ims[conv]]
		}
	}
	return nil
}

func (s *Server) chatPostMessageLocked(p url.Values) answer {
	ch := s.postTargetLocked(p.Get("channel"))
	if u := s.users[p.Get("channel")]; ch == nil && u != nil && u.Deleted {
		return fail("user_disabled") // a deactivated member, named by id
	}
	if code := writable(ch); code != "" {
		return fail(code)
	}
	if ch.IM {
		if u := s.users[ch.IMUser]; u == nil || u.Deleted {
			return fail("user_disabled")
		}
	}
	blocks, code := s.checkMessageLocked(p)
	if code != "" {
		return fail(code)
	}
	m := &Message{Channel: ch.ID, TS: s.tsLocked(), User: BotUserID, Text: p.Get("text"), Blocks: blocks}
	ch.messages = append(ch.messages, m)
	return ok(map[string]any{"channel": ch.ID, "ts": m.TS, "message": map[string]any{"ts": m.TS, "text": m.Text, "user": BotUserID}})
}
