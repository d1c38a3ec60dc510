package fakeslack

import (
	"net/url"
)

func (s *Server) chatUpdateLocked(p url.Values) answer {
	// Unlike chat.postMessage, Slack's chat.update takes a channel's id
	// only: a name is channel_not_found.
	ch := s.channels[p.Get("channel")]
	if code := writable(ch); code != "" {
		return fail(code)
	}
	var m *Message
	for _, x := range ch.messages {
		if x.TS == p.Get("ts") {
			m = x
		}
	}
	if m == nil {
		return fail("message_not_found")
	}
	if m.User != BotUserID {
		return fail("cant_update_message")
	}
	blocks, code := s.checkMessageLocked(p)
	if code != "" {
		return fail(code)
	}
	m.Text, m.Blocks, m.Edited = p.Get("text"), blocks, true
	return ok(map[string]any{"channel": ch.ID, "ts": m.TS, "text": m.Text})
}
