package incident

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drbot-dev/drbot/playbooks"
)

// runsBetween lists the times spec fires in (from, until], each as the
// zone's clock reads it.
func runsBetween(t *testing.T, spec, zone string, from, until time.Time) []string {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	sched, err := playbooks.ParseSchedule(spec)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for now := from; ; {
		next := nextFire(sched, now, loc)
		if next.IsZero() || next.After(until) {
			return out
		}
		if !next.After(now) {
			t.Fatalf("%s: next firing %s is not after %s", spec, next, now)
		}
		out = append(out, next.In(loc).Format("Mon 2 Jan 15:04 MST"))
		now = next
	}
}

// Each schedule fires once on the nights the clocks change: at the jump
// when its time is skipped, at the first occurrence when its time comes
// twice. Europe/Oslo shifts by an hour at 02:00 (29 Mar 2026) and 03:00
// (25 Oct 2026); Australia/Lord_Howe by 30 minutes, at 02:00 (4 Oct 2026:
// to 02:30) and 02:00 (5 Apr 2026: back to 01:30); America/New_York, west
// of UTC, at 02:00 (8 Mar 2026) and 02:00 (1 Nov 2026).
func TestNextFireAcrossDaylightSaving(t *testing.T) {
	oslo := func(y int, m time.Month, d, h, mi int) time.Time {
		loc, _ := time.LoadLocation("Europe/Oslo")
		return time.Date(y, m, d, h, mi, 0, 0, loc)
	}
	lordHowe := func(y int, m time.Month, d, h, mi int) time.Time {
		loc, _ := time.LoadLocation("Australia/Lord_Howe")
		return time.Date(y, m, d, h, mi, 0, 0, loc)
	}
	tests := []struct {
		name, zone, spec string
		from, until      time.Time
		want             []string
	}{
		{
			name: "Oslo spring forward: 02:30 is skipped, fires at 03:00 CEST",
			zone: "Europe/Oslo", spec: "30 2 * * *",
			from: oslo(2026, 3, 28, 0, 0), until: oslo(2026, 3, 30, 23, 0),
			want: []string{"Sat 28 Mar 02:30 CET", "Sun 29 Mar 03:00 CEST", "Mon 30 Mar 02:30 CEST"},
		},
		{
			name: "Oslo fall back: 02:30 comes twice, fires at the first",
			zone: "Europe/Oslo", spec: "30 2 * * *",
			from: oslo(2026, 10, 24, 0, 0), until: oslo(2026, 10, 26, 23, 0),
			want: []string{"Sat 24 Oct 02:30 CEST", "Sun 25 Oct 02:30 CEST", "Mon 26 Oct 02:30 CET"},
		},
		{
			name: "Oslo weekly Sunday drill is not skipped that week",
			zone: "Europe/Oslo", spec: "30 2 * * 0",
			from: oslo(2026, 3, 21, 12, 0), until: oslo(2026, 4, 6, 0, 0),
			want: []string{"Sun 22 Mar 02:30 CET", "Sun 29 Mar 03:00 CEST", "Sun 5 Apr 02:30 CEST"},
		},
		{
			name: "Oslo: every quarter hour of the skipped hour fires once, at the jump",
			zone: "Europe/Oslo", spec: "*/15 2 * * *",
			from: oslo(2026, 3, 29, 0, 0), until: oslo(2026, 3, 29, 23, 0),
			want: []string{"Sun 29 Mar 03:00 CEST"},
		},
		{
			name: "Oslo: a repeated hour fires once, the first time",
			zone: "Europe/Oslo", spec: "0,30 2 * * *",
			from: oslo(2026, 10, 25, 0, 0), until: oslo(2026, 10, 25, 23, 0),
			want: []string{"Sun 25 Oct 02:00 CEST", "Sun 25 Oct 02:30 CEST"},
		},
		{
			name: "Oslo @daily: midnight, once a day",
			zone: "Europe/Oslo", spec: "@daily",
			from: oslo(2026, 10, 24, 12, 0), until: oslo(2026, 10, 26, 12, 0),
			want: []string{"Sun 25 Oct 00:00 CEST", "Mon 26 Oct 00:00 CET"},
		},
		{
			name: "Oslo @every 24h is elapsed time: 03:30 CEST after 02:30 CET",
			zone: "Europe/Oslo", spec: "@every 24h",
			from: oslo(2026, 3, 27, 2, 30), until: oslo(2026, 3, 30, 0, 0),
			want: []string{"Sat 28 Mar 02:30 CET", "Sun 29 Mar 03:30 CEST"},
		},
		{
			name: "Lord Howe spring forward by 30 minutes: 02:15 fires at 02:30",
			zone: "Australia/Lord_Howe", spec: "15 2 * * *",
			from: lordHowe(2026, 10, 3, 0, 0), until: lordHowe(2026, 10, 5, 23, 0),
			want: []string{"Sat 3 Oct 02:15 +1030", "Sun 4 Oct 02:30 +11", "Mon 5 Oct 02:15 +11"},
		},
		{
			name: "Lord Howe fall back by 30 minutes: 01:45 fires once",
			zone: "Australia/Lord_Howe", spec: "45 1 * * *",
			from: lordHowe(2026, 4, 4, 0, 0), until: lordHowe(2026, 4, 6, 23, 0),
			want: []string{"Sat 4 Apr 01:45 +11", "Sun 5 Apr 01:45 +11", "Mon 6 Apr 01:45 +1030"},
		},
		{
			name: "Lord Howe weekly Sunday 02:15 drill is not skipped",
			zone: "Australia/Lord_Howe", spec: "15 2 * * SUN",
			from: lordHowe(2026, 9, 28, 0, 0), until: lordHowe(2026, 10, 12, 0, 0),
			want: []string{"Sun 4 Oct 02:30 +11", "Sun 11 Oct 02:15 +11"},
		},
		{
			name: "New York (west of UTC) spring forward: 02:30 fires at 03:00 EDT",
			zone: "America/New_York", spec: "30 2 * * *",
			from: time.Date(2026, 3, 7, 12, 0, 0, 0, time.UTC), until: time.Date(2026, 3, 9, 12, 0, 0, 0, time.UTC),
			want: []string{"Sun 8 Mar 03:00 EDT", "Mon 9 Mar 02:30 EDT"},
		},
		{
			name: "New York fall back: 01:30 fires once, in EDT",
			zone: "America/New_York", spec: "30 1 * * *",
			from: time.Date(2026, 10, 31, 12, 0, 0, 0, time.UTC), until: time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC),
			want: []string{"Sun 1 Nov 01:30 EDT", "Mon 2 Nov 01:30 EST"},
		},
		{
			name: "CRON_TZ= in the spec wins over the plan's zone",
			zone: "UTC", spec: "CRON_TZ=Europe/Oslo 30 2 * * *",
			from: oslo(2026, 3, 29, 0, 0), until: oslo(2026, 3, 29, 23, 0),
			want: []string{"Sun 29 Mar 01:00 UTC"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runsBetween(t, tt.spec, tt.zone, tt.from, tt.until)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("firings of %q in %s (-want +got):\n%s", tt.spec, tt.zone, diff)
			}
		})
	}
}

// From inside the repeated hour (the second 02:10, in CET), the next firing
// of 02:30 is the next day's: the first 02:30 has passed.
func TestNextFireFromInsideTheRepeatedHour(t *testing.T) {
	loc, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		t.Fatal(err)
	}
	sched, err := playbooks.ParseSchedule("30 2 * * *")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 10, 25, 1, 10, 0, 0, time.UTC) // 02:10 CET
	got := nextFire(sched, now, loc).In(loc).Format("Mon 2 Jan 15:04 MST")
	if want := "Mon 26 Oct 02:30 CET"; got != want {
		t.Errorf("next firing from 02:10 CET = %s, want %s", got, want)
	}
}

// Why nextFire exists: robfig/cron's own Next, given times in the zone,
// skips the review on the night 02:30 is skipped and fires it twice on the
// night 02:30 comes twice. If an upgrade fixes that, nextFire can go.
func TestRobfigNextAcrossDaylightSaving(t *testing.T) {
	loc, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		t.Fatal(err)
	}
	sched, err := playbooks.ParseSchedule("30 2 * * *")
	if err != nil {
		t.Fatal(err)
	}
	firings := func(from time.Time, n int) []string {
		var out []string
		for now := from.In(loc); len(out) < n; {
			now = sched.Next(now)
			out = append(out, now.Format("Mon 2 Jan 15:04 MST"))
		}
		return out
	}
	got := append(firings(time.Date(2026, 3, 28, 12, 0, 0, 0, loc), 1), firings(time.Date(2026, 10, 24, 12, 0, 0, 0, loc), 3)...)
	want := []string{"Mon 30 Mar 02:30 CEST", "Sun 25 Oct 02:30 CEST", "Sun 25 Oct 02:30 CET", "Mon 26 Oct 02:30 CET"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("robfig's Next (-want +got):\n%s", diff)
	}
}
