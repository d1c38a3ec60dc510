package incident_test

import (
	"strings"
	"testing"

	"github.com/drbot-dev/drbot/incident"
)

// After name_taken, everything that names the incident channel names the
// one Slack gave (#inc-1-db-corruption-2): the first page DMs, the posts,
// and the conversation where the incident was declared is told.
func TestChannelNameTaken(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	// A channel of that name exists (an archived one keeps its name).
	if _, _, err := e.chat.CreateChannel(e.ctx, "inc-1-db-corruption"); err != nil {
		t.Fatal(err)
	}
	e.declare("db-corruption", "", false)
	inc := e.incident(1)
	if inc.ChannelName != "inc-1-db-corruption-2" || inc.DeclaredIn != "CGENERAL" {
		t.Fatalf("channel %q, declared in %q", inc.ChannelName, inc.DeclaredIn)
	}
	created := e.events(1, incident.KindChannelCreated)
	if len(created) != 1 || created[0].Data["requested"] != "inc-1-db-corruption" || created[0].Data["name"] != "inc-1-db-corruption-2" {
		t.Errorf("channel_created = %+v", created)
	}
	page := e.chat.DMs(uAlice)
	if len(page) == 0 || !strings.Contains(page[0].Text, "Channel: #inc-1-db-corruption-2") {
		t.Errorf("the first page names another channel: %s", dumpMsgs(page))
	}
	e.mustFind("CGENERAL", "The channel of incident #1 is <#"+inc.ChannelID+"> (#inc-1-db-corruption-2): Slack had a channel named inc-1-db-corruption already.")
	for _, m := range append(e.chat.Posts(inc.ChannelID), page...) {
		if strings.Contains(m.Text+m.Context, "#inc-1-db-corruption\n") || strings.HasSuffix(m.Text, "#inc-1-db-corruption") {
			t.Errorf("a message names the channel asked for: %q", m.Text)
		}
	}
	// An approval DM later names it too.
	r := e.mustCommand(uAlice, inc.ChannelID, "status")
	if strings.Contains(r.Text, "#inc-1-db-corruption ") {
		t.Errorf("status names the channel asked for: %q", r.Text)
	}
}

// Without name_taken nothing more is said where it was declared.
func TestChannelNameAsAsked(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	e.declare("db-corruption", "", false)
	if got := e.chat.Posts("CGENERAL"); len(got) != 0 {
		t.Errorf("posted where it was declared: %s", dumpMsgs(got))
	}
}
