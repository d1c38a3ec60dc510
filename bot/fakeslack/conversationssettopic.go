package fakeslack

import (
	"net/url"

	"github.com/drbot-dev/drbot/bot/slacklimit"
)

func (s *Server) conversationsSetTopicLocked(p url.Values) answer {
	ch := s.channels[p.Get("channel")]
	if code := writable(ch); code != "" {
		return fail(code)
	}
	if slacklimit.Len(p.Get("topic")) > slacklimit.Topic {
		return fail("too_long")
	}
	ch.Topic = p.Get("topic")
	return ok(map[string]any{"channel": channelJSON(ch)})
}
