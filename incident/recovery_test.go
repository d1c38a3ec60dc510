package incident_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/drbot-dev/drbot/incident"
)

func TestParseWhen(t *testing.T) {
	oslo, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC) // 11:00 CET
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"10:45", time.Date(2026, 11, 21, 9, 45, 0, 0, time.UTC)},
		{"10:45:30", time.Date(2026, 11, 21, 9, 45, 30, 0, time.UTC)},
		// Later than now today: yesterday's.
		{"23:50", time.Date(2026, 11, 20, 22, 50, 0, 0, time.UTC)},
		{"2026-11-20 10:45", time.Date(2026, 11, 20, 9, 45, 0, 0, time.UTC)},
		// A summer date is CEST, UTC+2.
		{"2026-07-01 10:45:00", time.Date(2026, 7, 1, 8, 45, 0, 0, time.UTC)},
		{"2026-11-21T09:30:00Z", time.Date(2026, 11, 21, 9, 30, 0, 0, time.UTC)},
		{"2026-11-21T10:30:00+01:00", time.Date(2026, 11, 21, 9, 30, 0, 0, time.UTC)},
		{"15m ago", now.Add(-15 * time.Minute)},
		{" 1h30m ago ", now.Add(-90 * time.Minute)},
		{"2d ago", now.Add(-48 * time.Hour)},
	} {
		got, err := incident.ParseWhen(tc.in, now, oslo)
		if err != nil || !got.Equal(tc.want) || got.Location() != time.UTC {
			t.Errorf("ParseWhen(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "soon", "25:00", "15 ago", "-5m ago", "2026-13-01 10:00", "yesterday 10:45"} {
		_, err := incident.ParseWhen(bad, now, oslo)
		if incident.ErrorCode(err) != incident.EINVALID || !strings.Contains(incident.ErrorMessage(err), "15m ago") {
			t.Errorf("ParseWhen(%q): %v, want EINVALID showing the forms", bad, err)
		}
		// "10:45" is the latest 10:45 past (23:50 above is yesterday's),
		// and the forms say so rather than "today".
		if msg := incident.ErrorMessage(err); bad != "15 ago" && bad != "-5m ago" && (strings.Contains(msg, "today") || !strings.Contains(msg, "typed at 00:10, `23:50` is yesterday's")) {
			t.Errorf("ParseWhen(%q): %q, want the forms to say a time of day later than now is yesterday's", bad, msg)
		}
	}
}

// TestParseWhenBareTimeAfterNow: a time of day alone that would be more
// than 12 hours back (11:30 typed at 11:00: yesterday's 11:30) is almost
// always a slip; it is refused, saying how to write yesterday.
func TestParseWhenBareTimeAfterNow(t *testing.T) {
	oslo, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC) // 11:00 CET
	_, err = incident.ParseWhen("11:30", now, oslo)
	want := "11:30 would be yesterday (Fri 20 Nov 11:30 CET); it is 11:00 now. If you mean yesterday, write the date: `2026-11-20 11:30`."
	if incident.ErrorCode(err) != incident.EINVALID || incident.ErrorMessage(err) != want {
		t.Errorf("ParseWhen(11:30) at 11:00: %v\nwant %q", err, want)
	}
	if got, err := incident.ParseWhen("2026-11-20 11:30", now, oslo); err != nil || !got.Equal(time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC)) {
		t.Errorf("the date it suggests: %v, %v", got, err)
	}
}

// TestRecoveryPoint records a recovery point and when the failure began,
// and reads the data lost against the RPO back from status, the resolve
// summary and the postmortem.
func TestRecoveryPoint(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	e.declare("db-corruption", "", false) // 10:00 CET, RPO 15m
	ch := e.channel(1)
	e.at(30 * time.Minute)

	// Refused, changing nothing: the future, a beginning after the
	// declaration, a time drbot cannot read.
	for _, tc := range []struct{ text, want string }{
		{"recovery-point 2026-11-21 10:45", "in the future"},
		{"began 10:10", "after the incident was declared (10:00 CET)"},
		{"recovery-point", "Say when"},
		{"began whenever", "is not a time drbot reads"},
	} {
		_, err := e.command(uAlice, ch, tc.text)
		if incident.ErrorCode(err) != incident.EINVALID || !strings.Contains(incident.ErrorMessage(err), tc.want) {
			t.Errorf("%s: %v, want EINVALID with %q", tc.text, err, tc.want)
		}
	}
	if inc := e.incident(1); !inc.RecoveryPoint.IsZero() || !inc.BeganAt.IsZero() {
		t.Fatalf("a refused command changed the incident: %v %v", inc.RecoveryPoint, inc.BeganAt)
	}

	r := e.mustCommand(uBob, ch, "recovery-point 09:40")
	if want := "Data lost: 20m (09:40 CET → 10:00 CET); RPO 15m: missed by 5m"; !strings.Contains(r.Text, want) {
		t.Errorf("reply %q, want %q", r.Text, want)
	}
	e.mustFind(ch, "<@U0BOB0001> recorded the recovery point: the data was recovered to 09:40 CET.\nData lost: 20m")
	e.mustCommand(uBob, ch, "began 09:50")
	e.mustFind(ch, "says the failure began at 09:50 CET, 10m before it was declared.\nData lost: 10m (09:40 CET → 09:50 CET); RPO 15m: met")
	status := e.mustCommand(uErin, ch, "status")
	if want := "\nData lost: 10m (09:40 CET → 09:50 CET); RPO 15m: met\n"; !strings.Contains(status.Text, want) {
		t.Errorf("status lacks %q:\n%s", want, status.Text)
	}
	evs := e.events(1, incident.KindRecoveryPoint)
	if len(evs) != 1 || evs[0].Actor != uBob || evs[0].Data["at"] != "2026-11-21T08:40:00Z" {
		t.Errorf("recovery_point events %+v", evs)
	}
	if evs := e.events(1, incident.KindBegan); len(evs) != 1 || evs[0].Data["at"] != "2026-11-21T08:50:00Z" {
		t.Errorf("began events %+v", evs)
	}

	e.mustCommand(uAlice, ch, "resolve")
	sum := e.mustFind(ch, "*Incident #1 resolved*")
	if got := fieldOf(sum, "RPO"); got != "met: 10m of data lost (09:40 CET → 09:50 CET), RPO 15m" {
		t.Errorf("RPO field %q", got)
	}
	pm, err := e.svc.Postmortem(e.ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if pm.BeganAt != "2026-11-21T08:50:00Z" || deref(pm.RecoveryPoint) != "2026-11-21T08:40:00Z" ||
		deref(pm.RPOSeconds) != 900 || deref(pm.DataLossSeconds) != 600 || pm.RPOMet == nil || !*pm.RPOMet {
		t.Errorf("postmortem: began %s, recovery point %v, rpo %v, lost %v, met %v", pm.BeganAt, pm.RecoveryPoint, pm.RPOSeconds, pm.DataLossSeconds, pm.RPOMet)
	}
	if !strings.Contains(pm.Markdown(), "| Data lost | 10m (09:40 CET → 09:50 CET); RPO 15m: met |") {
		t.Errorf("markdown lacks the data lost:\n%s", pm.Markdown())
	}

	// After the resolve, a corrected recovery point still counts.
	e.mustCommand(uBob, ch, "recovery-point 2026-11-21 09:00")
	pm, _ = e.svc.Postmortem(e.ctx, 1)
	if deref(pm.DataLossSeconds) != 50*60 || *pm.RPOMet {
		t.Errorf("after the correction: lost %v met %v", pm.DataLossSeconds, *pm.RPOMet)
	}
	if want := "data lost 50m against an RPO of 15m: back up more often or raise rpo"; !contains(pm.Findings, want) {
		t.Errorf("findings %q lack %q", pm.Findings, want)
	}
}

// TestRecoveryPointUnknown: resolved with no recovery point, the RPO is
// null, never 0, and a finding says it could not be checked; with no RPO,
// rpo_seconds is null and nothing is said.
func TestRecoveryPointUnknown(t *testing.T) {
	t.Parallel()
	p := svcPlan(t)
	p.Services["payments-db"].BackupInterval = time.Hour
	e := newSvcEnv(t, p)
	e.declare("db-corruption", "", false)
	e.declare("checkout-down", "", false) // checkout: no rpo
	for id := int64(1); id <= 2; id++ {
		e.mustCommand(uAlice, e.channel(id), "resolve")
	}
	pm, _ := e.svc.Postmortem(e.ctx, 1)
	if pm.RecoveryPoint != nil || pm.DataLossSeconds != nil || pm.RPOMet != nil || deref(pm.RPOSeconds) != 900 {
		t.Errorf("unknown: recovery point %v, lost %v, met %v, rpo %v", pm.RecoveryPoint, pm.DataLossSeconds, pm.RPOMet, pm.RPOSeconds)
	}
	if !contains(pm.Findings, "the RPO could not be checked") {
		t.Errorf("findings %q", pm.Findings)
	}
	pm, _ = e.svc.Postmortem(e.ctx, 2)
	if pm.RPOSeconds != nil || pm.RPOMet != nil || contains(pm.Findings, "RPO") {
		t.Errorf("no rpo: rpo %v met %v findings %q", pm.RPOSeconds, pm.RPOMet, pm.Findings)
	}
	if got := fieldOf(e.mustFind(e.channel(2), "resolved*"), "RPO"); got != "none set" {
		t.Errorf("RPO field %q", got)
	}
}

// TestRecoveryPointStep: Done on a step with recovery_point asks for it
// (a dialog where there is one), and the backup interval shows in the
// finding of a missed RPO.
func TestRecoveryPointStep(t *testing.T) {
	t.Parallel()
	p := svcPlan(t)
	p.Services["checkout"].RPO = 10 * time.Minute
	p.Services["checkout"].BackupInterval = time.Hour
	p.Scenarios["checkout-down"].Steps[0].RecoveryPoint = true
	e := newSvcEnv(t, p)
	e.declare("checkout-down", "", false)
	ch := e.channel(1)
	if m := e.mustFind(ch, "restart"); !strings.Contains(m.Context, "Done asks for the recovery point") {
		t.Errorf("step context %q", m.Context)
	}
	r := e.press(uBob, ch, "Done")
	if !r.OpenRecoveryPointModal || !strings.Contains(r.Text, "/incident recovery-point WHEN") {
		t.Errorf("Done of a recovery_point step: %+v", r)
	}
	if r := e.press(uBob, ch, "Done"); r.OpenRecoveryPointModal {
		t.Errorf("Done of a step without recovery_point asked for it: %+v", r)
	}
	e.mustCommand(uBob, ch, "recovery-point 40m ago")
	e.mustCommand(uBob, ch, "resolve")
	pm, _ := e.svc.Postmortem(e.ctx, 1)
	if want := "data lost 40m against an RPO of 10m: back up more often (backup_interval 1h) or raise rpo"; !contains(pm.Findings, want) {
		t.Errorf("findings %q lack %q", pm.Findings, want)
	}
}

func fieldOf(m incident.Message, label string) string {
	for _, f := range m.Fields {
		if f.Label == label {
			return f.Value
		}
	}
	return ""
}

func contains(ss []string, sub string) bool {
	for _, s := range ss {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// TestRecoveryPointAfterBegan: data recovered to a point after the failure
// began is not shown as a backwards range "0s (10:50 → 10:30)": it says
// what that may mean, in the channel, the postmortem and its findings.
func TestRecoveryPointAfterBegan(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	e.declare("db-corruption", "", false) // 10:00 CET
	ch := e.channel(1)
	e.at(30 * time.Minute)
	if _, err := e.command(uAlice, ch, "began 09:40"); err != nil {
		t.Fatal(err)
	}
	reply, err := e.command(uAlice, ch, "recovery-point 09:50")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(reply.Text, "after the failure began (09:40 CET)") || strings.Contains(reply.Text, "→") {
		t.Errorf("recovery-point reply: %q", reply.Text)
	}
	pm, err := e.svc.Postmortem(e.ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	md := pm.Markdown()
	if !strings.Contains(md, "none counted: recovered to 09:50 CET, after the failure began (09:40 CET)") {
		t.Errorf("Markdown's Data lost row:\n%s", md)
	}
	if !strings.Contains(strings.Join(pm.Findings, "\n"), "recovered to a point after the failure began") {
		t.Errorf("findings: %q", pm.Findings)
	}
	// The resolve summary's RPO field says it too.
	if _, err := e.command(uAlice, ch, "resolve restored"); err != nil {
		t.Fatal(err)
	}
	e.tick()
	var summary string
	for _, m := range e.chat.Posts(ch) {
		summary += fmt.Sprint(m) + "\n"
	}
	if !strings.Contains(summary, "none counted: recovered to 09:50 CET, after the failure began (09:40 CET)") || strings.Contains(summary, "09:50 CET → 09:40 CET") {
		t.Errorf("resolve summary, want the RPO field to say the data was recovered after the failure began:\n%s", summary)
	}
}
