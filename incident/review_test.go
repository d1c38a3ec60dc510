package incident_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/incident/incidenttest"
	"github.com/drbot-dev/drbot/playbooks"
)

// reviewPlan is svcPlan with a review (Mondays 09:00 in Oslo, owners alice
// and erin) and every role with two contacts, so that nothing looks wrong
// until a test makes it so.
func reviewPlan(t *testing.T) *playbooks.Plan {
	t.Helper()
	p := svcPlan(t)
	p.Roles["security"] = []string{"erin", "alice"}
	p.Roles["customer"] = []string{"frank", "bob"}
	p.Review = &playbooks.Review{Schedule: "0 9 * * 1", Owners: []string{"alice", "erin"}, OverdueAfter: 72 * time.Hour, Channel: "dr-plan"}
	return p
}

// newReviewEnv is newSvcEnv with the plan's people known to the chat as
// active accounts.
func newReviewEnv(t *testing.T, p *playbooks.Plan) *svcEnv {
	t.Helper()
	return withAccounts(newSvcEnv(t, p))
}

// withAccounts makes the plan's people known to e's chat as active
// accounts.
func withAccounts(e *svcEnv) *svcEnv {
	for _, u := range []incident.UserInfo{
		{ID: uAlice, Name: "alice"}, {ID: uBob, Name: "bob"}, {ID: uErin, Name: "erin"}, {ID: uFrank, Name: "frank"},
	} {
		e.chat.SetUser(u)
	}
	return e
}

// reviewDM returns the newest contact-list review in user's DMs.
func (e *svcEnv) reviewDM(user string) incident.Message {
	e.t.Helper()
	return e.mustFind(dmOf(user), "*Contact-list review:")
}

// reviewCount counts the contact-list reviews user got.
func (e *svcEnv) reviewCount(user string) int {
	n := 0
	for _, m := range e.chat.DMs(user) {
		if strings.Contains(m.Text, "*Contact-list review:") {
			n++
		}
	}
	return n
}

// findings returns the lines under "What looks wrong"; nil when it says
// nothing is.
func findings(t *testing.T, m incident.Message) []string {
	t.Helper()
	_, rest, ok := strings.Cut(m.Text, "*What looks wrong*")
	if !ok {
		t.Fatalf("no findings section in %q", m.Text)
	}
	if strings.HasPrefix(rest, ": nothing drbot can see.") {
		return nil
	}
	var out []string
	for _, line := range strings.Split(rest, "\n")[1:] {
		f, ok := strings.CutPrefix(line, "• ")
		if !ok {
			break
		}
		out = append(out, f)
	}
	return out
}

func TestReviewMessage(t *testing.T) {
	e := newReviewEnv(t, reviewPlan(t))
	got := e.mustCommand(uBob, "CGENERAL", "review")
	if want := "Sent the contact-list review to Alice Berg and Erin Lund."; got.Text != want || got.Public {
		t.Errorf("reply %+v, want private %q", got, want)
	}
	m := e.reviewDM(uAlice)
	want := "*Contact-list review: Acme Shop disaster recovery plan*\n" +
		"Are these still the right people, and can drbot reach them? Press *Confirm* if so, *Needs changes* if not.\n" +
		"\n*Contacts*" +
		"\n• *Alice Berg* (`alice`): <@U0ALICE01> · alice@example.com · +47 400 00 001 — commander, executor, security" +
		"\n• *Bob Dahl* (`bob`): <@U0BOB0001> — commander, executor, customer" +
		"\n• *Erin Lund* (`erin`): <@U0ERIN001> — approver, security" +
		"\n• *Frank Moe* (`frank`): <@U0FRANK01> · frank@example.com — approver, customer" +
		"\n\n*Roles* (escalation order)" +
		"\n• commander: Alice Berg → Bob Dahl" +
		"\n• executor: Bob Dahl → Alice Berg" +
		"\n• approver: Erin Lund → Frank Moe" +
		"\n• security: Erin Lund → Alice Berg" +
		"\n• customer: Frank Moe → Bob Dahl" +
		"\n\n*What looks wrong*: nothing drbot can see."
	if diff := cmp.Diff(want, m.Text); diff != "" {
		t.Errorf("review text (-want +got):\n%s", diff)
	}
	wantCtx := "Never confirmed before. Sent at the request of <@U0BOB0001>. Unconfirmed by 2026-11-24 10:00 CET, you are reminded again and #dr-plan is told."
	if m.Context != wantCtx {
		t.Errorf("context %q, want %q", m.Context, wantCtx)
	}
	if got, want := btnLabels(m.Buttons), []string{"Confirm", "Needs changes"}; !cmp.Equal(got, want) {
		t.Errorf("buttons %q, want %q", got, want)
	}
	// Both owners, once each; nobody else.
	for user, n := range map[string]int{uAlice: 1, uErin: 1, uBob: 0, uFrank: 0} {
		if got := e.reviewCount(user); got != n {
			t.Errorf("%s got %d reviews, want %d", user, got, n)
		}
	}
}

func TestReviewFindings(t *testing.T) {
	unacked := "nobody acknowledged the executor role in incident #1 (2026-11-21 10:00 CET, 1 page): check that its contacts can be reached"
	tests := []struct {
		name  string
		plan  func(p *playbooks.Plan)
		setup func(e *svcEnv)
		want  []string
	}{
		{name: "nothing wrong"},
		{
			name:  "deactivated Slack account",
			setup: func(e *svcEnv) { e.chat.SetUser(incident.UserInfo{ID: uBob, Deleted: true}) },
			want:  []string{"Bob Dahl (`bob`): Slack account deactivated"},
		},
		{
			name: "Slack account not found",
			plan: func(p *playbooks.Plan) { p.Contacts["bob"].Slack = "U0BOBGONE" },
			want: []string{"Bob Dahl (`bob`): Slack account U0BOBGONE not found"},
		},
		{
			name: "email that matches no one",
			plan: func(p *playbooks.Plan) { p.Contacts["frank"].Email = "frank@old.example" },
			want: []string{"Frank Moe (`frank`): no Slack account has the email frank@old.example"},
		},
		{
			name:  "email of a deactivated account",
			setup: func(e *svcEnv) { e.chat.SetUser(incident.UserInfo{ID: uFrank, Deleted: true}) },
			want:  []string{"Frank Moe (`frank`): Slack account deactivated"},
		},
		{
			name: "email lookup refused",
			setup: func(e *svcEnv) {
				e.chat.FailNext(incidenttest.MethodLookupUserByEmail, 1, &incident.ChatError{Code: "missing_scope", Permanent: true})
			},
			want: []string{"Frank Moe (`frank`): could not look up frank@example.com in Slack (missing_scope)"},
		},
		{
			name: "role with one contact",
			plan: func(p *playbooks.Plan) { p.Roles["security"] = []string{"erin"} },
			want: []string{"the security role has one contact (Erin Lund): nobody to escalate to"},
		},
		{
			name: "contact in no role, name escaped",
			plan: func(p *playbooks.Plan) {
				p.Contacts["gina"] = &playbooks.Contact{ID: "gina", Name: "Gina <!here> Holm", Slack: "U0GINA001"}
				p.ContactOrder = append(p.ContactOrder, "gina")
			},
			setup: func(e *svcEnv) { e.chat.SetUser(incident.UserInfo{ID: "U0GINA001"}) },
			want:  []string{"Gina &lt;!here&gt; Holm is in no role: drbot never pages them"},
		},
		{
			name: "role not acknowledged in the last real incident",
			setup: func(e *svcEnv) {
				e.declare("db-corruption", "", false)
				e.press(uAlice, dmOf(uAlice), "Acknowledge") // commander; executor (bob) never answers
				e.mustCommand(uAlice, e.channel(1), "resolve")
			},
			want: []string{unacked},
		},
		{
			name: "drills do not count",
			setup: func(e *svcEnv) {
				e.declare("db-corruption", "", false)
				e.press(uAlice, dmOf(uAlice), "Acknowledge")
				e.mustCommand(uAlice, e.channel(1), "resolve")
				// Nobody answers the drill.
				e.declare("db-corruption", "", true)
				e.mustCommand(uAlice, e.channel(2), "resolve")
			},
			want: []string{unacked},
		},
		{
			name: "a later incident that answered replaces it",
			setup: func(e *svcEnv) {
				e.declare("db-corruption", "", false)
				e.press(uAlice, dmOf(uAlice), "Acknowledge")
				e.mustCommand(uAlice, e.channel(1), "resolve")
				e.declare("checkout-down", "", false) // pages executor: bob
				e.press(uBob, dmOf(uBob), "Acknowledge")
				e.mustCommand(uBob, e.channel(2), "resolve")
			},
		},
		{
			// A person paged alone (/incident page @alice) is no role of
			// the plan: the review is about roles, and the incident's
			// postmortem already names them.
			name: "a person paged alone is no role",
			setup: func(e *svcEnv) {
				e.declare("db-corruption", "", false)
				e.press(uAlice, dmOf(uAlice), "Acknowledge")
				e.press(uBob, dmOf(uBob), "Acknowledge")
				e.mustCommand(uBob, e.channel(1), "page @alice") // a commander contact: the commander is not paged again
				e.at(5 * time.Minute)
				e.at(10 * time.Minute)
				if un := e.events(1, incident.KindUnanswered); len(un) != 1 || un[0].Data["role"] != "@alice" {
					t.Fatalf("unanswered = %+v, want @alice's", un)
				}
				e.mustCommand(uAlice, e.channel(1), "resolve")
			},
		},
		{
			name: "an incident still paging is not judged yet",
			setup: func(e *svcEnv) {
				e.declare("db-corruption", "", false)
				e.press(uAlice, dmOf(uAlice), "Acknowledge")
				e.mustCommand(uAlice, e.channel(1), "resolve")
				e.declare("checkout-down", "", false) // executor paged, not answered yet
			},
			want: []string{unacked},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := reviewPlan(t)
			if tt.plan != nil {
				tt.plan(p)
			}
			e := newReviewEnv(t, p)
			if tt.setup != nil {
				tt.setup(e)
			}
			e.mustCommand(uBob, "CGENERAL", "review")
			if diff := cmp.Diff(tt.want, findings(t, e.reviewDM(uAlice))); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

// The review goes out on review.schedule, read in the plan's timezone:
// Mondays 09:00 in Oslo is 08:00 UTC in November.
func TestReviewOnSchedule(t *testing.T) {
	e := newReviewEnv(t, reviewPlan(t))
	monday := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	if got := timerDue(t, e, "schedule/review"); !got.Equal(monday) {
		t.Fatalf("review due %s, want %s", got, monday)
	}
	e.clock.Set(monday.Add(-time.Second))
	e.tick()
	if n := e.reviewCount(uAlice); n != 0 {
		t.Fatalf("%d reviews before 09:00 Oslo", n)
	}
	e.clock.Set(monday)
	e.tick()
	for _, u := range []string{uAlice, uErin} {
		if n := e.reviewCount(u); n != 1 {
			t.Errorf("%s got %d reviews at 09:00 Oslo, want 1", u, n)
		}
	}
	if m := e.reviewDM(uAlice); strings.Contains(m.Context, "request of") {
		t.Errorf("a scheduled review says it was requested: %q", m.Context)
	}
	if got, want := timerDue(t, e, "schedule/review"), monday.AddDate(0, 0, 7); !got.Equal(want) {
		t.Errorf("next review due %s, want %s", got, want)
	}
	if got, want := timerDue(t, e, "schedule/review/overdue"), monday.Add(72*time.Hour); !got.Equal(want) {
		t.Errorf("overdue reminder due %s, want %s", got, want)
	}
	// Nothing more until next Monday.
	e.clock.Set(monday.AddDate(0, 0, 7).Add(-time.Second))
	e.tick()
	if n := e.reviewCount(uAlice); n != 2 { // one overdue reminder, on Thursday
		t.Errorf("%d reviews in the week, want 2 (the review and one overdue reminder)", n)
	}
}

func timerDue(t *testing.T, e *svcEnv, key string) time.Time {
	t.Helper()
	for _, tm := range e.store.Timers() {
		if tm.Key == key {
			return tm.Due
		}
	}
	t.Fatalf("no timer %s; timers: %q", key, e.timerKeys())
	return time.Time{}
}

func hasTimer(e *svcEnv, key string) bool {
	for _, tm := range e.store.Timers() {
		if tm.Key == key {
			return true
		}
	}
	return false
}

func TestReviewConfirm(t *testing.T) {
	e := newReviewEnv(t, reviewPlan(t))
	e.at(time.Hour)
	e.mustCommand(uBob, "CGENERAL", "review")
	if !hasTimer(e, "schedule/review/overdue") {
		t.Fatal("no overdue reminder after the review was sent")
	}
	e.at(2 * time.Hour)
	sent := e.reviewDM(uAlice).Text
	reply := e.press(uErin, dmOf(uErin), "Confirm")
	if want := "Thank you: the contact list is confirmed, by you at 2026-11-21 12:00 CET. The next review is due 2026-11-23 09:00 CET."; reply.Text != want {
		t.Errorf("reply %q, want %q", reply.Text, want)
	}
	got, ok, err := incident.LastConfirmed(e.ctx, e.store)
	if err != nil || !ok {
		t.Fatalf("LastConfirmed: %v, %v", ok, err)
	}
	want := incident.ReviewConfirmation{By: uErin, Contact: "erin", At: svcT0.Add(2 * time.Hour), Notice: 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("confirmation (-want +got):\n%s", diff)
	}
	if hasTimer(e, "schedule/review/overdue") {
		t.Error("the overdue reminder is still set after Confirm")
	}
	// Every owner's copy says who confirmed it, and neither asks for an
	// answer nor has buttons any more; the contacts, roles and findings
	// stay as they were sent.
	const ask = "Are these still the right people, and can drbot reach them? Press *Confirm* if so, *Needs changes* if not.\n"
	if !strings.Contains(sent, ask) {
		t.Fatalf("the review as sent does not ask for an answer: %q", sent)
	}
	for _, u := range []string{uAlice, uErin} {
		m := e.reviewDM(u)
		if len(m.Buttons) != 0 || m.Context != ":white_check_mark: Confirmed by <@U0ERIN001> at 2026-11-21 12:00 CET." {
			t.Errorf("%s's review after Confirm: context %q, buttons %q", u, m.Context, btnLabels(m.Buttons))
		}
		if diff := cmp.Diff(strings.Replace(sent, ask, "", 1), m.Text); diff != "" {
			t.Errorf("%s's review text after Confirm (-want +got):\n%s", u, diff)
		}
		for _, keep := range []string{"*Contacts*", "*Roles* (escalation order)", "*What looks wrong*"} {
			if !strings.Contains(m.Text, keep) {
				t.Errorf("%s's review lost %s: %q", u, keep, m.Text)
			}
		}
	}
	// A second press changes nothing.
	b := incident.Button{}
	for _, c := range e.chat.CallsOf(incidenttest.MethodDM) {
		if c.User == uAlice && len(c.Message.Buttons) > 0 {
			b = c.Message.Buttons[0]
		}
	}
	again := e.pressAction(uAlice, dmOf(uAlice), b.Action)
	if want := "Already confirmed by <@U0ERIN001> at 2026-11-21 12:00 CET; nothing more to do."; again.Text != want {
		t.Errorf("second Confirm: %q, want %q", again.Text, want)
	}
	// The next review says when it was last confirmed.
	e.mustCommand(uBob, "CGENERAL", "review")
	if m := e.reviewDM(uAlice); !strings.HasPrefix(m.Context, "Last confirmed 2026-11-21 12:00 CET by <@U0ERIN001>.") {
		t.Errorf("next review context %q", m.Context)
	}
	h, err := incident.ReviewHistory(e.ctx, e.store)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, ev := range h {
		kinds = append(kinds, string(ev.Kind))
	}
	if want := []string{"sent", "confirmed", "sent"}; !cmp.Equal(kinds, want) {
		t.Errorf("history %q, want %q", kinds, want)
	}
}

func TestReviewOverdue(t *testing.T) {
	p := reviewPlan(t)
	p.Review.Schedule = "0 9 1 1 *" // not during the test
	e := newReviewEnv(t, p)
	e.mustCommand(uBob, "CGENERAL", "review")
	first := e.button(dmOf(uAlice), "Confirm")

	e.at(72*time.Hour - time.Minute)
	if n := e.reviewCount(uAlice); n != 1 {
		t.Fatalf("%d reviews before overdue_after, want 1", n)
	}
	if n := len(e.chat.Posts("dr-plan")); n != 0 {
		t.Fatalf("%d posts in #dr-plan before overdue_after", n)
	}
	e.at(72 * time.Hour)
	for _, u := range []string{uAlice, uErin} {
		if n := e.reviewCount(u); n != 2 {
			t.Errorf("%s: %d reviews after overdue_after, want 2", u, n)
		}
	}
	if m := e.reviewDM(uAlice); !strings.HasPrefix(m.Text, ":warning: *Reminder: the contact-list review is not confirmed yet.*") {
		t.Errorf("reminder text %q", m.Text)
	}
	posts := e.texts("dr-plan")
	want := []string{":warning: *The contact-list review is overdue.* It was sent to Alice Berg, Erin Lund on 2026-11-21 10:00 CET and nobody has confirmed it in 72h. It has never been confirmed.\n" +
		"Alice Berg, Erin Lund: check the contacts and roles in drbot's direct message and press *Confirm*, or *Needs changes* to say what is wrong."}
	if diff := cmp.Diff(want, posts); diff != "" {
		t.Errorf("#dr-plan (-want +got):\n%s", diff)
	}

	// The first notice's button is stale now.
	reply := e.pressAction(uAlice, dmOf(uAlice), first.Action)
	if !strings.Contains(reply.Text, "A newer contact-list review was sent on 2026-11-24 10:00 CET") {
		t.Errorf("stale Confirm: %q", reply.Text)
	}
	if _, ok, _ := incident.LastConfirmed(e.ctx, e.store); ok {
		t.Error("a stale Confirm was recorded")
	}
	// Still unconfirmed: reminded again overdue_after later.
	e.at(144 * time.Hour)
	if n := e.reviewCount(uAlice); n != 3 {
		t.Errorf("%d reviews after twice overdue_after, want 3", n)
	}
	e.press(uAlice, dmOf(uAlice), "Confirm")
	// The confirmed reminder neither reminds nor asks any more.
	m := e.reviewDM(uErin)
	if strings.Contains(m.Text, "Reminder") || strings.Contains(m.Text, "Press *Confirm*") || len(m.Buttons) != 0 ||
		!strings.HasPrefix(m.Text, "*Contact-list review: Acme Shop disaster recovery plan*\n\n*Contacts*") {
		t.Errorf("confirmed reminder: %q buttons %q", m.Text, btnLabels(m.Buttons))
	}
	e.at(300 * time.Hour)
	if n := e.reviewCount(uAlice); n != 3 {
		t.Errorf("%d reviews after Confirm, want still 3", n)
	}
	if n := len(e.chat.Posts("dr-plan")); n != 2 {
		t.Errorf("%d overdue notices in #dr-plan, want 2", n)
	}
}

func TestReviewNeedsChanges(t *testing.T) {
	e := newReviewEnv(t, reviewPlan(t))
	e.mustCommand(uBob, "CGENERAL", "review")
	reply := e.press(uAlice, dmOf(uAlice), "Needs changes")
	if !reply.OpenReviewModal || !strings.Contains(reply.Text, "/incident review needs TEXT") {
		t.Errorf("Needs changes reply %+v: want the dialog, and the command for surfaces without one", reply)
	}
	reply = e.mustCommand(uAlice, "CGENERAL", "review needs frank left <!channel>;\nerin is the only approver")
	if !strings.Contains(reply.Text, "posted in #dr-plan") {
		t.Errorf("reply %q", reply.Text)
	}
	want := []string{":memo: *The contact list needs changes*, says <@U0ALICE01>:\n>frank left &lt;!channel&gt;;\n>erin is the only approver\n" +
		"Whoever keeps the plan: fix it and reload drbot; the review owners then confirm it."}
	if diff := cmp.Diff(want, e.texts("dr-plan")); diff != "" {
		t.Errorf("#dr-plan (-want +got):\n%s", diff)
	}
	h, err := incident.ReviewHistory(e.ctx, e.store)
	if err != nil {
		t.Fatal(err)
	}
	last := h[len(h)-1]
	wantEv := incident.ReviewEvent{At: svcT0, Kind: "needs_changes", By: uAlice, Notice: 1, Text: "frank left <!channel>;\nerin is the only approver"}
	if diff := cmp.Diff(wantEv, last); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	// Needs changes is not a confirmation: the overdue reminder stays.
	if !hasTimer(e, "schedule/review/overdue") {
		t.Error("Needs changes cancelled the overdue reminder")
	}

	t.Run("without a review channel", func(t *testing.T) {
		p := reviewPlan(t)
		p.Review.Channel = ""
		e := newReviewEnv(t, p)
		reply := e.mustCommand(uAlice, "CGENERAL", "review needs hank joined")
		if !strings.Contains(reply.Text, "The plan has no review channel") {
			t.Errorf("reply %q", reply.Text)
		}
		for _, c := range e.chat.CallsOf(incidenttest.MethodPost) {
			t.Errorf("posted %q in %s", c.Message.Text, c.Channel)
		}
	})
	t.Run("mistakes", func(t *testing.T) {
		for _, text := range []string{"review needs", "review needs   ", "review confirm"} {
			if _, err := e.command(uAlice, "CGENERAL", text); incident.ErrorCode(err) != incident.EINVALID {
				t.Errorf("/incident %s: %v, want EINVALID", text, err)
			}
		}
		noReview := newReviewEnv(t, svcPlan(t))
		if _, err := noReview.command(uAlice, "CGENERAL", "review needs x"); incident.ErrorCode(err) != incident.EINVALID {
			t.Errorf("review needs without a review section: %v", err)
		}
	})
}

// A lookup that may pass (network, rate limit) retries the whole review
// rather than report a working account as broken.
func TestReviewLookupRetried(t *testing.T) {
	e := newReviewEnv(t, reviewPlan(t))
	e.chat.FailNext(incidenttest.MethodLookupUser, 1, errors.New("connection reset"))
	e.chat.FailNext(incidenttest.MethodLookupUserByEmail, 1, &incident.ChatError{Code: "ratelimited", RetryAfter: 30})
	e.mustCommand(uBob, "CGENERAL", "review")
	if n := e.reviewCount(uAlice); n != 0 {
		t.Fatalf("review sent after a failed lookup")
	}
	e.at(time.Second) // backoff after the network error
	if n := e.reviewCount(uAlice); n != 0 {
		t.Fatalf("review sent before the rate limit's 30 s")
	}
	e.at(31 * time.Second)
	if n := e.reviewCount(uAlice); n != 1 {
		t.Fatalf("%d reviews after the retries, want 1", n)
	}
	if f := findings(t, e.reviewDM(uAlice)); f != nil {
		t.Errorf("findings after transient failures: %q", f)
	}
}

func TestReviewWithoutReviewSection(t *testing.T) {
	e := newReviewEnv(t, svcPlan(t))
	if err := e.svc.SendReview(e.ctx, uAlice); incident.ErrorCode(err) != incident.EINVALID {
		t.Errorf("SendReview: %v, want EINVALID", err)
	}
	for _, k := range e.timerKeys() {
		if strings.HasPrefix(k, "schedule/") {
			t.Errorf("schedule timer %s without a review or drills", k)
		}
	}
}
