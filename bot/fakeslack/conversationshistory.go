package fakeslack

import (
	"net/url"
	"strconv"
)

func (s *Server) conversationsHistoryLocked(p url.Values) answer {
	ch := s.channels[p.Get("channel")]
	if ch == nil {
		return fail("channel_not_found")
	}
	latest, oldest := p.Get("latest"), p.Get("oldest")
	inclusive := p.Get("inclusive") == "1" || p.Get("inclusive") == "true"
	limit, _ := strconv.Atoi(p.Get("limit"))
	if limit <= 0 {
		limit = 100
	}
	var msgs []map[string]any
	for i := len(ch.messages) - 1; i >= 0 && len(msgs) < limit; i-- {
		m := ch.messages[i]
		if latest != "" && (tsLess(latest, m.TS) || (!inclusive && m.TS == latest)) {
			continue
		}
		if oldest != "" && (tsLess(m.TS, oldest) || (!inclusive && m.TS == oldest)) {
			continue
		}
		mm := map[string]any{"type": "message", "ts": m.TS, "user": m.User, "text": m.Text}
		if len(m.Blocks) > 0 {
			mm["blocks"] = m.Blocks
		}
		msgs = append(msgs, mm)
	}
	if msgs == nil {
		msgs = []map[string]any{}
	}
	return ok(map[string]any{"messages": msgs, "has_more": false})
}

// tsLess compares two Slack timestamps numerically.
func tsLess(a, b string) bool {
	fa, _ := strconv.ParseFloat(a, 64)
	fb, _ := strconv.ParseFloat(b, 64)
	if fa != fb {
		return fa < fb
	}
	return a < b
}
