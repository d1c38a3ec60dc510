package fakeslack

import (
	"net/url"
	"strings"
)

// usersLookupByEmailLocked is users.lookupByEmail (case-insensitive).
func (s *Server) usersLookupByEmailLocked(p url.Values) answer {
	for _, u := range s.users {
		if strings.EqualFold(u.Email, p.Get("email")) && p.Get("email") != "" {
			return ok(map[string]any{"user": userJSON(u)})
		}
	}
	return fail("users_not_found")
}
