package fakeslack

import (
	"net/url"
)

func (s *Server) chatPostEphemeralLocked(p url.Values) answer {
	ch := s.postTargetLocked(p.Get("channel"))
	if code := writable(ch); code != "" {
		return fail(code)
	}
	u := s.users[p.Get("user")]
	if u == nil {
		return fail("user_not_found")
	}
	if u.Deleted {
		return fail("user_not_in_channel")
	}
	blocks, code := s.checkMessageLocked(p)
	if code != "" {
		return fail(code)
	}
	m := &Message{Channel: ch.ID, TS: s.tsLocked(), User: BotUserID, Text: p.Get("text"), Blocks: blocks, Ephemeral: true, For: u.ID}
	s.ephemeral = append(s.ephemeral, m)
	return ok(map[string]any{"message_ts": m.TS})
}
