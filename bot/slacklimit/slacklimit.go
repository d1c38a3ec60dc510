// Package slacklimit is the one place that says how much Slack takes: the
// limits of Block Kit and of the Web API arguments drbot sends. The
// renderer (package bot) keeps every message within them, and the fake
// Slack (bot/fakeslack) refuses what exceeds them with the error code
// Slack answers, so a test catches a message real Slack would refuse.
//
// Lengths are in characters as Slack counts them: Unicode code points of
// the text as sent, escapes included ("&amp;" is five), never bytes (Len).
//
// Sources: Block Kit reference, https://docs.slack.dev/reference/block-kit
// (blocks, block elements, composition objects, views), and the Web API
// method pages, https://docs.slack.dev/reference/methods.
package slacklimit

import (
	"encoding/json"
	"unicode/utf8"
)

// Messages (chat.postMessage, chat.update, chat.postEphemeral).
const (
	// MessageBlocks is the most blocks of one message ("Maximum of 50
	// blocks", chat.postMessage's blocks argument); more: invalid_blocks.
	MessageBlocks = 50
	// MessageBlockText bounds the text of all the blocks of one message
	// together, as BlockText counts it. Slack answers msg_blocks_too_long
	// past a total it does not document: reported from about 12,000
	// characters of block text (slackapi/bolt-js issue 2509 measured
	// 13,172 to 13,297 depending on the blocks). drbot keeps under
	// 12,000.
	MessageBlockText = 12000
	// ChatText is the longest top-level text of a message ("truncating
	// really long messages", 2018 changelog: 40,000 characters); the fake
	// answers msg_too_long past it.
	ChatText = 40000
	// ViewBlocks is the most blocks of a modal view (views.open).
	ViewBlocks = 100
)

// Blocks and their elements.
const (
	// SectionText is the longest text of a section block.
	SectionText = 3000
	// SectionFields is the most fields of a section block.
	SectionFields = 10
	// FieldText is the longest text of one field of a section block.
	FieldText = 2000
	// ContextElements is the most elements of a context block.
	ContextElements = 10
	// HeaderText is the longest text of a header block (plain_text).
	HeaderText = 150
	// ActionsElements is the most elements of an actions block.
	ActionsElements = 25
	// ButtonText is the longest text of a button (plain_text).
	ButtonText = 75
	// ButtonValue is the longest value of a button.
	ButtonValue = 2000
	// ActionID is the longest action_id of an interactive element.
	ActionID = 255
	// BlockID is the longest block_id of a block.
	BlockID = 255
)

// Modals (views.open) and their inputs.
const (
	// ViewTitle is the longest title, submit or close text of a modal.
	ViewTitle = 24
	// CallbackID is the longest callback_id of a view.
	CallbackID = 255
	// PrivateMetadata is the longest private_metadata of a view.
	PrivateMetadata = 3000
	// InputLabel is the longest label of an input block.
	InputLabel = 2000
	// InputHint is the longest hint of an input block.
	InputHint = 2000
	// Placeholder is the longest placeholder of an element.
	Placeholder = 150
	// PlainTextInput is the largest max_length of a plain_text_input.
	PlainTextInput = 3000
	// SelectOptions is the most options of a static_select, and of the
	// answer to a block_suggestion request of an external_select.
	SelectOptions = 100
	// OptionText is the longest text (and description) of an option.
	OptionText = 75
	// OptionValue is the longest value of an option.
	OptionValue = 150
)

// Channels (conversations.create, conversations.setTopic).
const (
	// ChannelName is the longest channel name.
	ChannelName = 80
	// Topic is the longest channel topic.
	Topic = 250
	// InviteUsers is the most users one conversations.invite takes.
	InviteUsers = 1000
)

// Len is the length of s as Slack counts it: code points.
func Len(s string) int { return utf8.RuneCountInString(s) }

// BlockText is what a message's blocks weigh against MessageBlockText:
// the characters of every string in them (texts, values, ids, URLs), as
// sent. Both the renderer and the fake count with it, so that they agree.
// Blocks that are not valid JSON weigh nothing (the fake refuses them
// anyway).
func BlockText(blocksJSON []byte) int {
	var v any
	if err := json.Unmarshal(blocksJSON, &v); err != nil {
		return 0
	}
	return stringChars(v)
}

func stringChars(v any) int {
	switch x := v.(type) {
	case string:
		return Len(x)
	case []any:
		n := 0
		for _, e := range x {
			n += stringChars(e)
		}
		return n
	case map[string]any:
		n := 0
		for k, e := range x {
			if k == "type" || k == "style" {
				continue // a block's kind is not its text
			}
			n += stringChars(e)
		}
		return n
	}
	return 0
}
