package fakeslack

import (
	"net/url"
	"unicode/utf8"
)

func (s *Server) conversationsSetTopicLocked(p url.Values) answer {
	ch := s.channels[p.Get("channel")]
	if ch == nil {
		return fail("channel_not_found")
	}
	if ch.Archived {
		return fail("is_archived")
	}
	if utf8.RuneCountInString(p.Get("topic")) > 250 {
		return fail("too_long")
	}
	ch.Topic = p.Get("topic")
	return ok(map[string]any{"channel": channelJSON(ch)})
}
