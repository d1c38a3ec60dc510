package fakeslack

import (
	"net/url"
)

func (s *Server) pinsAddLocked(p url.Values) answer {
	ch := s.channels[p.Get("channel")]
	if code := writable(ch); code != "" {
		return fail(code)
	}
	for _, m := range ch.messages {
		if m.TS == p.Get("timestamp") {
			if m.Pinned {
				return fail("already_pinned")
			}
			m.Pinned = true
			return ok(nil)
		}
	}
	return fail("message_not_found")
}
