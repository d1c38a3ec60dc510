package fakeslack

import (
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/drbot-dev/drbot/bot/slacklimit"
)

// Validation: the fake refuses what real Slack refuses, with the code
// Slack answers, so that a message real Slack would refuse fails a test:
//
//   - chat.postMessage, chat.update, chat.postEphemeral: no_text;
//     msg_too_long (text over slacklimit.ChatText); invalid_blocks_format
//     (blocks not a JSON array); invalid_blocks (a block or element over
//     a limit, an unknown block type, duplicate action or block ids, more
//     than 50 blocks); msg_blocks_too_long (blocks heavier than
//     slacklimit.MessageBlockText);
//   - views.open: invalid_arguments (a view over a limit: title, submit
//     and close of 24 characters, 100 blocks, input labels, selects of
//     100 options of 75 characters with values of 150, ids of 255);
//   - a response_url: 400 with the code in the body;
//   - a post, update, ephemeral, pin, topic or invitation in an archived
//     channel: is_archived (in each method's file).
//
// It is on unless SetValidation(false); the limits are slacklimit's.

// SetValidation turns the checks of Block Kit and argument limits on
// (the default) or off. Off, the fake still refuses a message with
// neither text nor blocks.
func (s *Server) SetValidation(on bool) {
	s.mu.Lock()
	s.noValidation = !on
	s.mu.Unlock()
}

// checkMessageLocked validates a message's text and blocks and returns
// the blocks, or the error code Slack would answer.
func (s *Server) checkMessageLocked(p url.Values) (json.RawMessage, string) {
	text, raw := p.Get("text"), p.Get("blocks")
	if raw == "" && text == "" {
		return nil, "no_text"
	}
	if s.noValidation {
		if raw == "" {
			return nil, ""
		}
		return json.RawMessage(raw), ""
	}
	if slacklimit.Len(text) > slacklimit.ChatText {
		return nil, "msg_too_long"
	}
	if raw == "" {
		return nil, ""
	}
	code := checkBlocks([]byte(raw), slacklimit.MessageBlocks)
	if code != "" {
		return nil, code
	}
	return json.RawMessage(raw), ""
}

// checkBlocks validates the blocks of a message (at most maxBlocks) and
// returns Slack's error code, or "".
func checkBlocks(raw []byte, maxBlocks int) string {
	var blocks []map[string]any
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return "invalid_blocks_format"
	}
	if len(blocks) == 0 || len(blocks) > maxBlocks {
		return "invalid_blocks"
	}
	ids := idSet{block: map[string]bool{}, action: map[string]bool{}}
	for _, b := range blocks {
		if err := checkBlock(b, ids); err != nil {
			return "invalid_blocks"
		}
	}
	if slacklimit.BlockText(raw) > slacklimit.MessageBlockText {
		return "msg_blocks_too_long"
	}
	return ""
}

// idSet holds the block and action ids seen, which must be unique.
type idSet struct{ block, action map[string]bool }

func (ids idSet) add(kind string, m map[string]any, key string, limit int) error {
	id, _ := m[key].(string)
	seen := ids.block
	if kind == "action" {
		seen = ids.action
	}
	switch {
	case id == "":
		return nil
	case slacklimit.Len(id) > limit:
		return fmt.Errorf("%s id of %d characters", kind, slacklimit.Len(id))
	case seen[id]:
		return fmt.Errorf("duplicate %s id %q", kind, id)
	}
	seen[id] = true
	return nil
}

// checkBlock validates one block of a message or a view.
func checkBlock(b map[string]any, ids idSet) error {
	if err := ids.add("block", b, "block_id", slacklimit.BlockID); err != nil {
		return err
	}
	switch b["type"] {
	case "section":
		return checkSection(b, ids)
	case "context":
		els, _ := b["elements"].([]any)
		if len(els) == 0 || len(els) > slacklimit.ContextElements {
			return fmt.Errorf("context of %d elements", len(els))
		}
		for _, e := range els {
			if em, _ := e.(map[string]any); em["type"] == "mrkdwn" || em["type"] == "plain_text" {
				if err := checkText(em, slacklimit.SectionText, ""); err != nil {
					return err
				}
			}
		}
	case "actions":
		els, _ := b["elements"].([]any)
		if len(els) == 0 || len(els) > slacklimit.ActionsElements {
			return fmt.Errorf("actions of %d elements", len(els))
		}
		for _, e := range els {
			em, _ := e.(map[string]any)
			if err := checkElement(em, ids); err != nil {
				return err
			}
		}
	case "header":
		t, _ := b["text"].(map[string]any)
		return checkText(t, slacklimit.HeaderText, "plain_text")
	case "input":
		return checkInput(b, ids)
	case "divider":
	default:
		return fmt.Errorf("unknown block type %v", b["type"])
	}
	return nil
}

func checkSection(b map[string]any, ids idSet) error {
	t, hasText := b["text"].(map[string]any)
	fs, hasFields := b["fields"].([]any)
	if !hasText && !hasFields {
		return fmt.Errorf("section with neither text nor fields")
	}
	if hasText {
		if err := checkText(t, slacklimit.SectionText, ""); err != nil {
			return err
		}
	}
	if len(fs) > slacklimit.SectionFields {
		return fmt.Errorf("section of %d fields", len(fs))
	}
	for _, f := range fs {
		fm, _ := f.(map[string]any)
		if err := checkText(fm, slacklimit.FieldText, ""); err != nil {
			return err
		}
	}
	if acc, ok := b["accessory"].(map[string]any); ok {
		return checkElement(acc, ids)
	}
	return nil
}

// checkText validates a text object: of type want ("" for either), with
// 1 to limit characters.
func checkText(t map[string]any, limit int, want string) error {
	if t == nil {
		return fmt.Errorf("missing text")
	}
	typ, _ := t["type"].(string)
	if (want != "" && typ != want) || (typ != "plain_text" && typ != "mrkdwn") {
		return fmt.Errorf("text of type %q", typ)
	}
	s, _ := t["text"].(string)
	if n := slacklimit.Len(s); n == 0 || n > limit {
		return fmt.Errorf("text of %d characters (1 to %d)", n, limit)
	}
	return nil
}

// checkElement validates an interactive element.
func checkElement(e map[string]any, ids idSet) error {
	if err := ids.add("action", e, "action_id", slacklimit.ActionID); err != nil {
		return err
	}
	if p, ok := e["placeholder"].(map[string]any); ok {
		if err := checkText(p, slacklimit.Placeholder, "plain_text"); err != nil {
			return err
		}
	}
	switch e["type"] {
	case "button":
		t, _ := e["text"].(map[string]any)
		if err := checkText(t, slacklimit.ButtonText, "plain_text"); err != nil {
			return err
		}
		if v, _ := e["value"].(string); slacklimit.Len(v) > slacklimit.ButtonValue {
			return fmt.Errorf("button value of %d characters", slacklimit.Len(v))
		}
		if st, _ := e["style"].(string); st != "" && st != "primary" && st != "danger" {
			return fmt.Errorf("button style %q", st)
		}
	case "static_select", "checkboxes", "radio_buttons":
		opts, _ := e["options"].([]any)
		if len(opts) == 0 || len(opts) > slacklimit.SelectOptions {
			return fmt.Errorf("%v of %d options", e["type"], len(opts))
		}
		return checkOptions(opts)
	case "external_select":
		if n, ok := e["min_query_length"].(float64); ok && n < 0 {
			return fmt.Errorf("min_query_length %v", n)
		}
	case "plain_text_input":
		if n, ok := e["max_length"].(float64); ok && (n < 1 || n > slacklimit.PlainTextInput) {
			return fmt.Errorf("max_length %v", n)
		}
	default:
		return fmt.Errorf("element of type %v", e["type"])
	}
	return nil
}

// checkOptions validates the options of a select (or of the answer to a
// block_suggestion request).
func checkOptions(opts []any) error {
	for _, o := range opts {
		om, _ := o.(map[string]any)
		t, _ := om["text"].(map[string]any)
		if err := checkText(t, slacklimit.OptionText, ""); err != nil {
			return fmt.Errorf("option: %w", err)
		}
		if d, ok := om["description"].(map[string]any); ok {
			if err := checkText(d, slacklimit.OptionText, ""); err != nil {
				return fmt.Errorf("option description: %w", err)
			}
		}
		v, _ := om["value"].(string)
		if n := slacklimit.Len(v); n == 0 || n > slacklimit.OptionValue {
			return fmt.Errorf("option value of %d characters", n)
		}
	}
	return nil
}

func checkInput(b map[string]any, ids idSet) error {
	l, _ := b["label"].(map[string]any)
	if err := checkText(l, slacklimit.InputLabel, "plain_text"); err != nil {
		return err
	}
	if h, ok := b["hint"].(map[string]any); ok {
		if err := checkText(h, slacklimit.InputHint, "plain_text"); err != nil {
			return err
		}
	}
	e, _ := b["element"].(map[string]any)
	if e == nil || e["type"] == "button" {
		return fmt.Errorf("input without an input element")
	}
	return checkElement(e, ids)
}

// CheckOptions validates the JSON answer to a block_suggestion request
// (an external select's options) as Slack does: at most 100 options, each
// within the option limits. It returns what is wrong, or nil.
func CheckOptions(body []byte) error {
	var r struct {
		Options []any `json:"options"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("options answer: %w", err)
	}
	if len(r.Options) > slacklimit.SelectOptions {
		return fmt.Errorf("%d options, Slack shows at most %d", len(r.Options), slacklimit.SelectOptions)
	}
	return checkOptions(r.Options)
}

// checkView validates a modal view (views.open): "" or invalid_arguments.
func checkView(raw []byte) string {
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil || v["type"] != "modal" {
		return "invalid_arguments"
	}
	for _, k := range []string{"title", "submit", "close"} {
		t, ok := v[k].(map[string]any)
		if !ok && k != "title" {
			continue
		}
		if checkText(t, slacklimit.ViewTitle, "plain_text") != nil {
			return "invalid_arguments"
		}
	}
	if id, _ := v["callback_id"].(string); slacklimit.Len(id) > slacklimit.CallbackID {
		return "invalid_arguments"
	}
	if m, _ := v["private_metadata"].(string); slacklimit.Len(m) > slacklimit.PrivateMetadata {
		return "invalid_arguments"
	}
	blocks, _ := v["blocks"].([]any)
	if len(blocks) > slacklimit.ViewBlocks {
		return "invalid_arguments"
	}
	ids := idSet{block: map[string]bool{}, action: map[string]bool{}}
	for _, b := range blocks {
		bm, _ := b.(map[string]any)
		if checkBlock(bm, ids) != nil {
			return "invalid_arguments"
		}
	}
	return ""
}

// checkResponse validates what is POSTed to a response_url: a message
// (text, blocks) as chat.postMessage takes it. It returns Slack's code.
func checkResponse(body []byte) string {
	var r struct {
		Text   string          `json:"text"`
		Blocks json.RawMessage `json:"blocks"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return "invalid_payload"
	}
	if r.Text == "" && len(r.Blocks) == 0 {
		return "no_text"
	}
	if slacklimit.Len(r.Text) > slacklimit.ChatText {
		return "msg_too_long"
	}
	if len(r.Blocks) > 0 {
		return checkBlocks(r.Blocks, slacklimit.MessageBlocks)
	}
	return ""
}

// CheckView validates a modal view as views.open does: nil, or what
// Slack would refuse with invalid_arguments.
func CheckView(raw []byte) error {
	if code := checkView(raw); code != "" {
		return fmt.Errorf("views.open would answer %s", code)
	}
	return nil
}
