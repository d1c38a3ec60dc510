package fakeslack

import (
	"net/url"
)

// usersInfoLocked is users.info.
func (s *Server) usersInfoLocked(p url.Values) answer {
	u := s.users[p.Get("user")]
	if u == nil {
		return fail("user_not_found")
	}
	return ok(map[string]any{"user": userJSON(u)})
}
