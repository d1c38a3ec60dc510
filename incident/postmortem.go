package incident

import "time"

// Postmortem is the record kept of a resolved (or still open) incident. Its
// JSON is a contract (docs/http.md, "Postmortems"): the first block of fields may not
// change; the rest are additions.
type Postmortem struct {
	ID                   int64     `json:"id"`
	Scenario             string    `json:"scenario"`
	Title                string    `json:"title"`
	Summary              string    `json:"summary"`
	Severity             string    `json:"severity"`
	Drill                bool      `json:"drill"`
	Service              string    `json:"service"`
	State                State     `json:"state"`
	DeclaredAt           string    `json:"declared_at"`
	ResolvedAt           string    `json:"resolved_at"`
	RTOSeconds           int64     `json:"rto_seconds"`
	RTOMet               bool      `json:"rto_met"`
	TimeToAckSeconds     *int64    `json:"time_to_ack_seconds"` // null when nobody acknowledged; leaves out the declarer's own page
	TimeToRecoverSeconds int64     `json:"time_to_recover_seconds"`
	Timeline             []PMEvent `json:"timeline"`

	// Additions.
	AsOf             string       `json:"as_of"`              // when it was computed, never before resolved_at or the last event; an open incident's figures run to here
	RTOMarginSeconds int64        `json:"rto_margin_seconds"` // RTO minus time to recover; negative when missed
	Channel          string       `json:"channel,omitempty"`
	Steps            []PMStep     `json:"steps"`
	Decisions        []PMDecision `json:"decisions"`
	Approvals        []PMApproval `json:"approvals"`
	Escalations      []PMEvent    `json:"escalations"`
	Notes            []PMEvent    `json:"notes"`
	Acks             []PMAck      `json:"acks"`
	Findings         []string     `json:"findings"` // one line each a team can act on
	// The RTO's twin (issue 13): when the failure began (declared_at
	// unless /incident began said earlier), the point in time the data was
	// recovered to, the data lost (began_at minus recovery_point, never
	// below 0) against the service's RPO. Each is null when unknown:
	// rpo_seconds without an rpo, recovery_point and data_loss_seconds
	// until one is recorded, rpo_met unless both are known.
	BeganAt         string  `json:"began_at"`
	RecoveryPoint   *string `json:"recovery_point"`
	RPOSeconds      *int64  `json:"rpo_seconds"`
	DataLossSeconds *int64  `json:"data_loss_seconds"`
	RPOMet          *bool   `json:"rpo_met"`
	// FirstAckRole is the role of TimeToAckSeconds; SlowestAckRole and
	// SlowestAckSeconds the role slowest to acknowledge its page, and
	// NeverAcked the roles paged that never acknowledged (AckText).
	FirstAckRole      string   `json:"-"`
	SlowestAckRole    string   `json:"-"`
	SlowestAckSeconds int64    `json:"-"`
	NeverAcked        []string `json:"-"`
	// What the team recorded (issue 13): the resolve text, the latest
	// /incident impact and cause ("" when none), every /incident action
	// (an empty list when none), and how the incident started.
	Resolution  string         `json:"resolution"`
	Impact      string         `json:"impact"`
	RootCause   string         `json:"root_cause"`
	ActionItems []PMActionItem `json:"action_items"`
	Detection   PMDetection    `json:"detection"`
	// Names maps the Slack member IDs and contact ids that appear above to
	// the person's name in the plan, for reading.
	Names map[string]string `json:"names,omitempty"`

	// loc is the plan's time zone, in which Markdown shows times (UTC
	// when unset). JSON times are UTC.
	loc *time.Location
}

// PMEvent is a timeline line in the postmortem. Data is the event's
// machine-readable detail, by kind (an rto_alert's "percent" or
// "projection", a paged event's "role" and "contact" ...); {} when it has
// none. Times in it are RFC 3339 UTC, durations whole seconds.
type PMEvent struct {
	At    string            `json:"at"`
	Kind  EventKind         `json:"kind"`
	Actor string            `json:"actor"`
	Text  string            `json:"text"`
	Data  map[string]string `json:"data"`
}

// The outcomes a postmortem gives a step record not ended (StepRunning in
// the incident): running while the incident is open, unfinished once it
// was resolved with the step still under way (the channel said "this
// step was not finished").
const (
	PMStepRunning    StepOutcome = "running"
	PMStepUnfinished StepOutcome = "unfinished"
)

// PMStep is a step's actual time against its estimate.
type PMStep struct {
	ID              string      `json:"id"`
	Do              string      `json:"do"`
	Outcome         StepOutcome `json:"outcome"` // done, skipped, answered, running
	EstimateSeconds int64       `json:"estimate_seconds"`
	ActualSeconds   int64       `json:"actual_seconds"`
	By              string      `json:"by"`
}

// PMDecision is an answered decision step.
type PMDecision struct {
	Step   string `json:"step"`
	Ask    string `json:"ask"`
	Answer string `json:"answer"`
	By     string `json:"by"`
	At     string `json:"at"`
}

// PMApproval is an approval asked for and its outcome.
type PMApproval struct {
	Step        string   `json:"step"`
	Role        string   `json:"role"`
	Outcome     Approval `json:"outcome"` // approved, denied, pending
	By          string   `json:"by"`
	RequestedAt string   `json:"requested_at"`
	DecidedAt   string   `json:"decided_at"`
	WaitSeconds int64    `json:"wait_seconds"`
	// Reason is why a denial was made, as typed (omitted when none).
	Reason string `json:"reason,omitempty"`
}

// PMAck is a role's time to acknowledge.
type PMAck struct {
	Role         string `json:"role"`
	Contact      string `json:"contact"`
	Pages        int    `json:"pages"`
	AckSeconds   int64  `json:"ack_seconds"` // -1 when nobody acknowledged
	Acknowledged bool   `json:"acknowledged"`
}

// PMActionItem is an action item: its owner (a contact id or Slack member
// ID, "" for nobody yet), what is to be done, and when and by whom it was
// recorded.
type PMActionItem struct {
	Owner string `json:"owner"`
	Text  string `json:"text"`
	At    string `json:"at"`
	By    string `json:"by"`
}

// PMDetection says how the incident started: source is person, drill,
// schedule or alert (the Detect constants); by who declared it (a Slack
// member ID, "" for drbot); alert the alert that fired; text all of it
// in a sentence.
type PMDetection struct {
	Source string `json:"source"`
	By     string `json:"by"`
	Alert  string `json:"alert,omitempty"`
	Text   string `json:"text"`
	// Labels and Links: the alert's labels and links (Prometheus graph,
	// dashboard ...), when an alert started it.
	Labels map[string]string `json:"labels,omitempty"`
	Links  []Link            `json:"links,omitempty"`
}
