package fakeslack

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/drbot-dev/drbot/bot/slacklimit"
)

// Slack's rules for channel names: lowercase letters, digits, hyphens and
// underscores; at most 80 characters.
var nameRE = regexp.MustCompile(`^[a-z0-9_-]+$`)

func (s *Server) conversationsCreateLocked(p url.Values) answer {
	name := p.Get("name")
	switch {
	case name == "":
		return fail("invalid_name_required")
	case slacklimit.Len(name) > slacklimit.ChannelName:
		return fail("invalid_name_maxlength")
	case strings.Trim(name, "-_") == "":
		return fail("invalid_name_punctuation")
	case !nameRE.MatchString(name):
		return fail("invalid_name_specials")
	}
	if _, taken := s.byName[name]; taken {
		return fail("name_taken")
	}
	ch := s.addChannelLocked(s.idLocked("C"), name, BotUserID)
	return ok(map[string]any{"channel": channelJSON(ch)})
}
