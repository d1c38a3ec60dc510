package bot

import (
	"context"
	"regexp"
	"strings"
	"time"
)

// A member mentioned in what people type reaches drbot as <@U0BEN0001|ben>
// (Slack's handle as the label) or <@U0BEN0001>. drbot asks Slack for the
// member's name (users.info) and keeps it as the label, so that the
// postmortem, read outside Slack, says @Ben Dahl for a member the plan
// does not name. In Slack the mention shows the member whatever its label.

// mentionRE finds a member mention in text as Slack sends it.
var mentionRE = regexp.MustCompile(`<@([UW][A-Z0-9]+)(\|[^<>|]*)?>`)

// mentionLookups bounds the time spent asking Slack for the names of the
// members a command mentions: the answer is due within 3 s.
const mentionLookups = 500 * time.Millisecond

// labelSafe makes a name fit inside a mention's label.
var labelSafe = strings.NewReplacer("|", " ", "<", " ", ">", " ", "\n", " ")

// nameMentions returns text with each member mention labelled with the
// member's name, as users.info says it; a mention whose member Slack
// cannot tell in time stays as it was.
func (s *Server) nameMentions(ctx context.Context, text string) string {
	if !strings.Contains(text, "<@") {
		return text
	}
	ctx, cancel := context.WithTimeout(ctx, mentionLookups)
	defer cancel()
	return mentionRE.ReplaceAllStringFunc(text, func(m string) string {
		id := mentionRE.FindStringSubmatch(m)[1]
		name := s.memberName(ctx, id)
		if name == "" {
			return m
		}
		return "<@" + id + "|" + name + ">"
	})
}

// memberName is a member's real name (else handle), asked of Slack once
// per process; "" when Slack cannot tell.
func (s *Server) memberName(ctx context.Context, id string) string {
	s.mu.Lock()
	name, ok := s.names[id]
	s.mu.Unlock()
	if ok {
		return name
	}
	if ctx.Err() != nil {
		return ""
	}
	u, err := s.chat.LookupUser(ctx, id)
	if err != nil {
		s.log.Debug("could not name a mentioned member", "user", id, "err", err)
		return ""
	}
	name = u.RealName
	if name == "" {
		name = u.Name
	}
	name = strings.TrimSpace(labelSafe.Replace(name))
	s.mu.Lock()
	s.names[id] = name
	s.mu.Unlock()
	return name
}
