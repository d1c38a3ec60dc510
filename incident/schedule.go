package incident

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/drbot-dev/drbot/playbooks"
)

// Schedules: the plan's review.schedule and drills[].schedule.
//
// A schedule is a timer row like every other deadline (time is data,
// docs/development.md):
//
//	schedule/review                    send the contact-list review
//	schedule/review/overdue            remind again: the review is unconfirmed
//	schedule/drill/INDEX/SCENARIO      declare a drill of SCENARIO
//
// robfig/cron/v3 is used for its parser and Next only, not for its runner:
// a cron.Cron keeps its entries in memory, so a tick that falls while
// drbot is down is lost, and two processes on one database would both act
// on every tick. Here the next time a schedule fires is stored; the
// engine's Run loop already wakes at the earliest due timer; a timer fires
// in the transaction that does its work and stores its next time, so a
// tick is acted on once even when two Ticks race.
//
// The next time is Next(now), not Next(previous due): a review or a drill
// whose time passed while drbot was down fires once at start, not once per
// missed tick.
const (
	timerReview        TimerKind = "review"
	timerReviewOverdue TimerKind = "review_overdue"
	timerDrill         TimerKind = "drill"

	schedulePrefix   = "schedule/"
	reviewTimerKey   = schedulePrefix + "review"
	overdueTimerKey  = schedulePrefix + "review/overdue"
	drillTimerPrefix = schedulePrefix + "drill/"
)

// endOfTime is later than any due time: DueTimers(endOfTime, 0) lists
// every timer. The Store has no query by key prefix; the timers of a
// database are a handful per open incident, and schedules are synced only
// at start and on a plan reload.
var endOfTime = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// scheduleSpec is the Data of a schedule timer: what its next time is
// computed from. A timer whose spec differs from the plan's is set again.
type scheduleSpec struct {
	Spec     string `json:"spec"`
	TZ       string `json:"tz"`
	Scenario string `json:"scenario,omitempty"` // drills
}

func (sp scheduleSpec) data() string {
	b, _ := json.Marshal(sp) // a struct of strings always marshals
	return string(b)
}

func parseScheduleSpec(data string) (scheduleSpec, error) {
	var sp scheduleSpec
	if err := json.Unmarshal([]byte(data), &sp); err != nil {
		return sp, fmt.Errorf("schedule data %q: %w", data, err)
	}
	return sp, nil
}

// next is the first time after now the schedule fires, read in its time
// zone ("0 9 * * 1" is 09:00 in the plan's timezone), in UTC, by the
// daylight-saving rule of nextFire. It is zero when the spec never fires
// (February 30th).
func (sp scheduleSpec) next(now time.Time) (time.Time, error) {
	sched, err := playbooks.ParseSchedule(sp.Spec)
	if err != nil {
		return time.Time{}, err
	}
	loc := time.UTC
	if sp.TZ != "" && sp.TZ != "UTC" {
		if loc, err = time.LoadLocation(sp.TZ); err != nil {
			return time.Time{}, fmt.Errorf("schedule %q: time zone: %w", sp.Spec, err)
		}
	}
	return nextFire(sched, now, loc), nil
}

// planZone names the plan's time zone for schedules.
func planZone(p *playbooks.Plan) string {
	if p.Location != nil {
		return p.Location.String()
	}
	if p.Timezone != "" {
		return p.Timezone
	}
	return "UTC"
}

// drillTimerKey names drill i of the plan. The index keeps two drills of
// one scenario apart; the scenario makes the key readable.
func drillTimerKey(i int, scenario string) string {
	return drillTimerPrefix + strconv.Itoa(i) + "/" + scenario
}

// planSchedules returns the schedule timers plan p wants, without due
// times.
func planSchedules(p *playbooks.Plan) []Timer {
	var out []Timer
	zone := planZone(p)
	if p.Review != nil && strings.TrimSpace(p.Review.Schedule) != "" {
		out = append(out, Timer{Key: reviewTimerKey, Kind: timerReview, Data: scheduleSpec{Spec: p.Review.Schedule, TZ: zone}.data()})
	}
	for i, d := range p.Drills {
		if strings.TrimSpace(d.Schedule) == "" || d.Scenario == "" {
			continue
		}
		out = append(out, Timer{Key: drillTimerKey(i, d.Scenario), Kind: timerDrill, Data: scheduleSpec{Spec: d.Schedule, TZ: zone, Scenario: d.Scenario}.data()})
	}
	return out
}

// syncSchedules makes the schedule timers those of plan p: a schedule new
// or changed (spec or time zone) gets its next time from now; one
// unchanged keeps its due time, even a time that passed while drbot was
// down, so that it fires once at the next Tick; one the plan no longer has
// is removed.
func (s *Engine) syncSchedules(ctx context.Context, p *playbooks.Plan) error {
	var logs []func()
	changed := false
	err := s.cfg.Store.Update(ctx, func(tx Tx) error {
		logs, changed = nil, false
		now := s.now()
		all, err := tx.DueTimers(endOfTime, 0)
		if err != nil {
			return fmt.Errorf("read timers: %w", err)
		}
		have := map[string]Timer{}
		for _, t := range all {
			if strings.HasPrefix(t.Key, schedulePrefix) {
				have[t.Key] = t
			}
		}
		keep := map[string]bool{}
		for _, t := range planSchedules(p) {
			keep[t.Key] = true
			if old, ok := have[t.Key]; ok && old.Kind == t.Kind && old.Data == t.Data {
				continue
			}
			sp, err := parseScheduleSpec(t.Data)
			if err != nil {
				return err
			}
			due, err := sp.next(now)
			if err != nil {
				return fmt.Errorf("schedule %s: %w", t.Key, err)
			}
			if due.IsZero() {
				key := t.Key
				logs = append(logs, func() {
					s.cfg.Logger.Warn("schedule never fires; nothing scheduled", "schedule", key, "spec", sp.Spec)
				})
				if err := tx.DeleteTimer(t.Key); err != nil {
					return fmt.Errorf("delete timer %s: %w", t.Key, err)
				}
				continue
			}
			t.Due = due
			if err := tx.SetTimer(t); err != nil {
				return fmt.Errorf("set timer %s: %w", t.Key, err)
			}
			changed = true
			logs = append(logs, func() {
				s.cfg.Logger.Info("schedule set", "schedule", t.Key, "spec", sp.Spec, "tz", sp.TZ, "next", due)
			})
		}
		for key := range have {
			// The overdue reminder belongs to the review: it stays while
			// the plan has one.
			if keep[key] || key == overdueTimerKey && p.Review != nil {
				continue
			}
			if err := tx.DeleteTimer(key); err != nil {
				return fmt.Errorf("delete timer %s: %w", key, err)
			}
			logs = append(logs, func() { s.cfg.Logger.Info("schedule removed: not in the plan any more", "schedule", key) })
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("schedules of plan %.12s: %w", p.Hash, err)
	}
	for _, f := range logs {
		f()
	}
	if changed {
		s.Wake()
	}
	return nil
}

// handleSchedule fires a schedule timer (already deleted) in tx and sets
// its next time. It returns what is left to do once committed, for a
// drill with the effects of the drill it declared.
func (s *Engine) handleSchedule(tx Tx, t Timer) (*effects, error) {
	now := s.now()
	done := &effects{changed: true}
	if t.Kind == timerReviewOverdue {
		return done, s.reviewOverdue(tx, t, now, done)
	}
	sp, err := parseScheduleSpec(t.Data)
	if err != nil {
		return nil, err
	}
	// Next(now), not Next(t.Due): see the top of this file.
	next, err := sp.next(now)
	if err != nil {
		return nil, fmt.Errorf("schedule %s: %w", t.Key, err)
	}
	if next.IsZero() {
		done.after(func() { s.cfg.Logger.Warn("schedule never fires again", "schedule", t.Key, "spec", sp.Spec) })
	} else {
		t.Due = next
		if err := tx.SetTimer(t); err != nil {
			return nil, fmt.Errorf("set timer %s: %w", t.Key, err)
		}
	}
	p := s.Plan()
	switch t.Kind {
	case timerReview:
		if p.Review == nil {
			// The plan lost its review since; the next sync removes it.
			return done, nil
		}
		_, err := s.sendReviewTx(tx, p, now, "", false, done)
		return done, err
	case timerDrill:
		return s.scheduledDrill(tx, p, sp, t, next, done)
	}
	return nil, fmt.Errorf("unknown schedule kind %q", t.Kind)
}

// scheduledDrill declares the drill of a drills: schedule. It waits for
// the next tick (next; zero when there is none) while a real incident is
// open (a drill must not page people who are recovering for real) or
// while the previous drill of the scenario is still open, and says so:
// in the log at warn, always, and in review.channel when the plan has
// one, so that the people who expected the exercise know why it did not
// come.
func (s *Engine) scheduledDrill(tx Tx, p *playbooks.Plan, sp scheduleSpec, t Timer, next time.Time, done *effects) (*effects, error) {
	sc := p.Scenario(sp.Scenario)
	if sc == nil {
		done.after(func() {
			s.cfg.Logger.Warn("scheduled drill skipped: the scenario is not in the plan", "schedule", t.Key, "scenario", sp.Scenario)
		})
		return done, nil
	}
	open, err := tx.Incidents(Filter{State: StateOpen})
	if err != nil {
		return nil, fmt.Errorf("open incidents: %w", err)
	}
	for _, inc := range open {
		reason, why := "", ""
		switch {
		case !inc.Drill:
			reason = fmt.Sprintf("incident #%d is open", inc.ID)
			why = fmt.Sprintf("incident #%d (%s) is open, and a drill must not page people who are recovering for real", inc.ID, escape(inc.Title))
		case inc.Scenario == sc.ID:
			reason = fmt.Sprintf("drill #%d of this scenario is still open", inc.ID)
			why = fmt.Sprintf("the previous drill, #%d, is still open; resolve it with /incident resolve in %s", inc.ID, channelLink(inc))
		}
		if reason == "" {
			continue
		}
		if p.Review != nil && p.Review.Channel != "" {
			out := &Outgoing{Lane: reviewChannelLane, Kind: OutPost, Body: OutBody{
				Channel: p.Review.Channel,
				Message: &Message{Text: skippedDrillText(p, sc, why, next)},
				Purpose: "tell " + p.Review.Channel + " that the scheduled drill of " + sc.ID + " was skipped",
			}}
			if err := tx.Enqueue(out); err != nil {
				return nil, fmt.Errorf("enqueue the skipped drill notice: %w", err)
			}
		}
		done.after(func() {
			args := []any{"scenario", sc.ID, "reason", reason, "schedule", t.Key}
			if next.IsZero() {
				args = append(args, "next", "never")
			} else {
				args = append(args, "next", next)
			}
			s.cfg.Logger.Warn("scheduled drill skipped until its next time", args...)
		})
		return done, nil
	}
	summary := fmt.Sprintf("Scheduled drill (schedule %q, %s).", sp.Spec, sp.TZ)
	o, err := s.declareTx(tx, p, sc, summary, DeclareRequest{Scenario: sc.ID, Summary: summary, Drill: true})
	if err != nil {
		return nil, fmt.Errorf("declare the scheduled drill of %s: %w", sc.ID, err)
	}
	o.changed = true
	o.afters = append(done.afters, o.afters...)
	o.after(func() {
		s.cfg.Metrics.Declared(true)
		s.cfg.Logger.Info("scheduled drill declared", "incident", o.inc.ID, "scenario", sc.ID, "channel", o.inc.ChannelName, "next", t.Due)
	})
	return &o.effects, nil
}

// skippedDrillText tells review.channel that a scheduled drill did not
// start, why (escaped already), and when the next one is.
func skippedDrillText(p *playbooks.Plan, sc *playbooks.Scenario, why string, next time.Time) string {
	t := fmt.Sprintf(":calendar: The scheduled drill of *%s* (%s) did not start: %s.", escape(sc.ID), escape(sc.Title), why)
	if next.IsZero() {
		return t + " Its schedule does not fire again."
	}
	return t + " The next one is due " + stamp(next, p) + "."
}
