package bot

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/drbot-dev/drbot/bot/slacklimit"
	"github.com/drbot-dev/drbot/incident"
)

// The declare dialog ("/incident declare" with no scenario): opened,
// searched (more than 100 scenarios) and submitted.

// Block and action ids of the declare modal.
const (
	DeclareCallbackID = "declare"
	BlockScenario     = "scenario"
	BlockSummary      = "summary"
	BlockDrill        = "drill"
	// BlockScenarioHelp says how to find a scenario when there are more
	// than a menu shows.
	BlockScenarioHelp = "scenario_help"
	drillValue        = "drill"
	maxSummary        = incident.MaxText // what the engine takes of typed text
	maxOptions        = slacklimit.SelectOptions
)

// textField is a text input of a dialog: one line of up to 100
// characters, or several of up to maxSummary.
type textField struct {
	block, label, placeholder string
	hint                      string // under the field; none when empty
	optional, multiline       bool
}

func (f textField) input() *slack.InputBlock {
	plain := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
	}
	input := slack.NewPlainTextInputBlockElement(plain(f.placeholder), f.block)
	input.Multiline = f.multiline
	input.MaxLength = 100
	if f.multiline {
		input.MaxLength = maxSummary
	}
	var hint *slack.TextBlockObject
	if f.hint != "" {
		hint = plain(f.hint)
	}
	b := slack.NewInputBlock(f.block, plain(f.label), hint, input)
	b.Optional = f.optional
	return b
}

// modalView is a dialog of drbot's: its callback id, title, submit and
// close labels, the channel it was opened from (private_metadata, where
// its answer goes) and its blocks.
func modalView(callbackID, title, submit, closeLabel, channelID string, blocks []slack.Block) slack.ModalViewRequest {
	label := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
	}
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      callbackID,
		Title:           label(title),
		Submit:          label(submit),
		Close:           label(closeLabel),
		PrivateMetadata: channelID,
		Blocks:          slack.Blocks{BlockSet: blocks},
	}
}

func (s *Server) openDeclareModal(ctx context.Context, cmd slack.SlashCommand, scenarios []incident.ScenarioInfo) {
	view := DeclareView(scenarios, cmd.ChannelID)
	if err := s.chat.OpenView(ctx, cmd.TriggerID, view); err != nil {
		s.log.Error("could not open the declare dialog", "user", cmd.UserID, "err", err)
		msg := ResponseMessage{ResponseType: slack.ResponseTypeEphemeral, Text: "The declare dialog could not be opened. Type `/incident declare SCENARIO [summary]`; `/incident scenarios` lists them."}
		if rerr := s.chat.Respond(ctx, cmd.ResponseURL, msg); rerr != nil {
			s.log.Error("could not say so by response_url", "err", rerr)
		}
	}
}

// DeclareView is the modal of "/incident declare" with no scenario: the
// scenarios in a select ("title — service, RTO 2h"), a summary, a drill
// checkbox. channelID (where the command was typed) travels in
// private_metadata to the submission.
//
// A menu shows at most 100 options (slacklimit.SelectOptions). With more
// scenarios the select is an external one: Slack asks drbot for the
// options as the person types (block_suggestion, ScenarioOptions), and
// the dialog says to type.
func DeclareView(scenarios []incident.ScenarioInfo, channelID string) slack.ModalViewRequest {
	var blocks []slack.Block
	var sel *slack.SelectBlockElement
	if len(scenarios) <= maxOptions {
		sel = slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, slack.NewTextBlockObject(slack.PlainTextType, "Pick a scenario", false, false), BlockScenario, scenarioOptions(scenarios)...)
	} else {
		sel = slack.NewOptionsSelectBlockElement(slack.OptTypeExternal, slack.NewTextBlockObject(slack.PlainTextType, "Type part of its id or title", false, false), BlockScenario)
		zero := 0
		sel.MinQueryLength = &zero
		help := fmt.Sprintf("The plan has %d scenarios, more than a menu shows: type part of a scenario's id, title or service to find it. `/incident scenarios` lists them all.", len(scenarios))
		blocks = append(blocks, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, help, false, false), nil, nil, slack.SectionBlockOptionBlockID(BlockScenarioHelp)))
	}
	scenario := slack.NewInputBlock(BlockScenario, slack.NewTextBlockObject(slack.PlainTextType, "Scenario", false, false), nil, sel)

	summary := textField{block: BlockSummary, label: "Summary", placeholder: "What is happening?", optional: true, multiline: true}.input()

	drillBox := slack.NewCheckboxGroupsBlockElement(BlockDrill, slack.NewOptionBlockObject(drillValue,
		slack.NewTextBlockObject(slack.PlainTextType, "Drill", false, false),
		slack.NewTextBlockObject(slack.PlainTextType, "An exercise: marked as a drill everywhere", false, false)))
	drill := slack.NewInputBlock(BlockDrill, slack.NewTextBlockObject(slack.PlainTextType, "Drill", false, false), nil, drillBox)
	drill.Optional = true

	return modalView(DeclareCallbackID, "Declare an incident", "Declare", "Cancel", channelID, append(blocks, scenario, summary, drill))
}

// scenarioOptions are the options of the scenario select: "title —
// service, RTO 2h", cut to what an option shows.
func scenarioOptions(scenarios []incident.ScenarioInfo) []*slack.OptionBlockObject {
	options := make([]*slack.OptionBlockObject, 0, len(scenarios))
	for _, sc := range scenarios {
		label := slack.NewTextBlockObject(slack.PlainTextType, truncate(scenarioLabel(sc), slacklimit.OptionText), false, false)
		options = append(options, slack.NewOptionBlockObject(sc.ID, label, nil))
	}
	return options
}

// ScenarioOptions answers a block_suggestion request of the declare
// dialog's scenario select: the scenarios whose id, title or service
// holds query (ignoring case), those whose id starts with it first, at
// most the 100 options Slack shows.
func ScenarioOptions(scenarios []incident.ScenarioInfo, query string) *slack.OptionsResponse {
	q := strings.ToLower(strings.TrimSpace(query))
	var first, rest []incident.ScenarioInfo
	for _, sc := range scenarios {
		id := strings.ToLower(sc.ID)
		switch {
		case strings.HasPrefix(id, q):
			first = append(first, sc)
		case strings.Contains(id, q), strings.Contains(strings.ToLower(sc.Title), q), strings.Contains(strings.ToLower(sc.Service), q):
			rest = append(rest, sc)
		}
	}
	found := append(first, rest...)
	return &slack.OptionsResponse{Options: scenarioOptions(found[:min(len(found), maxOptions)])}
}

// scenarioLabel is "title — service, RTO 2h".
func scenarioLabel(sc incident.ScenarioInfo) string {
	label := sc.Title
	if label == "" {
		label = sc.ID
	}
	var extra []string
	if sc.Service != "" {
		extra = append(extra, sc.Service)
	}
	if sc.RTO > 0 {
		extra = append(extra, "RTO "+fmtDuration(sc.RTO))
	}
	if len(extra) > 0 {
		label += " — " + strings.Join(extra, ", ")
	}
	return label
}

// fmtDuration says a duration without zero units: "2h", "1h30m", "45m".
func fmtDuration(d time.Duration) string {
	s := d.Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// submitDeclare validates the declare modal and declares. An empty answer
// closes the modal; errors keep it open with the message under the field.
func (s *Server) submitDeclare(cb slack.InteractionCallback) any {
	values := stateValues(cb)
	scenario := values[BlockScenario][BlockScenario].SelectedOption.Value
	summary := strings.TrimSpace(values[BlockSummary][BlockSummary].Value)
	drill := false
	for _, o := range values[BlockDrill][BlockDrill].SelectedOptions {
		drill = drill || o.Value == drillValue
	}
	if scenario == "" {
		return viewErrors(BlockScenario, "Pick a scenario")
	}
	if utf8.RuneCountInString(summary) > maxSummary {
		return viewErrors(BlockSummary, fmt.Sprintf("Keep the summary under %d characters", maxSummary))
	}
	req := incident.DeclareRequest{
		Scenario:  scenario,
		Summary:   summary,
		Drill:     drill,
		UserID:    cb.User.ID,
		ChannelID: cb.View.PrivateMetadata,
		Confirm:   true, // the dialog closes with no word: say it by DM
	}
	_, finished, err := within(s, "declare", func(ctx context.Context) (*incident.Incident, error) {
		return s.svc.Declare(ctx, req)
	}, func(ctx context.Context, _ *incident.Incident, err error) {
		// The modal is closed by now: say a late failure elsewhere.
		if err == nil {
			return
		}
		s.logEngineError("declare", err, "user", req.UserID)
		msg := incident.Message{Text: "Could not declare: " + incident.ErrorMessage(err)}
		var serr error
		if req.ChannelID != "" {
			serr = s.chat.Ephemeral(ctx, req.ChannelID, req.UserID, msg)
		} else {
			_, _, serr = s.chat.DM(ctx, req.UserID, msg)
		}
		if serr != nil {
			s.log.Error("could not report a failed declaration", "user", req.UserID, "err", serr)
		}
	})
	block := BlockScenario
	if incident.ErrorField(err) == incident.FieldSummary {
		block = BlockSummary
	}
	resp, _ := s.dialogAnswered("declare", req.UserID, finished, err, block)
	return resp
}
