package fakeslack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/slack-go/slack"
)

// Blocks from Slack's own documentation (Block Kit reference examples):
// real Slack takes them, so the fake must too.
const slackDocBlocks = `[
 {"type":"header","text":{"type":"plain_text","text":"New request","emoji":true}},
 {"type":"section","fields":[{"type":"mrkdwn","text":"*Type:*\nPaid Time Off"},{"type":"mrkdwn","text":"*Created by:*\n<example.com|Fred Enriquez>"}]},
 {"type":"section","text":{"type":"mrkdwn","text":"A message *with some bold text* and _some italicized text_."},
  "accessory":{"type":"static_select","placeholder":{"type":"plain_text","text":"Select an item"},"action_id":"select-0",
   "options":[{"text":{"type":"plain_text","text":"*this is plain_text text*"},"value":"value-0"}]}},
 {"type":"divider"},
 {"type":"context","elements":[{"type":"mrkdwn","text":"Location: **Dogpatch**"}]},
 {"type":"actions","block_id":"actionblock789","elements":[
  {"type":"button","text":{"type":"plain_text","text":"Approve"},"style":"primary","value":"click_me_123","action_id":"approve"},
  {"type":"button","text":{"type":"plain_text","text":"Deny"},"style":"danger","value":"click_me_123","action_id":"deny"}]}
]`

func TestValidateMessages(t *testing.T) {
	s, api := newClient(t)
	ctx := context.Background()
	long := func(n int) string { return strings.Repeat("x", n) }
	section := func(text string) string {
		return fmt.Sprintf(`{"type":"section","text":{"type":"mrkdwn","text":%q}}`, text)
	}
	button := func(label, value, id string) string {
		return fmt.Sprintf(`{"type":"actions","elements":[{"type":"button","text":{"type":"plain_text","text":%q},"value":%q,"action_id":%q}]}`, label, value, id)
	}
	many := func(n int, block string) string {
		return "[" + strings.TrimSuffix(strings.Repeat(block+",", n), ",") + "]"
	}
	for _, c := range []struct {
		name, text, blocks, want string
	}{
		{"slack's example", "fallback", slackDocBlocks, ""},
		{"no text", "", "", "no_text"},
		{"40,000 characters of text", long(40000), "", ""},
		{"40,001 characters of text", long(40001), "", "msg_too_long"},
		{"40,000 emoji count as 40,000", strings.Repeat("🚒", 40000), "", ""},
		{"not JSON", "x", "[{", "invalid_blocks_format"},
		{"50 blocks", "x", many(50, `{"type":"divider"}`), ""},
		{"51 blocks", "x", many(51, `{"type":"divider"}`), "invalid_blocks"},
		{"section of 3000", "x", "[" + section(long(3000)) + "]", ""},
		{"section of 3001", "x", "[" + section(long(3001)) + "]", "invalid_blocks"},
		{"3000 multi-byte characters", "x", "[" + section(strings.Repeat("é", 3000)) + "]", ""},
		{"four sections of 3000", "x", many(4, section(long(3000))), ""},
		{"five sections of 3000: too long together", "x", many(5, section(long(3000))), "msg_blocks_too_long"},
		{"header of 151", "x", `[{"type":"header","text":{"type":"plain_text","text":"` + long(151) + `"}}]`, "invalid_blocks"},
		{"mrkdwn header", "x", `[{"type":"header","text":{"type":"mrkdwn","text":"x"}}]`, "invalid_blocks"},
		{"button of 75", "x", "[" + button(long(75), "v", "a") + "]", ""},
		{"button of 76", "x", "[" + button(long(76), "v", "a") + "]", "invalid_blocks"},
		{"value of 2001", "x", "[" + button("Go", long(2001), "a") + "]", "invalid_blocks"},
		{"action_id of 256", "x", "[" + button("Go", "v", long(256)) + "]", "invalid_blocks"},
		{"duplicate action_id", "x", "[" + button("Go", "v", "a") + "," + button("Go", "v", "a") + "]", "invalid_blocks"},
		{"block_id of 256", "x", `[{"type":"divider","block_id":"` + long(256) + `"}]`, "invalid_blocks"},
		{"empty section text", "x", "[" + section("") + "]", "invalid_blocks"},
		{"unknown block", "x", `[{"type":"marquee"}]`, "invalid_blocks"},
	} {
		if got := postRaw(t, s, c.text, c.blocks); got != c.want {
			t.Errorf("%s: chat.postMessage %q, want %q", c.name, got, c.want)
		}
	}
	// Switched off, the fake takes what Slack would refuse.
	s.SetValidation(false)
	if _, _, err := api.PostMessageContext(ctx, GeneralID, slack.MsgOptionText(long(40001), false)); err != nil {
		t.Errorf("validation off: %v", err)
	}
}

// postRaw posts a message with blocks as given (not as slack-go would
// build them) and returns the error code answered.
func postRaw(t *testing.T, s *Server, text, blocks string) string {
	t.Helper()
	form := url.Values{"channel": {GeneralID}, "text": {text}}
	if blocks != "" {
		form.Set("blocks", blocks)
	}
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"chat.postMessage", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+BotToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Error string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out.Error
}

func TestValidateViews(t *testing.T) {
	_, api := newClient(t)
	ctx := context.Background()
	opts := func(n, textLen, valueLen int) []*slack.OptionBlockObject {
		var out []*slack.OptionBlockObject
		for i := range n {
			v := fmt.Sprintf("%0*d", valueLen, i)
			out = append(out, slack.NewOptionBlockObject(v, slack.NewTextBlockObject("plain_text", strings.Repeat("t", textLen), false, false), nil))
		}
		return out
	}
	view := func(title string, options []*slack.OptionBlockObject) slack.ModalViewRequest {
		sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, nil, "scenario", options...)
		return slack.ModalViewRequest{
			Type: slack.VTModal, Title: slack.NewTextBlockObject("plain_text", title, false, false),
			Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewInputBlock("scenario", slack.NewTextBlockObject("plain_text", "Scenario", false, false), nil, sel)}},
		}
	}
	for _, c := range []struct {
		name string
		view slack.ModalViewRequest
		want string
	}{
		{"fits", view(strings.Repeat("t", 24), opts(100, 75, 150)), ""},
		{"title of 25", view(strings.Repeat("t", 25), opts(1, 5, 5)), "invalid_arguments"},
		{"101 options", view("Declare", opts(101, 5, 5)), "invalid_arguments"},
		{"option text of 76", view("Declare", opts(1, 76, 5)), "invalid_arguments"},
		{"option value of 151", view("Declare", opts(1, 5, 151)), "invalid_arguments"},
	} {
		_, err := api.OpenViewContext(ctx, "trigger", c.view)
		if got := slackCode(err); got != c.want {
			t.Errorf("%s: views.open %q, want %q", c.name, got, c.want)
		}
	}
}

func TestValidateResponseURL(t *testing.T) {
	s, _ := newClient(t)
	for _, c := range []struct {
		body   string
		status int
	}{
		{`{"text":"ok"}`, 200},
		{`{"text":"` + strings.Repeat("x", 40001) + `"}`, 400},
		{`{"text":"x","blocks":[{"type":"section","text":{"type":"mrkdwn","text":"` + strings.Repeat("x", 3001) + `"}}]}`, 400},
	} {
		resp, err := http.Post(s.ResponseURL("r"), "application/json", bytes.NewBufferString(c.body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Errorf("response_url with %.40s…: %d, want %d", c.body, resp.StatusCode, c.status)
		}
	}
}
