package fakeslack

import (
	"encoding/json"
	"net/url"
	"unicode/utf8"
)

// checkMessage validates a message's text and blocks against Slack's
// limits and returns the blocks, or the error code Slack would answer.
func checkMessage(p url.Values) (json.RawMessage, string) {
	text, raw := p.Get("text"), p.Get("blocks")
	if raw == "" {
		if text == "" {
			return nil, "no_text"
		}
		if utf8.RuneCountInString(text) > 40000 {
			return nil, "msg_too_long"
		}
		return nil, ""
	}
	var blocks []map[string]any
	if err := json.Unmarshal([]byte(raw), &blocks); err != nil {
		return nil, "invalid_blocks_format"
	}
	if len(blocks) > 50 {
		return nil, "invalid_blocks"
	}
	actionIDs := map[string]bool{}
	blockIDs := map[string]bool{}
	for _, b := range blocks {
		if id, _ := b["block_id"].(string); id != "" {
			if blockIDs[id] || len(id) > 255 {
				return nil, "invalid_blocks"
			}
			blockIDs[id] = true
		}
		switch b["type"] {
		case "section":
			if t, ok := b["text"].(map[string]any); ok && textLen(t) > 3000 {
				return nil, "invalid_blocks"
			}
			if fs, ok := b["fields"].([]any); ok {
				if len(fs) > 10 {
					return nil, "invalid_blocks"
				}
				for _, f := range fs {
					if fm, ok := f.(map[string]any); ok && textLen(fm) > 2000 {
						return nil, "invalid_blocks"
					}
				}
			}
			if b["text"] == nil && b["fields"] == nil {
				return nil, "invalid_blocks"
			}
		case "context":
			els, _ := b["elements"].([]any)
			if len(els) == 0 || len(els) > 10 {
				return nil, "invalid_blocks"
			}
			for _, e := range els {
				if em, ok := e.(map[string]any); ok && textLen(em) > 3000 {
					return nil, "invalid_blocks"
				}
			}
		case "actions":
			els, _ := b["elements"].([]any)
			if len(els) == 0 || len(els) > 25 {
				return nil, "invalid_blocks"
			}
			for _, e := range els {
				em, _ := e.(map[string]any)
				if em["type"] != "button" {
					continue
				}
				t, _ := em["text"].(map[string]any)
				if t == nil || t["type"] != "plain_text" || textLen(t) == 0 || textLen(t) > 75 {
					return nil, "invalid_blocks"
				}
				id, _ := em["action_id"].(string)
				v, _ := em["value"].(string)
				if len(id) > 255 || utf8.RuneCountInString(v) > 2000 {
					return nil, "invalid_blocks"
				}
				if id != "" {
					if actionIDs[id] {
						return nil, "invalid_blocks"
					}
					actionIDs[id] = true
				}
				if st, _ := em["style"].(string); st != "" && st != "primary" && st != "danger" {
					return nil, "invalid_blocks"
				}
			}
		case "divider", "header":
		default:
			return nil, "invalid_blocks"
		}
	}
	return json.RawMessage(raw), ""
}

func textLen(t map[string]any) int {
	s, _ := t["text"].(string)
	return utf8.RuneCountInString(s)
}
