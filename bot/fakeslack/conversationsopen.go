package fakeslack

import (
	"net/url"
	"strings"
)

func (s *Server) conversationsOpenLocked(p url.Values) answer {
	users := strings.Split(p.Get("users"), ",")
	if p.Get("users") == "" {
		return fail("users_list_not_supplied")
	}
	if len(users) != 1 {
		return fail("not_supported") // drbot opens one-to-one conversations only
	}
	u := s.users[users[0]]
	switch {
	case u == nil:
		return fail("user_not_found")
	case u.Deleted:
		return fail("user_disabled")
	}
	if id, ok := s.ims[u.ID]; ok {
		return answer{fields: map[string]any{"channel": channelJSON(s.channels[id]), "already_open": true}}
	}
	ch := s.addChannelLocked(s.idLocked("D"), "", "")
	ch.IM, ch.IMUser = true, u.ID
	ch.members[u.ID] = true
	s.ims[u.ID] = ch.ID
	return ok(map[string]any{"channel": channelJSON(ch)})
}
