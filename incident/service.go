package incident

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/drbot-dev/drbot/playbooks"
)

// Metrics receives counts from the Service; bot implements it with
// Prometheus. Every method must be cheap and safe for concurrent use.
type Metrics interface {
	Declared(drill bool)
	Resolved()
	PageSent()
	Acknowledged(after time.Duration)
}

// Config is what a Service is made from.
type Config struct {
	Plan    *playbooks.Plan
	Store   Store
	Chat    Chat
	Now     func() time.Time // default time.Now; always used in UTC
	Logger  *slog.Logger     // default discards
	Metrics Metrics          // optional
}

// Service owns every incident rule: declare, page, escalate, walk steps,
// gate approvals, track the RTO, resolve and write postmortems.
type Service struct {
	cfg Config
}

var errTODO = errors.New("not implemented yet")

// New returns a Service.
func New(cfg Config) (*Service, error) { return &Service{cfg: cfg}, nil }

// Plan returns the current plan.
func (s *Service) Plan() *playbooks.Plan { return s.cfg.Plan }

// SetPlan replaces the plan for incidents declared from now on; open
// incidents keep the plan they were declared with.
func (s *Service) SetPlan(ctx context.Context, p *playbooks.Plan) error { return errTODO }

// Scenarios lists the plan's scenarios in file order.
func (s *Service) Scenarios() []ScenarioInfo { return nil }

// Command runs "/incident TEXT".
func (s *Service) Command(ctx context.Context, req CommandRequest) (Reply, error) {
	return Reply{}, errTODO
}

// Press handles a button press.
func (s *Service) Press(ctx context.Context, req PressRequest) (Reply, error) {
	return Reply{}, errTODO
}

// Declare opens an incident.
func (s *Service) Declare(ctx context.Context, req DeclareRequest) (*Incident, error) {
	return nil, errTODO
}

// AddNote records a note in the incident whose channel is channelID (for
// pinned messages and :pushpin: reactions seen through the Events API).
func (s *Service) AddNote(ctx context.Context, channelID, userID, text string) error { return errTODO }

// Tick fires every timer that is due and delivers every outbox message
// that is due, once each. Tests and the console call it after moving the
// clock; Run calls it in a loop.
func (s *Service) Tick(ctx context.Context) error { return errTODO }

// Run works the timers and the outbox until ctx ends, waking at the
// earliest due time or when Wake is called.
func (s *Service) Run(ctx context.Context) error { return errTODO }

// Wake tells Run that something new is due.
func (s *Service) Wake() {}

// Postmortem computes the postmortem of incident id.
func (s *Service) Postmortem(ctx context.Context, id int64) (*Postmortem, error) {
	return nil, errTODO
}

// Incidents lists incidents.
func (s *Service) Incidents(ctx context.Context, f Filter) ([]*Incident, error) {
	return nil, errTODO
}

// NextDue returns the earliest due time of a timer or an outbox message.
func (s *Service) NextDue(ctx context.Context) (time.Time, bool, error) {
	return time.Time{}, false, errTODO
}

// SeenEvent records a Slack Events API event id and reports whether it had
// been seen before, so that a retried event never acts twice.
func (s *Service) SeenEvent(ctx context.Context, eventID string) (bool, error) {
	return false, errTODO
}
