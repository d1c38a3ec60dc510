package incident

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/drbot-dev/drbot/playbooks"
)

// Command is "/incident ..." parsed.
type Command struct {
	// Name is one of the Cmd constants.
	Name string
	// Scenario of declare and drill; "" asks for the declare dialog.
	Scenario string
	// Target of page: a role, "@contact", "@U123", "<@U123>" or
	// "<@U123|name>". Of action: its owner, or "". Of review: "needs" for "review needs TEXT", else "".
	Target string
	// Text is the summary of declare, drill and resolve, the note, or the
	// WHEN of recovery-point and began. It is
	// as typed (valid UTF-8, control characters removed), not escaped.
	Text string
}

// Command names.
const (
	CmdDeclare   = "declare"
	CmdDrill     = "drill"
	CmdStatus    = "status"
	CmdNote      = "note"
	CmdPage      = "page"
	CmdResolve   = "resolve"
	CmdList      = "list"
	CmdScenarios = "scenarios"
	CmdReview    = "review"
	CmdHelp      = "help"
	CmdAck       = "ack"
	CmdDeny      = "deny"
	// The postmortem's inputs (docs/commands.md, docs/postmortem.md).
	CmdRecoveryPoint = "recovery-point"
	CmdBegan         = "began"
	CmdWeb           = "web"
	CmdImpact        = "impact"
	CmdCause         = "cause"
	CmdAction        = "action"
	CmdStats         = "stats"
)

// ParseCommand parses the text of "/incident TEXT". It is pure and total:
// any input, of any size or encoding, gives a Command or an *Error
// (EINVALID) whose message says what was wrong and what would be right.
func ParseCommand(text string) (Command, error) {
	text = strings.TrimSpace(cleanText(text))
	if text == "" {
		return Command{Name: CmdHelp}, nil
	}
	word, rest := splitWord(text)
	name := strings.ToLower(word)
	if name == "acknowledge" {
		// The field's word for it, typed as often as the short one.
		name = CmdAck
	}
	switch name {
	case CmdHelp, "-h", "--help", "?", "usage":
		return Command{Name: CmdHelp}, nil
	case CmdDeclare, CmdDrill:
		scenario, summary := splitWord(rest)
		if err := checkLength("summary", summary); err != nil {
			return Command{}, err
		}
		return Command{Name: name, Scenario: scenario, Text: summary}, nil
	case CmdReview:
		return parseReview(rest)
	case CmdStatus, CmdList, CmdScenarios, CmdAck, CmdWeb:
		if rest != "" {
			return Command{}, Errorf(EINVALID, "/incident %s takes nothing after it (got %q).", name, escape(truncateRunes(rest, 40)))
		}
		return Command{Name: name}, nil
	case CmdDeny:
		// The reason is optional: "/incident deny" denies without one.
		if err := checkLength("reason", rest); err != nil {
			return Command{}, err
		}
		return Command{Name: name, Text: rest}, nil
	case CmdNote:
		if rest == "" {
			return Command{}, Errorf(EINVALID, "Write the note after the command: /incident note TEXT")
		}
		if err := checkLength("note", rest); err != nil {
			return Command{}, err
		}
		return Command{Name: name, Text: rest}, nil
	case CmdPage:
		return parsePage(rest)
	case CmdRecoveryPoint, CmdBegan:
		if rest == "" {
			return Command{}, Errorf(EINVALID, "Say when: /incident %s WHEN, WHEN being %s.", name, whenHelp)
		}
		return Command{Name: name, Text: truncateRunes(rest, 100)}, nil
	case CmdStats:
		if strings.ContainsAny(rest, " \t\n") {
			return Command{}, Errorf(EINVALID, "/incident stats takes nothing, or since when: /incident stats 30d, or /incident stats 2026-10-01.")
		}
		return Command{Name: name, Text: rest}, nil
	case CmdImpact, CmdCause:
		if rest == "" {
			return Command{}, Errorf(EINVALID, "Write it after the command: /incident %s TEXT", name)
		}
		if err := checkLength(name, rest); err != nil {
			return Command{}, err
		}
		return Command{Name: name, Text: rest}, nil
	case CmdAction:
		return parseActionItem(rest)
	case CmdResolve:
		if err := checkLength("summary", rest); err != nil {
			return Command{}, err
		}
		return Command{Name: name, Text: rest}, nil
	}
	return Command{}, unknownCommand(word)
}

// commandNames are the names "did you mean" chooses from.
var commandNames = []string{CmdDeclare, CmdDrill, CmdStatus, CmdNote, CmdPage, CmdResolve, CmdList,
	CmdScenarios, CmdReview, CmdHelp, CmdAck, CmdDeny, CmdRecoveryPoint, CmdBegan, CmdWeb, CmdImpact,
	CmdCause, CmdAction, CmdStats}

// unknownCommand says that word is no command: with the one it is close
// to (playbooks.Closest, the same rule plan check uses), or else with the
// whole usage.
func unknownCommand(word string) error {
	shown := escape(truncateRunes(word, 40))
	if near := playbooks.Closest(word, commandNames); near != "" {
		return Errorf(EINVALID, "Unknown command %q. Did you mean `/incident %s`? (`/incident help` lists every command.)", shown, near)
	}
	return Errorf(EINVALID, "Unknown command %q.\n%s", shown, usageText)
}

// parseReview parses "/incident review [needs TEXT]".
func parseReview(rest string) (Command, error) {
	name := CmdReview
	sub, text := splitWord(rest)
	switch {
	case rest == "":
		return Command{Name: name}, nil
	case strings.EqualFold(sub, ReviewNeeds) && text == "":
		return Command{}, Errorf(EINVALID, "Say what needs to change: /incident review needs TEXT")
	case strings.EqualFold(sub, ReviewNeeds):
		if err := checkLength("note", text); err != nil {
			return Command{}, err
		}
		return Command{Name: name, Target: ReviewNeeds, Text: text}, nil
	}
	return Command{}, Errorf(EINVALID, "/incident review takes nothing after it, or `needs TEXT` to say what needs to change in the contact list (got %q).", escape(truncateRunes(rest, 40)))
}

// parsePage parses "/incident page ROLE" and "/incident page @user".
func parsePage(rest string) (Command, error) {
	name := CmdPage
	target, extra := splitTarget(rest)
	if target == "" {
		return Command{}, Errorf(EINVALID, "Say whom to page: /incident page ROLE, or /incident page @user")
	}
	if extra != "" {
		return Command{}, Errorf(EINVALID, "Page one role or person at a time: /incident page ROLE, or /incident page @user")
	}
	return Command{Name: name, Target: target}, nil
}

// parseActionItem parses "/incident action [@owner] TEXT".
func parseActionItem(rest string) (Command, error) {
	name := CmdAction
	owner, text := "", rest
	if strings.HasPrefix(rest, "@") || strings.HasPrefix(rest, "<@") {
		owner, text = splitTarget(rest)
	}
	if text == "" {
		return Command{}, Errorf(EINVALID, "Say what is to be done: /incident action [@owner] TEXT")
	}
	if err := checkLength("action item", text); err != nil {
		return Command{}, err
	}
	return Command{Name: name, Target: owner, Text: text}, nil
}

func checkLength(what, s string) error {
	n := utf8.RuneCountInString(s)
	if n <= MaxText {
		return nil
	}
	hint := "Give a shorter one and add the rest with /incident note."
	if what == "note" {
		hint = "Split it into several notes."
	}
	return Errorf(EINVALID, "The %s is %d characters long; the limit is %d. %s", what, n, MaxText, hint)
}

// splitWord returns the first word of s and the rest, both trimmed.
func splitWord(s string) (string, string) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, unicode.IsSpace)
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimSpace(s[i:])
}

// splitTarget is splitWord that keeps a Slack mention "<@U123|Bob Dahl>"
// whole, spaces and all.
func splitTarget(s string) (string, string) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "<") {
		if i := strings.IndexByte(s, '>'); i > 0 {
			return s[:i+1], strings.TrimSpace(s[i+1:])
		}
	}
	return splitWord(s)
}

// cleanText makes typed text safe to store and show: valid UTF-8, with
// control characters other than newline and tab removed.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
}
