package main

import (
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/drbot-dev/drbot/incident"
)

// TestManifest checks that slack-app-manifest.yaml asks Slack for what
// "drbot serve" serves and calls: a person pastes it as is.
func TestManifest(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot, "slack-app-manifest.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Features struct {
			BotUser struct {
				DisplayName string `yaml:"display_name"`
			} `yaml:"bot_user"`
			SlashCommands []struct {
				Command      string `yaml:"command"`
				URL          string `yaml:"url"`
				ShouldEscape bool   `yaml:"should_escape"`
				Description  string `yaml:"description"`
				UsageHint    string `yaml:"usage_hint"`
			} `yaml:"slash_commands"`
		} `yaml:"features"`
		OAuth struct {
			Scopes struct {
				Bot []string `yaml:"bot"`
			} `yaml:"scopes"`
		} `yaml:"oauth_config"`
		Settings struct {
			Interactivity struct {
				Enabled    bool   `yaml:"is_enabled"`
				RequestURL string `yaml:"request_url"`
				OptionsURL string `yaml:"message_menu_options_url"`
			} `yaml:"interactivity"`
			Events struct {
				RequestURL string   `yaml:"request_url"`
				BotEvents  []string `yaml:"bot_events"`
			} `yaml:"event_subscriptions"`
			SocketMode *bool `yaml:"socket_mode_enabled"`
		} `yaml:"settings"`
	}
	if err := yaml.Unmarshal(raw, &m); err != nil {
		t.Fatalf("manifest is not YAML: %v", err)
	}
	path := func(u string) string {
		p, err := url.Parse(u)
		if err != nil || p.Scheme != "https" {
			t.Errorf("URL %q: want an https URL", u)
			return ""
		}
		return p.Path
	}
	if len(m.Features.SlashCommands) != 1 {
		t.Fatalf("slash commands: %+v, want /incident", m.Features.SlashCommands)
	}
	cmd := m.Features.SlashCommands[0]
	if cmd.Command != "/incident" || !cmd.ShouldEscape || path(cmd.URL) != "/slack/commands" || cmd.Description == "" {
		t.Errorf("slash command = %+v, want /incident to /slack/commands with should_escape", cmd)
	}
	// Slack shows the hint as people type /incident: every command, within
	// the manifest's 1000 characters.
	hint := strings.Fields(strings.ReplaceAll(cmd.UsageHint, "|", " "))
	for _, name := range []string{incident.CmdDeclare, incident.CmdDrill, incident.CmdStatus, incident.CmdAck, incident.CmdNote,
		incident.CmdPage, incident.CmdDeny, incident.CmdRecoveryPoint, incident.CmdBegan, incident.CmdImpact, incident.CmdCause,
		incident.CmdAction, incident.CmdResolve, incident.CmdList, incident.CmdStats, incident.CmdScenarios, incident.CmdReview,
		incident.CmdWeb, incident.CmdHelp} {
		if !slices.Contains(hint, name) {
			t.Errorf("usage_hint %q lacks %s", cmd.UsageHint, name)
		}
	}
	if n := utf8.RuneCountInString(cmd.UsageHint); n > 1000 {
		t.Errorf("usage_hint is %d characters; Slack takes 1000", n)
	}
	// The options of the declare dialog's scenario search (more than
	// 100 scenarios) come from the interactions endpoint too.
	if !m.Settings.Interactivity.Enabled || path(m.Settings.Interactivity.RequestURL) != "/slack/interactions" || path(m.Settings.Interactivity.OptionsURL) != "/slack/interactions" {
		t.Errorf("interactivity = %+v", m.Settings.Interactivity)
	}
	if path(m.Settings.Events.RequestURL) != "/slack/events" {
		t.Errorf("events URL = %q", m.Settings.Events.RequestURL)
	}
	for _, e := range []string{"pin_added", "reaction_added", "channel_archive", "channel_unarchive"} {
		if !slices.Contains(m.Settings.Events.BotEvents, e) {
			t.Errorf("bot event %s missing", e)
		}
	}
	if m.Settings.SocketMode == nil || *m.Settings.SocketMode {
		t.Errorf("socket_mode_enabled should be present and false by default")
	}
	if m.Features.BotUser.DisplayName == "" {
		t.Errorf("no bot user")
	}
	// One scope per Web API method drbot calls (and per event it takes).
	for _, scope := range []string{
		"commands",          // /incident
		"chat:write",        // chat.postMessage, chat.update, chat.postEphemeral
		"chat:write.public", // posting in channels drbot has not joined
		"channels:manage",   // conversations.create, .invite, .setTopic
		"channels:read",     // conversations.list (a channel a crash left behind)
		"channels:history",  // conversations.history for :pushpin:
		"im:write",          // direct messages (pages)
		"pins:write",        // pins.add
		"pins:read",         // pin_added
		"reactions:read",    // reaction_added
		"users:read",        // users.info
		"users:read.email",  // users.lookupByEmail
	} {
		if !slices.Contains(m.OAuth.Scopes.Bot, scope) {
			t.Errorf("bot scope %s missing", scope)
		}
	}
	// drbot creates public channels only: no scope for private ones.
	if slices.Contains(m.OAuth.Scopes.Bot, "groups:write") {
		t.Error("groups:write is asked for, but nothing drbot does needs it")
	}
}

// TestNoTokenHelpNamesRealDoc: the help serve prints without a token points
// at a document that exists.
func TestNoTokenHelpNamesRealDoc(t *testing.T) {
	msg := errNoToken.Error()
	if !strings.Contains(msg, "docs/slack-setup.md") {
		t.Fatalf("the no-token help names no document:\n%s", msg)
	}
	if _, err := os.Stat("../../docs/slack-setup.md"); err != nil {
		t.Fatal(err)
	}
}

func TestOrDefault(t *testing.T) {
	if got := orDefault("", "slack.com"); got != "slack.com" {
		t.Errorf("orDefault empty = %q", got)
	}
	if got := orDefault("http://x/", "slack.com"); got != "http://x/" {
		t.Errorf("orDefault set = %q", got)
	}
}
