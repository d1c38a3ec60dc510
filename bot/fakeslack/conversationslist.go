package fakeslack

import (
	"encoding/base64"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// conversationsListLocked is conversations.list: the public channels (types
// public_channel, the default; the fake has no private ones) in id order,
// limit at a time (default 100, at most 1000), with a cursor to the next
// page in response_metadata.next_cursor ("" on the last).
func (s *Server) conversationsListLocked(p url.Values) answer {
	limit := 100
	if l := p.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			return fail("invalid_limit")
		}
		limit = n
	}
	types := map[string]bool{"public_channel": true}
	if t := p.Get("types"); t != "" {
		types = map[string]bool{}
		for _, typ := range strings.Split(t, ",") {
			switch typ {
			case "public_channel", "private_channel", "mpim", "im":
				types[typ] = true
			default:
				return fail("invalid_types")
			}
		}
	}
	after := ""
	if c := p.Get("cursor"); c != "" {
		raw, err := base64.StdEncoding.DecodeString(c)
		if err != nil || !strings.HasPrefix(string(raw), "next:") {
			return fail("invalid_cursor")
		}
		after = strings.TrimPrefix(string(raw), "next:")
	}
	excludeArchived := p.Get("exclude_archived") == "true" || p.Get("exclude_archived") == "1"
	var ids []string
	for id, ch := range s.channels {
		switch {
		case id < after,
			ch.IM && !types["im"],
			!ch.IM && !types["public_channel"],
			ch.Archived && excludeArchived:
			continue
		}
		ids = append(ids, id)
	}
	sort.Strings(ids)
	next := ""
	if len(ids) > limit {
		next = base64.StdEncoding.EncodeToString([]byte("next:" + ids[limit]))
		ids = ids[:limit]
	}
	channels := make([]map[string]any, 0, len(ids))
	for _, id := range ids {
		channels = append(channels, channelJSON(s.channels[id]))
	}
	return ok(map[string]any{"channels": channels, "response_metadata": map[string]any{"next_cursor": next}})
}
