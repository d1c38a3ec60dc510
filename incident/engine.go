package incident

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/drbot-dev/drbot/playbooks"
)

// Metrics receives counts from the Engine; bot implements it with
// Prometheus. Every method must be cheap and safe for concurrent use.
type Metrics interface {
	Declared(drill bool)
	Resolved()
	PageSent()
	Acknowledged(after time.Duration)
}

// Config is what an Engine is made from.
type Config struct {
	Plan  *playbooks.Plan
	Store Store
	Chat  Chat // needed by Tick and Run to deliver the outbox
	// Directory and Webhooks default to Chat when it implements them.
	// Without a Directory, contacts known by email only cannot be reached
	// and the review cannot check accounts; without Webhooks, the paging
	// webhook is not called. Either failure is recorded in the timeline.
	Directory Directory
	Webhooks  Webhooks
	Now       func() time.Time // default time.Now; always used in UTC
	Logger    *slog.Logger     // default discards
	Metrics   Metrics          // optional
	// PublicURL is the address people reach drbot's web pages at
	// (DRBOT_PUBLIC_URL), without a trailing slash; "" when the pages are
	// off. It turns on "/incident web" and the links to an incident's
	// page in the pinned summary and the resolve summary.
	PublicURL string
}

// Engine owns every incident rule: declare, page, escalate, walk steps,
// gate approvals, track the RTO, resolve and write postmortems.
//
// Every change of state happens in one Store.Update: the incident, its
// timeline, its timers and the Slack calls it causes (as outbox rows) are
// written together or not at all. Nothing here calls Chat directly except
// the outbox worker (Deliver), so a crash can repeat a message but never
// lose one, and a restarted process carries on from the database alone.
type Engine struct {
	cfg Config

	// mu guards cfg.Plan (the current plan) and plans.
	mu sync.RWMutex
	// plans caches every plan an incident was declared with, by hash, so
	// that an open incident keeps its plan across reloads.
	plans map[string]*playbooks.Plan

	// wakeTimers and wakeOutbox wake Run's two loops (Wake).
	wakeTimers, wakeOutbox chan struct{}
	// timerMu makes the firing of timers one caller at a time (Run's timer
	// loop, Tick), so that they fire in order of their due times.
	timerMu sync.Mutex
	// deliverMu makes Deliver one call at a time in this process: two
	// would read the same lane heads and send each message twice. It is
	// not timerMu, so that timers fire while Slack is slow to answer.
	deliverMu sync.Mutex
	// pace spaces the posts of each conversation (outbox_pace.go).
	pace pacer
	// holds says which kinds of message the chat holds back after a 429,
	// and until when (outbox_hold.go).
	holds kindHolds
}

type noMetrics struct{}

func (noMetrics) Declared(bool)              {}
func (noMetrics) Resolved()                  {}
func (noMetrics) PageSent()                  {}
func (noMetrics) Acknowledged(time.Duration) {}

// New returns an Engine. It records the plan in the store (when it has a
// hash) so that incidents declared with it can be replayed after the file
// changes.
func New(cfg Config) (*Engine, error) {
	if cfg.Plan == nil {
		return nil, errors.New("incident: config has no plan")
	}
	if cfg.Store == nil {
		return nil, errors.New("incident: config has no store")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = noMetrics{}
	}
	if d, ok := cfg.Chat.(Directory); ok && cfg.Directory == nil {
		cfg.Directory = d
	}
	if w, ok := cfg.Chat.(Webhooks); ok && cfg.Webhooks == nil {
		cfg.Webhooks = w
	}
	s := &Engine{
		cfg:        cfg,
		plans:      map[string]*playbooks.Plan{},
		wakeTimers: make(chan struct{}, 1),
		wakeOutbox: make(chan struct{}, 1),
	}
	if err := s.savePlan(context.Background(), cfg.Plan); err != nil {
		return nil, err
	}
	if err := s.syncSchedules(context.Background(), cfg.Plan); err != nil {
		return nil, err
	}
	if err := s.ensureHousekeeping(context.Background()); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Engine) savePlan(ctx context.Context, p *playbooks.Plan) error {
	if p.Hash == "" {
		return nil
	}
	err := s.cfg.Store.Update(ctx, func(tx Tx) error { return tx.SavePlan(p.Hash, p.Source) })
	if err != nil {
		return fmt.Errorf("save plan %.12s: %w", p.Hash, err)
	}
	s.mu.Lock()
	s.plans[p.Hash] = p
	s.mu.Unlock()
	return nil
}

// Plan returns the current plan.
func (s *Engine) Plan() *playbooks.Plan {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cfg.Plan
}

// SetPlan replaces the plan for incidents declared from now on; open
// incidents keep the plan they were declared with. The review and drill
// schedules become the new plan's: new or changed ones count from now,
// removed ones are dropped.
func (s *Engine) SetPlan(ctx context.Context, p *playbooks.Plan) error {
	if p == nil {
		return errors.New("set plan: nil plan")
	}
	if err := s.savePlan(ctx, p); err != nil {
		return err
	}
	if err := s.syncSchedules(ctx, p); err != nil {
		return err
	}
	s.mu.Lock()
	s.cfg.Plan = p
	s.mu.Unlock()
	return nil
}

// planFor returns the plan incident inc was declared with.
func (s *Engine) planFor(ctx context.Context, inc *Incident) (*playbooks.Plan, error) {
	if p := s.cachedPlan(inc.PlanHash); p != nil {
		return p, nil
	}
	var p *playbooks.Plan
	err := s.cfg.Store.View(ctx, func(tx Tx) error {
		var err error
		p, err = s.planTx(tx, inc)
		return err
	})
	return p, err
}

func (s *Engine) cachedPlan(hash string) *playbooks.Plan {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if hash == "" || hash == s.cfg.Plan.Hash {
		return s.cfg.Plan
	}
	return s.plans[hash]
}

// planTx is planFor inside a transaction (a Store does not nest them). A
// plan not seen by this process is re-read from the source the store kept
// when it was current.
func (s *Engine) planTx(tx Tx, inc *Incident) (*playbooks.Plan, error) {
	if p := s.cachedPlan(inc.PlanHash); p != nil {
		return p, nil
	}
	src, err := tx.PlanSource(inc.PlanHash)
	if err != nil {
		// %v, not %w: a plan missing from the store is an internal
		// failure, not the incident being not found.
		return nil, fmt.Errorf("incident %d: its plan %.12s: %v", inc.ID, inc.PlanHash, err)
	}
	// An unset variable of paging.webhook does not stop the incident: only
	// its webhook fails, saying which variable to set.
	p, diags := playbooks.ParseWith(fmt.Sprintf("plan@%.12s", inc.PlanHash), src, playbooks.Options{UnsetIsWarning: true})
	if err := diags.Err(); err != nil {
		return nil, fmt.Errorf("incident %d: parse its plan %.12s: %w", inc.ID, inc.PlanHash, err)
	}
	s.mu.Lock()
	s.plans[inc.PlanHash] = p
	s.mu.Unlock()
	return p, nil
}

// Scenarios lists the plan's scenarios in file order.
func (s *Engine) Scenarios() []ScenarioInfo {
	p := s.Plan()
	out := make([]ScenarioInfo, 0, len(p.ScenarioOrder))
	for _, id := range p.ScenarioOrder {
		sc := p.Scenarios[id]
		if sc == nil {
			continue
		}
		out = append(out, ScenarioInfo{ID: sc.ID, Title: sc.Title, Service: sc.Service, Severity: sc.Severity, RTO: p.RTO(sc)})
	}
	return out
}

// Postmortem computes the postmortem of incident id, as of now for an
// incident still open.
func (s *Engine) Postmortem(ctx context.Context, id int64) (*Postmortem, error) {
	var pm *Postmortem
	err := s.cfg.Store.View(ctx, func(tx Tx) error {
		inc, err := tx.Incident(id)
		if err != nil {
			return err
		}
		events, err := tx.Timeline(id)
		if err != nil {
			return fmt.Errorf("timeline of incident %d: %w", id, err)
		}
		p, err := s.planTx(tx, inc)
		if err != nil {
			return err
		}
		pm = BuildPostmortem(inc, events, p, s.now())
		return nil
	})
	if err != nil {
		return nil, err
	}
	return pm, nil
}

// Incidents lists incidents, newest first.
func (s *Engine) Incidents(ctx context.Context, f Filter) ([]*Incident, error) {
	var out []*Incident
	err := s.cfg.Store.View(ctx, func(tx Tx) error {
		var err error
		out, err = tx.Incidents(f)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	return out, nil
}

// NextDue returns the earliest due time of a timer or an outbox message.
func (s *Engine) NextDue(ctx context.Context) (time.Time, bool, error) {
	var next time.Time
	var found bool
	err := s.cfg.Store.View(ctx, func(tx Tx) error {
		t, ok, err := tx.NextTimer()
		if err != nil {
			return fmt.Errorf("next timer: %w", err)
		}
		o, ok2, err := tx.NextOutgoing()
		if err != nil {
			return fmt.Errorf("next outgoing: %w", err)
		}
		switch {
		case ok && ok2:
			next, found = t, true
			if o.Before(t) {
				next = o
			}
		case ok:
			next, found = t, true
		case ok2:
			next, found = o, true
		}
		return nil
	})
	return next, found, err
}

// SeenEvent records a Slack Events API event id and reports whether it had
// been seen before, so that a retried event never acts twice.
func (s *Engine) SeenEvent(ctx context.Context, eventID string) (bool, error) {
	if eventID == "" {
		return false, nil
	}
	fresh, err := s.putFirst(ctx, "event/"+eventID)
	if err != nil {
		return false, fmt.Errorf("record event %s: %w", eventID, err)
	}
	return !fresh, nil
}

// putFirst records key with the time now, and reports whether it is the
// first to (PutIfAbsent).
func (s *Engine) putFirst(ctx context.Context, key string) (bool, error) {
	var fresh bool
	err := s.cfg.Store.Update(ctx, func(tx Tx) error {
		var err error
		fresh, err = tx.PutIfAbsent(key, s.now().Format(time.RFC3339Nano))
		return err
	})
	return fresh, err
}

// FirstRequest records the signature of a signed Slack request (a command
// or a button press) and reports whether it is the first time any instance
// sharing the store sees it: a replay of a signed request to another
// instance is refused as it would be by the first. Housekeeping forgets
// a signature after an hour (housekeeping.go): the 5-minute signature
// window makes an older one unusable anyway.
func (s *Engine) FirstRequest(ctx context.Context, signature string) (bool, error) {
	fresh, err := s.putFirst(ctx, "request/"+signature)
	if err != nil {
		return false, fmt.Errorf("record a signed request: %w", err)
	}
	return fresh, nil
}

// AddNote records a note in the incident whose channel is channelID (for
// pinned messages and :pushpin: reactions seen through the Events API). It
// posts nothing: the message noted is already in the channel.
func (s *Engine) AddNote(ctx context.Context, channelID, userID, text string) error {
	_, err := s.addNote(ctx, "", channelID, userID, text)
	return err
}

// AddNoteForEvent is AddNote for something the chat surface may report
// more than once (an Events API callback Slack retries, a message pinned
// twice), named by eventID: the event is recorded as seen in the same
// transaction as the note, so that a crash leaves both or neither (marked
// seen first, the note could be lost for good; noted first, it could be
// noted twice). An eventID recorded before, by this or SeenEvent, adds
// nothing and reports dup. An empty text adds nothing, and a channel of
// no incident is ENOTFOUND; neither records the event.
func (s *Engine) AddNoteForEvent(ctx context.Context, eventID, channelID, userID, text string) (dup bool, err error) {
	if eventID == "" {
		return false, Errorf(EINVALID, "a note for an event needs the event's id")
	}
	return s.addNote(ctx, eventID, channelID, userID, text)
}

// addNote adds a note, once per eventID when it is not empty.
func (s *Engine) addNote(ctx context.Context, eventID, channelID, userID, text string) (dup bool, err error) {
	text = truncateRunes(strings.TrimSpace(cleanText(text)), MaxText)
	if text == "" {
		return false, nil
	}
	err = s.cfg.Store.Update(ctx, func(tx Tx) error {
		dup = false
		inc, err := tx.IncidentByChannel(channelID)
		if err != nil {
			return err
		}
		if eventID != "" {
			// The same key as SeenEvent's, so that either sees the other.
			fresh, err := tx.PutIfAbsent("event/"+eventID, s.now().Format(time.RFC3339Nano))
			if err != nil {
				return fmt.Errorf("record event %s: %w", eventID, err)
			}
			if !fresh {
				dup = true
				return nil
			}
		}
		o, err := s.newOp(tx, inc)
		if err != nil {
			return err
		}
		o.event(KindNote, userID, text, map[string]string{"source": "slack"})
		return o.err
	})
	if err != nil {
		return false, fmt.Errorf("add note in %s: %w", channelID, err)
	}
	return dup, nil
}

// now is the service's clock: UTC, to the millisecond (what the store
// keeps), so that a time read back equals the time written.
func (s *Engine) now() time.Time {
	return s.cfg.Now().UTC().Truncate(time.Millisecond)
}

// update runs fn on incident id in one transaction and saves it after. It
// wakes Run when fn enqueued or scheduled anything.
func (s *Engine) update(ctx context.Context, id int64, fn func(o *op) error) error {
	var done *op
	err := s.cfg.Store.Update(ctx, func(tx Tx) error {
		done = nil
		o, err := s.opOf(tx, id)
		if err != nil {
			return err
		}
		if err := fn(o); err != nil {
			return err
		}
		if err := o.save(); err != nil {
			return err
		}
		done = o
		return nil
	})
	if err == nil {
		s.committed(done)
	}
	return err
}

// updateEffects runs fn in one write transaction of no incident (a review,
// a schedule) with the effects it leaves, done once it committed.
func (s *Engine) updateEffects(ctx context.Context, fn func(tx Tx, done *effects) error) error {
	var done *effects
	err := s.cfg.Store.Update(ctx, func(tx Tx) error {
		done = &effects{}
		return fn(tx, done)
	})
	if err == nil {
		s.apply(done)
	}
	return err
}

// committed runs what waits for op's transaction to be committed.
func (s *Engine) committed(o *op) {
	if o != nil {
		s.apply(&o.effects)
	}
}

// apply does what a committed transaction left to do: its afters, and
// waking Run when it enqueued or scheduled anything. e may be nil.
func (s *Engine) apply(e *effects) {
	if e == nil {
		return
	}
	for _, f := range e.afters {
		f()
	}
	if e.changed {
		s.Wake()
	}
}
