package incident

import (
	"time"

	"github.com/drbot-dev/drbot/playbooks"
)

// Projection is where an open incident stands against its RTO at a
// moment, computed by the same rules as the RTO alerts (rto.go): the
// projected finish is now plus the longest path of estimates still ahead,
// the current step counting only for what is left of its estimate.
type Projection struct {
	Deadline time.Time // declared + RTO
	Finish   time.Time // projected finish; now when Done
	Path     []string  // the steps still ahead on the longest path, the current one first
	Done     bool      // no step left (the playbook ended, or the incident is resolved)
	// Thresholds are the scenario's RTO alert thresholds in percent,
	// ascending, 100 (the breach) last.
	Thresholds []int
}

// Late reports whether the projected finish is past the deadline.
func (p Projection) Late() bool { return !p.Done && p.Finish.After(p.Deadline) }

// Project computes inc's projection at now with scenario sc of its plan.
// It reads nothing and changes nothing; the web view shows it.
func Project(inc *Incident, sc *playbooks.Scenario, now time.Time) Projection {
	p := projectAt(inc, sc, now)
	return Projection{Deadline: p.deadline, Finish: p.finish, Path: p.path, Done: p.done, Thresholds: rtoThresholds(sc)}
}
