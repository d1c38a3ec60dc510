package fakeslack

import (
	"encoding/json"
	"sort"
	"strings"
)

// Button is a button found in a message's blocks.
type Button struct {
	Text     string
	ActionID string
	Value    string
	Style    string
	BlockID  string
}

// Message is a message as it stands in a conversation (updates replace
// its text and blocks).
type Message struct {
	Channel string
	TS      string
	User    string // who posted it: BotUserID for the bot
	Text    string
	Blocks  json.RawMessage
	Edited  bool
	Pinned  bool
	// Ephemeral messages are seen only by For.
	Ephemeral bool
	For       string
}

// Buttons returns the buttons of the message's action blocks in order.
func (m Message) Buttons() []Button {
	var blocks []struct {
		Type     string `json:"type"`
		BlockID  string `json:"block_id"`
		Elements []struct {
			Type string `json:"type"`
			Text struct {
				Text string `json:"text"`
			} `json:"text"`
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
			Style    string `json:"style"`
		} `json:"elements"`
	}
	_ = json.Unmarshal(m.Blocks, &blocks)
	var out []Button
	for _, b := range blocks {
		if b.Type != "actions" {
			continue
		}
		for _, e := range b.Elements {
			if e.Type == "button" {
				out = append(out, Button{Text: e.Text.Text, ActionID: e.ActionID, Value: e.Value, Style: e.Style, BlockID: b.BlockID})
			}
		}
	}
	return out
}

// Button returns the first button whose text is label.
func (m Message) Button(label string) (Button, bool) {
	for _, b := range m.Buttons() {
		if b.Text == label {
			return b, true
		}
	}
	return Button{}, false
}

// AllText returns the message's text and every text found in its blocks,
// one per line, for tests that look for words wherever they are rendered.
func (m Message) AllText() string {
	var parts []string
	parts = append(parts, m.Text)
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if t, ok := x["text"].(string); ok {
				parts = append(parts, t)
			}
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(x[k])
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	var blocks any
	_ = json.Unmarshal(m.Blocks, &blocks)
	walk(blocks)
	return strings.Join(parts, "\n")
}
