package incident_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/incident/incidenttest"
	"github.com/drbot-dev/drbot/playbooks"
)

// pagesTo returns the page DMs a user got (messages with "You are paged").
func (e *svcEnv) pagesTo(user string) []incident.Message {
	var out []incident.Message
	for _, m := range e.chat.DMs(user) {
		if strings.Contains(m.Text, "You are paged") {
			out = append(out, m)
		}
	}
	return out
}

func roleContact(evs []incident.Event) []string {
	var out []string
	for _, ev := range evs {
		s := ev.Data["role"] + ":" + ev.Data["contact"]
		if ev.Data["from"] != "" {
			s += "<" + ev.Data["from"]
		}
		out = append(out, s)
	}
	return out
}

func TestEscalation(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	e.declare("checkout-down", "", false) // pages executor: bob, alice
	ch := e.channel(1)

	// Nobody acknowledges: every 5 minutes the next contact, for 2 rounds.
	for i := 1; i <= 3; i++ {
		e.at(time.Duration(i) * 5 * time.Minute)
	}
	want := []string{"executor:alice<bob", "executor:bob<alice", "executor:alice<bob"}
	if diff := cmp.Diff(want, roleContact(e.events(1, incident.KindEscalated))); diff != "" {
		t.Errorf("escalations (-want +got):\n%s", diff)
	}
	if got := len(e.pagesTo(uBob)); got != 2 {
		t.Errorf("bob got %d pages, want 2", got)
	}
	if got := e.pagesTo(uAlice); len(got) != 2 || !strings.Contains(got[0].Text, "Bob Dahl did not acknowledge within 5m") {
		t.Errorf("alice's pages: %s", dumpMsgs(got))
	}
	if len(e.events(1, incident.KindUnanswered)) != 0 {
		t.Fatal("unanswered before the rounds ran out")
	}

	// After 4 pages (2 rounds of 2) the list has run out: the channel is
	// told and the commander role is paged.
	e.at(20 * time.Minute)
	un := e.events(1, incident.KindUnanswered)
	if len(un) != 1 || un[0].Data["role"] != "executor" || un[0].Data["pages"] != "4" {
		t.Fatalf("unanswered = %+v", un)
	}
	e.mustFind(ch, "Nobody acknowledged the executor role after 4 pages (Bob Dahl, Alice Berg). Paging the commander role.")
	paged := e.events(1, incident.KindPaged)
	if diff := cmp.Diff([]string{"executor:bob", "commander:alice"}, roleContact(paged)); diff != "" {
		t.Errorf("paged (-want +got):\n%s", diff)
	}
	// The executor role pages nobody any more; the commander escalates.
	e.at(25 * time.Minute)
	e.at(30 * time.Minute)
	if got := len(e.pagesTo(uBob)); got != 3 { // 2 as executor, 1 as commander
		t.Errorf("bob got %d pages, want 3: %s", got, dumpMsgs(e.pagesTo(uBob)))
	}
	esc := roleContact(e.events(1, incident.KindEscalated))
	if diff := cmp.Diff([]string{"executor:alice<bob", "executor:bob<alice", "executor:alice<bob", "commander:bob<alice", "commander:alice<bob"}, esc); diff != "" {
		t.Errorf("escalations (-want +got):\n%s", diff)
	}
	// A late acknowledgement by an executor still counts.
	r := e.press(uAlice, dmOf(uAlice), "Acknowledge")
	if !strings.Contains(r.Text, "You acknowledged as commander") {
		t.Errorf("reply = %q", r.Text)
	}
	if got := e.timerKeys(); slices.Contains(got, "inc/1/escalate/commander") || slices.Contains(got, "inc/1/escalate/executor") {
		t.Errorf("escalation timers left: %v", got)
	}
}

func TestAcknowledge(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	e.declare("db-corruption", "", false)
	ch := e.channel(1)

	e.clock.Set(svcT0.Add(95 * time.Second))
	r := e.press(uBob, dmOf(uBob), "Acknowledge")
	if want := "You acknowledged as executor for incident #1: Corrupted payments database. Channel: <#" + ch + ">"; r.Text != want {
		t.Errorf("reply = %q, want %q", r.Text, want)
	}
	page := e.chat.DMs(uBob)[0]
	if !strings.HasSuffix(page.Text, "Acknowledged by <@U0BOB0001> at 10:01 CET") || len(page.Buttons) != 0 {
		t.Errorf("page after ack: %q buttons %v", page.Text, btnLabels(page.Buttons))
	}
	e.mustFind(ch, "Bob Dahl acknowledged as executor after 1m35s")
	acks := e.events(1, incident.KindAcknowledged)
	if len(acks) != 1 || acks[0].Actor != uBob || acks[0].Data["contact"] != "bob" || acks[0].Data["role"] != "executor" {
		t.Fatalf("acknowledged = %+v", acks)
	}
	if got := e.incident(1).Roles[1]; !got.Acked || got.AckedBy != "bob" || !got.AckedAt.Equal(svcT0.Add(95*time.Second)) {
		t.Errorf("executor page state = %+v", got)
	}
	if len(e.met.acks) != 1 || e.met.acks[0] != 95*time.Second {
		t.Errorf("ack metric = %v", e.met.acks)
	}

	// A second press changes nothing.
	before := len(e.timeline(1))
	r = e.pressAction(uBob, dmOf(uBob), "ack|1|executor")
	if r.Text != "Already acknowledged by Bob Dahl at 10:01 CET." {
		t.Errorf("second press reply = %q", r.Text)
	}
	if got := len(e.timeline(1)); got != before {
		t.Errorf("second press added %d events", got-before)
	}

	// Someone who is not a contact of the role is refused, and recorded.
	r = e.pressAction(uErin, dmOf(uErin), "ack|1|commander")
	if want := "Only the contacts paged as commander may acknowledge this page: Alice Berg, Bob Dahl"; r.Text != want {
		t.Errorf("refusal = %q, want %q", r.Text, want)
	}
	un := e.events(1, incident.KindUnauthorized)
	if len(un) != 1 || un[0].Actor != uErin || un[0].Data["action"] != "acknowledge" {
		t.Errorf("unauthorized = %+v", un)
	} else if want := "Erin Lund pressed Acknowledge for commander but is not one of its contacts"; un[0].Text != want {
		t.Errorf("unauthorized text %q, want %q (a name, not a member ID)", un[0].Text, want)
	}

	// The executor does not escalate any more; the commander does.
	e.at(5 * time.Minute)
	if diff := cmp.Diff([]string{"commander:bob<alice"}, roleContact(e.events(1, incident.KindEscalated))); diff != "" {
		t.Errorf("escalations (-want +got):\n%s", diff)
	}
	// bob, second contact of commander, acknowledges it from his new page;
	// both commander pages (alice's and his) are updated.
	e.press(uBob, dmOf(uBob), "Acknowledge")
	for _, u := range []string{uAlice, uBob} {
		for _, m := range e.pagesTo(u) {
			if len(m.Buttons) != 0 {
				t.Errorf("page to %s still has buttons: %q", u, m.Text)
			}
		}
	}
	e.at(time.Hour)
	if n := len(e.events(1, incident.KindEscalated)); n != 1 {
		t.Errorf("%d escalations after both acknowledged, want 1", n)
	}
}

// An acknowledgement takes the Acknowledge button off every page of the
// role in the incident, also those of an earlier callout that ran out (they
// kept it, since a late acknowledgement still counts); the pages of an
// earlier callout that was acknowledged keep saying who acknowledged them.
func TestAcknowledgeUpdatesEarlierCallouts(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	e.declare("checkout-down", "", false) // callout 1 of executor: page 1 to bob
	ch := e.channel(1)
	e.clock.Set(svcT0.Add(time.Minute))
	e.pressAction(uAlice, dmOf(uAlice), "ack|1|executor")

	e.clock.Set(svcT0.Add(2 * time.Minute))
	e.mustCommand(uErin, ch, "page executor") // callout 2: pages 2-5, nobody answers
	for _, m := range []time.Duration{7, 12, 17, 22} {
		e.at(m * time.Minute)
	}
	if un := e.events(1, incident.KindUnanswered); len(un) != 1 || un[0].Data["role"] != "executor" {
		t.Fatalf("unanswered = %+v", un)
	}
	e.clock.Set(svcT0.Add(23 * time.Minute))
	e.mustCommand(uErin, ch, "page executor") // callout 3: page 6 to bob
	if rp := e.incident(1).Roles[0]; rp.Role != "executor" || rp.Sent != 6 || rp.CalloutStart != 5 {
		t.Fatalf("executor = %+v, want 6 pages, callout 3 from page 6", rp)
	}
	e.clock.Set(svcT0.Add(24 * time.Minute))
	e.press(uBob, dmOf(uBob), "Acknowledge")

	type page struct {
		to, ack string
		buttons []string
	}
	var got []page
	for _, u := range []string{uBob, uAlice} {
		for _, m := range e.pagesTo(u) {
			if !strings.Contains(m.Text, "You are paged as *executor*") {
				continue
			}
			_, ack, _ := strings.Cut(m.Text, ":white_check_mark: ")
			got = append(got, page{to: u, ack: ack, buttons: btnLabels(m.Buttons)})
		}
	}
	byAlice := "Acknowledged by <@U0ALICE01> at 10:01 CET"
	byBob := "Acknowledged by <@U0BOB0001> at 10:24 CET"
	want := []page{
		{to: uBob, ack: byAlice}, // page 1: callout 1
		{to: uBob, ack: byBob},   // pages 2 and 4: callout 2, ran out
		{to: uBob, ack: byBob},
		{to: uBob, ack: byBob},   // page 6: callout 3
		{to: uAlice, ack: byBob}, // pages 3 and 5: callout 2
		{to: uAlice, ack: byBob},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(page{})); diff != "" {
		t.Errorf("executor pages after bob acknowledged (-want +got):\n%s", diff)
	}
	// The commander role, paged about executor when callout 2 ran out, is no
	// longer needed: its page loses its button and says why.
	if b, ok := e.chat.FindButton(dmOf(uAlice), "Acknowledge"); ok {
		t.Errorf("alice's commander page kept its button (%+v)", b)
	}
	e.mustFind(dmOf(uAlice), "No longer needed: Bob Dahl acknowledged as executor at 10:24 CET.")
}

func TestAcknowledgeByEmailContact(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	e.declare("db-corruption", "", false)
	ch := e.channel(1)
	r := e.mustCommand(uAlice, ch, "page customer")
	if r.Text != "Paged customer: Frank Moe." {
		t.Errorf("reply = %q", r.Text)
	}
	// frank has no slack: in the plan; the DM went to the member his email
	// belongs to, and a press by that member is frank's.
	if len(e.pagesTo(uFrank)) != 1 {
		t.Fatalf("frank's DMs: %s", dumpMsgs(e.chat.DMs(uFrank)))
	}
	if !slices.Contains(e.chat.Members(ch), uFrank) {
		t.Errorf("frank not invited: %v", e.chat.Members(ch))
	}
	e.mustFind(ch, "<@U0ALICE01> paged customer: Frank Moe")
	r = e.press(uFrank, dmOf(uFrank), "Acknowledge")
	if !strings.HasPrefix(r.Text, "You acknowledged as customer") {
		t.Errorf("reply = %q", r.Text)
	}
	// Alice, paged as commander, acknowledged that by paging.
	var got []string
	for _, ev := range e.events(1, incident.KindAcknowledged) {
		got = append(got, ev.Data["role"]+":"+ev.Data["contact"])
	}
	if diff := cmp.Diff([]string{"commander:alice", "customer:frank"}, got); diff != "" {
		t.Errorf("acknowledged (-want +got):\n%s", diff)
	}
}

func TestPageCommand(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	e.declare("db-corruption", "", false)
	ch := e.channel(1)

	tests := []struct {
		text, reply, role, contact string
	}{
		{"page <@U0ZED0001|zed smith>", "Paged @U0ZED0001: <@U0ZED0001>.", "@U0ZED0001", "U0ZED0001"},
		{"page @erin", "Paged @erin: Erin Lund.", "@erin", "erin"},
		{"page customer", "Paged customer: Frank Moe.", "customer", "frank"},
		{"page Security", "Paged security: Erin Lund.", "security", "erin"},
	}
	for _, tt := range tests {
		r := e.mustCommand(uAlice, ch, tt.text)
		if r.Text != tt.reply {
			t.Errorf("%s: reply %q, want %q", tt.text, r.Text, tt.reply)
		}
		paged := e.events(1, incident.KindPaged)
		last := paged[len(paged)-1]
		if last.Data["role"] != tt.role || last.Data["contact"] != tt.contact || last.Actor != uAlice {
			t.Errorf("%s: paged %+v", tt.text, last)
		}
	}
	// A mention of a member the plan knows by email maps to the contact.
	// Typed by someone paged for nothing: bob, paged as executor, would
	// acknowledge by it.
	r := e.mustCommand("U0WATCH01", ch, "page <@U0FRANK01|frank>")
	if r.Text != "Paged @frank: Frank Moe." {
		t.Errorf("reply = %q", r.Text)
	}
	if got := e.pagesTo(uZed); len(got) != 1 || !strings.HasPrefix(got[0].Text, ":rotating_light: You are paged for incident #1") {
		t.Errorf("zed got %d pages: %+v; want one saying he is paged (in person, not as a role)", len(got), got)
	}
	if !slices.Contains(e.chat.Members(ch), uZed) {
		t.Errorf("zed not invited: %v", e.chat.Members(ch))
	}
	// zed acknowledges his own page; erin may not acknowledge it.
	r = e.pressAction(uErin, dmOf(uErin), "ack|1|@U0ZED0001")
	if !strings.HasPrefix(r.Text, "Only the contacts paged as @U0ZED0001") {
		t.Errorf("erin's press: %q", r.Text)
	}
	r = e.press(uZed, dmOf(uZed), "Acknowledge")
	if !strings.HasPrefix(r.Text, "You acknowledged as @U0ZED0001") {
		t.Errorf("zed's press: %q", r.Text)
	}

	// Paging a role that is being paged changes nothing.
	before := len(e.timeline(1))
	r = e.mustCommand(uAlice, ch, "page executor")
	if !strings.Contains(r.Text, "executor is being paged already (page 1, to Bob Dahl") {
		t.Errorf("reply = %q", r.Text)
	}
	if len(e.timeline(1)) != before {
		t.Error("paging a role being paged changed the timeline")
	}
	// Once acknowledged, paging it again starts a new callout from the top.
	e.press(uBob, dmOf(uBob), "Acknowledge")
	e.mustCommand(uErin, ch, "page executor")
	rp := e.incident(1).Roles[1]
	if rp.Role != "executor" || rp.Acked || rp.Sent != 2 || rp.CalloutStart != 1 {
		t.Errorf("executor after a new callout: %+v", rp)
	}
	if got := e.pagesTo(uBob); len(got) != 2 || len(got[1].Buttons) != 1 {
		t.Errorf("bob's pages: %s", dumpMsgs(got))
	}

	errTests := []struct{ text, want string }{
		{"page nobody", `Unknown role "nobody". Page a role (commander, executor, approver, security, customer), a contact of the plan (@alice, @bob, @erin, @frank) or a Slack member (mention them).`},
		{"page @nobody", `Unknown contact "@nobody".`},
		{"page <@not-an-id>", `is not a Slack mention drbot understands`},
		// The answer quotes what was typed, escaped: it pings nobody.
		{"page <@<!channel>", `"&lt;@&lt;!channel&gt;" is not a Slack mention drbot understands.`},
		{"page", "Say whom to page"},
		{"page executor commander", "Page one role or person at a time"},
	}
	for _, tt := range errTests {
		_, err := e.command(uAlice, ch, tt.text)
		if incident.ErrorCode(err) != incident.EINVALID || !strings.Contains(incident.ErrorMessage(err), tt.want) {
			t.Errorf("%s: error %v, want EINVALID with %q", tt.text, err, tt.want)
		}
	}
}

// A person paged alone (/incident page @someone) who does not answer
// runs out like a role: the channel is told, in words for a person, and
// the commander role is paged unless they are a commander contact. As for
// a role running out, a commander role that acknowledged earlier is paged
// again.
func TestPagePersonUnanswered(t *testing.T) {
	tests := []struct {
		name      string
		scenario  string // db-corruption pages the commander; checkout-down does not
		target    string
		person    string // whose DMs get the page
		unplain   string // the unanswered event's text
		channel   string // what the channel is told
		commander bool   // whether the commander role is paged
	}{
		{
			name: "contact", scenario: "checkout-down", target: "@erin", person: uErin,
			unplain:   "Erin Lund did not acknowledge after 2 pages",
			channel:   ":warning: Erin Lund did not acknowledge after 2 pages. Paging the commander role.",
			commander: true,
		},
		{
			name: "Slack member", scenario: "checkout-down", target: "<@U0ZED0001>", person: uZed,
			unplain:   "U0ZED0001 did not acknowledge after 2 pages",
			channel:   ":warning: <@U0ZED0001> did not acknowledge after 2 pages. Paging the commander role.",
			commander: true,
		},
		{
			name: "commander contact", scenario: "checkout-down", target: "@alice", person: uAlice,
			unplain: "Alice Berg did not acknowledge after 2 pages",
			channel: ":warning: Alice Berg did not acknowledge after 2 pages.",
		},
		{
			name: "commander acknowledged earlier", scenario: "db-corruption", target: "@erin", person: uErin,
			unplain:   "Erin Lund did not acknowledge after 2 pages",
			channel:   ":warning: Erin Lund did not acknowledge after 2 pages. Paging the commander role.",
			commander: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSvcEnv(t, svcPlan(t))
			e.declare(tt.scenario, "", false)
			ch := e.channel(1)
			// Every role of the scenario acknowledges: only the person's
			// page runs out.
			e.clock.Set(svcT0.Add(time.Minute))
			for _, rp := range e.incident(1).Roles {
				e.pressAction(uAlice, dmOf(uAlice), "ack|1|"+rp.Role)
			}
			for _, rp := range e.incident(1).Roles {
				if !rp.Acked {
					t.Fatalf("%s not acknowledged: %+v", rp.Role, rp)
				}
			}
			alicePages := len(e.pagesTo(uAlice))

			e.clock.Set(svcT0.Add(2 * time.Minute))
			e.mustCommand(uBob, ch, "page "+tt.target)
			e.at(7 * time.Minute) // the second page: 2 rounds of 1
			if got := e.events(1, incident.KindUnanswered); len(got) != 0 {
				t.Fatalf("unanswered after one page: %+v", got)
			}
			e.at(12 * time.Minute)

			if got := len(e.pagesTo(tt.person)) - boolInt(tt.person == uAlice)*alicePages; got != 2 {
				t.Errorf("the person got %d pages, want 2", got)
			}
			un := e.events(1, incident.KindUnanswered)
			if len(un) != 1 || un[0].Text != tt.unplain || un[0].Data["pages"] != "2" || !strings.HasPrefix(un[0].Data["role"], "@") {
				t.Fatalf("unanswered = %+v, want one with text %q", un, tt.unplain)
			}
			if !slices.Contains(e.texts(ch), tt.channel) {
				t.Errorf("channel not told %q; it has:\n%s", tt.channel, strings.Join(e.texts(ch), "\n"))
			}
			for _, text := range e.texts(ch) {
				if strings.Contains(text, "role after") && strings.Contains(text, "@") {
					t.Errorf("a person is called a role: %q", text)
				}
			}
			// The second page goes to the same person: said so, not as
			// "paging Erin Lund as @erin".
			if !slices.ContainsFunc(e.texts(ch), func(s string) bool { return strings.HasSuffix(s, "did not acknowledge within 5m; paging them again") }) {
				t.Errorf("channel not told the person is paged again; it has:\n%s", strings.Join(e.texts(ch), "\n"))
			}

			var commanderPages []incident.Event
			for _, ev := range e.events(1, incident.KindPaged) {
				if ev.Data["role"] == "commander" && ev.At.Equal(svcT0.Add(12*time.Minute)) {
					commanderPages = append(commanderPages, ev)
				}
			}
			if !tt.commander {
				if len(commanderPages) != 0 {
					t.Errorf("commander paged: %+v", commanderPages)
				}
				if _, ok := e.timerDueOf("inc/1/escalate/commander"); ok {
					t.Error("the commander role has an escalation timer")
				}
				return
			}
			if len(commanderPages) != 1 || commanderPages[0].Data["contact"] != "alice" || commanderPages[0].Actor != "" {
				t.Fatalf("commander pages at 10:12 CET = %+v, want alice's by drbot", commanderPages)
			}
			pages := e.pagesTo(uAlice)
			last := pages[len(pages)-1]
			reason := strings.TrimSuffix(tt.channel, " Paging the commander role.")
			reason = "_" + strings.TrimSuffix(strings.TrimPrefix(reason, ":warning: "), ".") + "._"
			if !strings.Contains(last.Text, "You are paged as *commander*") || !strings.HasSuffix(last.Text, reason) || len(last.Buttons) != 1 {
				t.Errorf("alice's commander page = %q %v, want it to end %q", last.Text, btnLabels(last.Buttons), reason)
			}
			if due, ok := e.timerDueOf("inc/1/escalate/commander"); !ok || !due.Equal(svcT0.Add(17*time.Minute)) {
				t.Errorf("commander escalation due %v (set %v), want 10:17", due, ok)
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// A role name with a mrkdwn formatting character (plan ids may hold "_")
// is said plain in its page and in the commander's page when it runs
// out: wrapped in "*" or "_", it would end the formatting early.
func TestPageRoleNameFormatting(t *testing.T) {
	tests := []struct {
		role, paged, reason string
	}{
		{"sre", "You are paged as *sre* for", "\n_Nobody acknowledged the sre role after 2 pages._"},
		{"db.ops", "You are paged as *db.ops* for", "\n_Nobody acknowledged the db.ops role after 2 pages._"},
		{"on_call", "You are paged as on_call for", "\nNobody acknowledged the on_call role after 2 pages."},
	}
	for _, tt := range tests {
		t.Run(tt.role, func(t *testing.T) {
			p := svcPlan(t)
			p.Roles[tt.role] = []string{"erin"}
			p.RoleOrder = append(p.RoleOrder, tt.role)
			e := newSvcEnv(t, p)
			e.declare("checkout-down", "", false)
			e.mustCommand(uBob, e.channel(1), "page "+tt.role)
			e.at(5 * time.Minute)
			e.at(10 * time.Minute) // erin twice: the commander (alice) is paged

			pages := e.pagesTo(uErin)
			if len(pages) != 2 || !strings.Contains(pages[0].Text, tt.paged) {
				t.Errorf("erin's pages = %s, want them to say %q", dumpMsgs(pages), tt.paged)
			}
			var reason string
			for _, m := range e.pagesTo(uAlice) {
				if strings.Contains(m.Text, "as *commander*") {
					reason = m.Text[strings.LastIndexByte(m.Text, '\n'):]
				}
			}
			if reason != tt.reason {
				t.Errorf("commander's page ends %q, want %q", reason, tt.reason)
			}
		})
	}
}

func TestPagingWebhookPagerDuty(t *testing.T) {
	t.Parallel()
	p := svcPlan(t)
	p.Paging.Webhook = "https://events.pagerduty.com/v2/enqueue?routing_key=R0UT1NGKEY"
	e := newSvcEnv(t, p)
	e.declare("checkout-down", "", false)
	e.press(uBob, dmOf(uBob), "Acknowledge")
	e.mustCommand(uBob, e.channel(1), "resolve fixed")

	var got []map[string]any
	for _, c := range e.chat.CallsOf("Webhook") {
		if c.URL != "https://events.pagerduty.com/v2/enqueue" {
			t.Errorf("webhook URL = %q: the key must go in the body, not the URL", c.URL)
		}
		var m map[string]any
		if err := json.Unmarshal(c.Body, &m); err != nil {
			t.Fatalf("webhook body %s: %v", c.Body, err)
		}
		got = append(got, m)
	}
	if len(got) != 3 {
		t.Fatalf("%d webhook calls, want trigger, acknowledge, resolve", len(got))
	}
	for i, action := range []string{"trigger", "acknowledge", "resolve"} {
		if got[i]["event_action"] != action || got[i]["routing_key"] != "R0UT1NGKEY" || got[i]["dedup_key"] != "drbot-1-executor" {
			t.Errorf("call %d = %v", i, got[i])
		}
	}
	payload, _ := got[0]["payload"].(map[string]any)
	if payload["severity"] != "error" || payload["source"] != "drbot" || !strings.Contains(payload["summary"].(string), "Checkout is down") {
		t.Errorf("trigger payload = %v", payload)
	}

	// The outbox rows, kept in the database, hold neither the URL nor
	// the key: both are taken from the plan when sent.
	assertWebhookRowsSecretFree(t, e.store, "R0UT1NGKEY", 3)
}

// assertWebhookRowsSecretFree checks that want webhook rows were written
// and none of them holds a URL or secret.
func assertWebhookRowsSecretFree(t *testing.T, store *incidenttest.MemStore, secret string, want int) {
	t.Helper()
	n := 0
	for _, o := range store.Messages() {
		if o.Kind != incident.OutWebhook {
			continue
		}
		n++
		raw, err := json.Marshal(o.Outgoing)
		if err != nil {
			t.Fatal(err)
		}
		// The body is base64 in the JSON: look in it as well.
		raw = append(raw, o.Body.WebhookBody...)
		if o.Body.WebhookURL != "" || !o.Body.WebhookPlan || strings.Contains(string(raw), secret) ||
			strings.Contains(string(raw), "routing_key") || strings.Contains(string(raw), "pagerduty.com") {
			t.Errorf("webhook outbox row holds the URL or the key: %s", raw)
		}
	}
	if n != want {
		t.Errorf("%d webhook outbox rows, want %d", n, want)
	}
}

// webhookEnvPlan is a plan whose PagerDuty key is the environment
// variable DRBOT_TEST_PD_KEY.
const webhookEnvPlan = `version: 1
contacts:
  alice: {name: Alice, slack: U0ALICE01}
  bob: {name: Bob, slack: U0BOB0001}
roles:
  commander: [alice, bob]
paging:
  webhook: "https://events.pagerduty.com/v2/enqueue?routing_key=${DRBOT_TEST_PD_KEY}"
scenarios:
  outage:
    title: Outage
    severity: sev2
    page: [commander]
    steps:
      - {id: look, do: Look.}
`

// A page declared under a plan whose webhook key comes from the
// environment is sent by a restarted drbot whose current plan is another
// one: the key is read from the environment again, through the incident's
// stored plan, since the outbox row does not have it. With the variable
// gone, that webhook (only) fails, naming the variable.
func TestPagingWebhookKeyFromEnvironment(t *testing.T) {
	for _, tt := range []struct {
		name     string
		keyLater string // DRBOT_TEST_PD_KEY when delivered; "" unset
	}{
		{name: "set", keyLater: "K3Y-L4TER"},
		{name: "unset when sent"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("DRBOT_TEST_PD_KEY", "K3Y-FR0M-ENV")
			p, ds := playbooks.Parse("plan.yaml", []byte(webhookEnvPlan))
			if p == nil {
				t.Fatalf("plan: %v", ds)
			}
			e := newSvcEnv(t, p)
			if _, err := e.svc.Declare(e.ctx, incident.DeclareRequest{Scenario: "outage", UserID: uAlice, ChannelID: "CGENERAL"}); err != nil {
				t.Fatal(err)
			}
			assertWebhookRowsSecretFree(t, e.store, "K3Y-FR0M-ENV", 1)

			// Restart on another plan (its webhook elsewhere), so that
			// the incident's is re-read from the stored source.
			t.Setenv("DRBOT_TEST_PD_KEY", tt.keyLater)
			other, ds := playbooks.Parse("other.yaml", []byte(strings.Replace(webhookEnvPlan, "https://events.pagerduty.com/v2/enqueue?routing_key=${DRBOT_TEST_PD_KEY}", "https://hooks.example.com/other", 1)))
			if other == nil {
				t.Fatalf("other plan: %v", ds)
			}
			e.plan = other
			e.svc = e.newService()
			e.tick()

			calls := e.chat.CallsOf(incidenttest.MethodWebhook)
			failed := e.events(1, incident.KindDeliveryFailed)
			if tt.keyLater == "" {
				if len(calls) != 0 {
					t.Errorf("webhook sent without its key: %+v", calls)
				}
				if len(failed) != 1 || !strings.Contains(failed[0].Text, "DRBOT_TEST_PD_KEY") {
					t.Errorf("delivery_failed events = %+v, want one naming DRBOT_TEST_PD_KEY", failed)
				}
				if len(e.pagesTo(uAlice)) != 1 {
					t.Errorf("alice was not paged: the incident's other messages must not fail with its webhook")
				}
				return
			}
			if len(calls) != 1 || calls[0].URL != "https://events.pagerduty.com/v2/enqueue" {
				t.Fatalf("webhook calls = %+v", calls)
			}
			var body map[string]any
			if err := json.Unmarshal(calls[0].Body, &body); err != nil {
				t.Fatal(err)
			}
			if body["routing_key"] != tt.keyLater || body["event_action"] != "trigger" || body["dedup_key"] != "drbot-1-commander" {
				t.Errorf("webhook body = %v", body)
			}
			if len(failed) != 0 {
				t.Errorf("delivery_failed events = %+v", failed)
			}
		})
	}
}

func TestPagingWebhookPlain(t *testing.T) {
	t.Parallel()
	p := svcPlan(t)
	p.Paging.Webhook = "https://hooks.example.com/page"
	e := newSvcEnv(t, p)
	e.declare("checkout-down", "", true)
	calls := e.chat.CallsOf("Webhook")
	if len(calls) != 1 || calls[0].URL != "https://hooks.example.com/page" {
		t.Fatalf("webhook calls: %+v", calls)
	}
	var m map[string]any
	if err := json.Unmarshal(calls[0].Body, &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"event": "page", "incident": float64(1), "role": "executor", "contact": "bob",
		"title": "Checkout is down", "channel": "drill-1-checkout-down", "at": "2026-11-21T09:00:00Z",
		"drill": true, "severity": "sev2", "service": "checkout", "scenario": "checkout-down",
	}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("webhook body (-want +got):\n%s", diff)
	}
}

// brokenPlan is svcPlan whose executor role begins with frank, whose
// email Slack does not know (users.lookupByEmail: users_not_found), and
// whose second contact is second.
func brokenPlan(t *testing.T, second string) *playbooks.Plan {
	p := svcPlan(t)
	p.Contacts["frank"].Email = "frank@gone.example.com"
	p.Contacts["gus"] = &playbooks.Contact{ID: "gus", Name: "Gus Holm", Email: "gus@gone.example.com"}
	p.ContactOrder = append(p.ContactOrder, "gus")
	p.Roles["executor"] = []string{"frank", second}
	return p
}

// pageFailures returns the delivery_failed lines of pages (the invites
// of broken contacts fail too).
func (e *svcEnv) pageFailures(id int64) []string {
	var out []string
	for _, ev := range e.events(id, incident.KindDeliveryFailed) {
		if ev.Data["outbox_kind"] == string(incident.OutDM) {
			out = append(out, ev.Text)
		}
	}
	return out
}

// timerDueOf returns the due time of the timer key, or false.
func (e *svcEnv) timerDueOf(key string) (time.Time, bool) {
	for _, tm := range e.store.Timers() {
		if tm.Key == key {
			return tm.Due, true
		}
	}
	return time.Time{}, false
}

// A page that can never arrive does not hold the role for its
// ack_timeout: the next Tick pages the next contact.
func TestUndeliveredPageEscalatesNow(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, brokenPlan(t, "bob"))
	e.declare("checkout-down", "", false) // pages executor: frank (broken), bob

	if diff := cmp.Diff([]string{"could not page frank: users_not_found"}, e.pageFailures(1)); diff != "" {
		t.Fatalf("pages that failed (-want +got):\n%s", diff)
	}
	if due, ok := e.timerDueOf("inc/1/escalate/executor"); !ok || !due.Equal(svcT0) {
		t.Fatalf("escalation timer due %v (set %v), want now %v", due, ok, svcT0)
	}
	if got := len(e.pagesTo(uBob)); got != 0 {
		t.Fatalf("bob paged before the next Tick: %d pages", got)
	}

	e.tick() // the clock has not moved
	esc := e.events(1, incident.KindEscalated)
	if len(esc) != 1 {
		t.Fatalf("escalated = %+v", esc)
	}
	wantData := map[string]string{"role": "executor", "contact": "bob", "from": "frank", "reason": "could not page frank: users_not_found"}
	if diff := cmp.Diff(wantData, esc[0].Data); diff != "" {
		t.Errorf("escalated data (-want +got):\n%s", diff)
	}
	if got, want := esc[0].Text, "Frank Moe could not be paged (users_not_found); paged Bob Dahl as executor"; got != want {
		t.Errorf("escalated text = %q, want %q", got, want)
	}
	if !esc[0].At.Equal(svcT0) {
		t.Errorf("escalated at %v, want %v", esc[0].At, svcT0)
	}
	pages := e.pagesTo(uBob)
	if len(pages) != 1 || !strings.Contains(pages[0].Text, "_Frank Moe could not be paged (users_not_found)._") {
		t.Errorf("bob's pages: %s", dumpMsgs(pages))
	}
	// bob gets his full ack_timeout.
	if due, _ := e.timerDueOf("inc/1/escalate/executor"); !due.Equal(svcT0.Add(5 * time.Minute)) {
		t.Errorf("escalation timer due %v after bob's page, want +5m", due)
	}
	e.press(uBob, dmOf(uBob), "Acknowledge")
	if got := e.incident(1).Roles[0]; !got.Acked || got.AckedBy != "bob" {
		t.Errorf("executor = %+v", got)
	}
}

// A role whose every contact is broken runs out within a few Ticks, and
// the commander is paged; its rounds still count, so nothing loops.
func TestUndeliveredPagesAllBroken(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, brokenPlan(t, "gus"))
	e.declare("checkout-down", "", false) // pages executor: frank, gus (both broken)
	ch := e.channel(1)
	for range 8 { // twice what it takes; the clock never moves
		e.tick()
	}

	var reasons []string
	for _, ev := range e.events(1, incident.KindEscalated) {
		reasons = append(reasons, ev.Data["role"]+": "+ev.Data["reason"])
	}
	want := []string{
		"executor: could not page frank: users_not_found",
		"executor: could not page gus: users_not_found",
		"executor: could not page frank: users_not_found",
	}
	if diff := cmp.Diff(want, reasons); diff != "" {
		t.Errorf("escalations (-want +got):\n%s", diff)
	}
	if got := len(e.pageFailures(1)); got != 4 {
		t.Errorf("%d delivery_failed, want 4 (2 rounds of 2)", got)
	}
	un := e.events(1, incident.KindUnanswered)
	if len(un) != 1 || un[0].Data["role"] != "executor" || un[0].Data["pages"] != "4" || !un[0].At.Equal(svcT0) {
		t.Fatalf("unanswered = %+v", un)
	}
	e.mustFind(ch, "Nobody acknowledged the executor role after 4 pages (Frank Moe, Gus Holm). Paging the commander role.")
	if got := len(e.pagesTo(uAlice)); got != 1 {
		t.Errorf("alice (commander) got %d pages, want 1", got)
	}
	if _, ok := e.timerDueOf("inc/1/escalate/executor"); ok {
		t.Error("the executor role still has an escalation timer")
	}
	if due, ok := e.timerDueOf("inc/1/escalate/commander"); !ok || !due.Equal(svcT0.Add(5*time.Minute)) {
		t.Errorf("commander escalation due %v (set %v), want +5m", due, ok)
	}
}

// A page that fails for good after the role acknowledged, or after the
// role escalated past it, changes nothing.
func TestUndeliveredPageTooLate(t *testing.T) {
	t.Run("acknowledged", func(t *testing.T) {
		e := newSvcEnv(t, svcPlan(t))
		// bob's page meets a network error and waits 1s for its retry.
		e.chat.FailNext(incidenttest.MethodDM, 1, errors.New("connection reset"))
		e.declare("checkout-down", "", false) // pages executor: bob, alice
		if got := len(e.pagesTo(uBob)); got != 0 {
			t.Fatalf("bob's page went out: %d", got)
		}
		// alice, the role's other contact, acknowledges meanwhile.
		e.pressAction(uAlice, dmOf(uAlice), "ack|1|executor")
		e.chat.FailNext(incidenttest.MethodDM, 1, &incident.ChatError{Method: "chat.postMessage", Code: "user_not_found", Permanent: true})
		e.at(time.Second)
		if got := len(e.pageFailures(1)); got != 1 {
			t.Fatalf("%d pages failed, want bob's", got)
		}
		e.tick()
		if got := e.events(1, incident.KindEscalated); len(got) != 0 {
			t.Errorf("escalated after the role acknowledged: %+v", got)
		}
		if _, ok := e.timerDueOf("inc/1/escalate/executor"); ok {
			t.Error("an acknowledged role has an escalation timer")
		}
		if rp := e.incident(1).Roles[0]; rp.Undelivered != 0 || !rp.Acked {
			t.Errorf("executor = %+v", rp)
		}
	})
	t.Run("escalated past it", func(t *testing.T) {
		e := newSvcEnv(t, brokenPlan(t, "bob"))
		// frank's email lookup meets a network error; his page is retried
		// only after the ack_timeout has paged bob.
		e.chat.FailNext(incidenttest.MethodLookupUserByEmail, 1, errors.New("connection reset"))
		e.declare("checkout-down", "", false)
		e.at(5 * time.Minute) // escalates to bob, then frank's page fails for good
		if got := len(e.pageFailures(1)); got != 1 {
			t.Fatalf("%d pages failed, want frank's", got)
		}
		e.tick()
		esc := e.events(1, incident.KindEscalated)
		if len(esc) != 1 || esc[0].Data["contact"] != "bob" || esc[0].Data["reason"] != "" {
			t.Fatalf("escalated = %+v, want only the one to bob on time", esc)
		}
		if due, _ := e.timerDueOf("inc/1/escalate/executor"); !due.Equal(svcT0.Add(10 * time.Minute)) {
			t.Errorf("escalation timer due %v, want bob's full ack_timeout (+10m)", due)
		}
	})
}

// TestUnansweredAfterEarlierAck: a commander role that acknowledged early
// and is paged again in its own right (the RTO breach) without answer is
// said not to have answered since then, not "nobody acknowledged the
// commander role", which /incident status contradicts.
func TestUnansweredAfterEarlierAck(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	e.declare("db-corruption", "", false)
	ch := e.channel(1)
	e.press(uAlice, dmOf(uAlice), "Acknowledge")
	for d := 2 * time.Hour; d <= 2*time.Hour+25*time.Minute; d += 5 * time.Minute {
		e.at(d)
	}
	for _, text := range e.texts(ch) {
		if strings.HasPrefix(text, ":warning: Nobody acknowledged the commander role") {
			if !strings.HasSuffix(text, ", since 12:00 CET (it acknowledged an earlier page).") {
				t.Errorf("unanswered commander after an earlier acknowledgement: %q", text)
			}
			return
		}
	}
	t.Fatalf("the commander's breach pages never ran out; the channel has:\n%s", strings.Join(e.texts(ch), "\n"))
}
