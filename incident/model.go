package incident

import (
	"context"
	"time"
)

// State is where an incident stands: open until resolved. Stored and
// shown as its string.
type State string

// States of an incident.
const (
	StateOpen     State = "open"
	StateResolved State = "resolved"
)

// EventKind is the kind of a timeline event. The strings are a contract
// (docs/http.md: the JSON timeline, the postmortem): add kinds, never
// rename one.
type EventKind string

// Timeline kinds.
const (
	KindDeclared          EventKind = "declared"
	KindChannelCreated    EventKind = "channel_created"
	KindPaged             EventKind = "paged"
	KindAcknowledged      EventKind = "acknowledged"
	KindEscalated         EventKind = "escalated"
	KindUnanswered        EventKind = "unanswered"
	KindStepStarted       EventKind = "step_started"
	KindStepDone          EventKind = "step_done"
	KindStepSkipped       EventKind = "step_skipped"
	KindDecision          EventKind = "decision"
	KindApprovalRequested EventKind = "approval_requested"
	KindApproved          EventKind = "approved"
	KindDenied            EventKind = "denied"
	KindUnauthorized      EventKind = "unauthorized"
	KindRTOAlert          EventKind = "rto_alert"
	KindRTOBreached       EventKind = "rto_breached"
	KindNote              EventKind = "note"
	KindResolved          EventKind = "resolved"
	KindPostmortemPosted  EventKind = "postmortem_posted"
	// Added kinds.
	KindDeliveryFailed EventKind = "delivery_failed" // a Slack call failed for good (user_not_found ...)
	// The postmortem's inputs (issue 13): Data["at"] is the time given,
	// RFC 3339 in UTC.
	KindRecoveryPoint EventKind = "recovery_point" // /incident recovery-point WHEN, or the dialog of a recovery_point step's Done
	KindBegan         EventKind = "began"          // /incident began WHEN: when the failure began
	// Text is what was typed; an action item's Data["owner"] is its
	// owner (a contact id or Slack member ID), "" for none.
	KindImpact     EventKind = "impact"      // /incident impact TEXT
	KindRootCause  EventKind = "root_cause"  // /incident cause TEXT: root cause and trigger
	KindActionItem EventKind = "action_item" // /incident action [@owner] TEXT
)

// Incident is one declared incident or drill. The store keeps the indexed
// fields in columns and the whole value as JSON, so fields may be added
// freely.
type Incident struct {
	ID          int64         `json:"id"`
	Scenario    string        `json:"scenario"`
	Title       string        `json:"title"`
	Summary     string        `json:"summary"`
	Severity    string        `json:"severity"`
	Service     string        `json:"service"`
	Drill       bool          `json:"drill"`
	State       State         `json:"state"`
	DeclaredAt  time.Time     `json:"declared_at"`
	DeclaredBy  string        `json:"declared_by"`
	ResolvedAt  time.Time     `json:"resolved_at"`
	ResolvedBy  string        `json:"resolved_by"`
	RTO         time.Duration `json:"rto"`
	PlanHash    string        `json:"plan_hash"`
	ChannelID   string        `json:"channel_id"`
	ChannelName string        `json:"channel_name"`
	// DeclaredIn is the conversation the incident was declared in (its
	// reply went there), or "" for a scheduled drill.
	DeclaredIn string `json:"declared_in,omitempty"`
	// RPO is the service's rpo when the incident was declared; 0: none.
	RPO time.Duration `json:"rpo,omitempty"`

	// What people record for the postmortem (postmortem_input.go).
	// BeganAt: when the failure began (/incident began), zero for "when
	// it was declared". RecoveryPoint: the point in time the data was
	// recovered to (/incident recovery-point), zero until recorded.
	BeganAt       time.Time `json:"began_at"`
	RecoveryPoint time.Time `json:"recovery_point"`
	// Resolution is the text of /incident resolve; Impact and RootCause
	// the latest /incident impact and cause (the timeline keeps every
	// one); ActionItems every /incident action, in order.
	Resolution  string       `json:"resolution,omitempty"`
	Impact      string       `json:"impact,omitempty"`
	RootCause   string       `json:"root_cause,omitempty"`
	ActionItems []ActionItem `json:"action_items,omitempty"`
	// Detection says how the incident started: declared by someone, a
	// drill, or an alert.
	Detection Detection `json:"detection"`

	// Engine state, owned by Engine.
	Roles   []*RolePage   `json:"roles"`
	Steps   []*StepRecord `json:"steps"`
	Current string        `json:"current"` // current step id; "" once the playbook has ended
	Alerts  []int         `json:"alerts"`  // RTO thresholds (percent) already alerted; 100 = breach
	// ProjectedLate is set once the channel was told the projection passes the RTO.
	ProjectedLate bool `json:"projected_late"`
	// ChannelArchived is set while the incident channel is archived
	// (archived.go): nothing is posted into it.
	ChannelArchived bool `json:"channel_archived,omitempty"`
	// Invited holds the contact ids and Slack member IDs already invited to
	// the channel, so that a page asks for an invitation only once.
	Invited []string `json:"invited,omitempty"`
}

// RolePage is the paging state of one role in one incident.
type RolePage struct {
	Role      string    `json:"role"`
	Contacts  []string  `json:"contacts"` // contact ids in escalation order, or Slack member IDs for /page @user
	Sent      int       `json:"sent"`     // pages sent so far; the current contact is Contacts[(Sent-1)%len]
	Acked     bool      `json:"acked"`
	AckedBy   string    `json:"acked_by"` // contact id
	AckedAt   time.Time `json:"acked_at"`
	PagedAt   time.Time `json:"paged_at"` // first page
	Exhausted bool      `json:"exhausted"`
	// A role can be paged again (/incident page, an RTO breach, nobody
	// answering another role) after it acknowledged or ran out of pages:
	// that starts a new callout from the top of Contacts. CalloutStart is
	// Sent when the current callout began, so that page K (1-based, K >
	// CalloutStart) went to Contacts[(K-CalloutStart-1)%len].
	// WaitingSince is when the role began waiting for an answer: the first
	// page of the current callout, or of the earlier callout it follows
	// when nobody answered that one, so that an acknowledgement's "after"
	// runs from there, as the postmortem's time to acknowledge does.
	// (Stored as run_start and run_at, their earlier names.)
	CalloutStart int       `json:"run_start,omitempty"`
	WaitingSince time.Time `json:"run_at"`
	// Undelivered is the number of the latest page of the role that Slack
	// refused for good, and UndeliveredCode why (user_not_found ...): the
	// escalation it brings forward says the contact could not be paged,
	// not that they did not acknowledge.
	Undelivered     int    `json:"undelivered,omitempty"`
	UndeliveredCode string `json:"undelivered_code,omitempty"`
	// About names the roles whose running out (unanswered) started the
	// current callout: a page of the commander about another role. The
	// callout stops when they are all acknowledged, and Prev, the role's
	// state before the callout, comes back: a commander who had
	// acknowledged is still the one who acknowledged. Empty for a callout
	// of the role's own.
	About []string      `json:"about,omitempty"`
	Prev  *CalloutState `json:"prev,omitempty"`
	// StoodDown: the current callout was about other roles (About), which
	// were acknowledged before this role was; it stopped without needing
	// an answer, and the role had not been paged before it.
	StoodDown bool `json:"stood_down,omitempty"`
}

// CalloutState is how a role's callout stood when a callout about another
// role began (RolePage.About).
type CalloutState struct {
	Acked     bool      `json:"acked"`
	AckedBy   string    `json:"acked_by"`
	AckedAt   time.Time `json:"acked_at"`
	Exhausted bool      `json:"exhausted"`
}

// paging reports whether rp's current callout is still paging.
func (rp *RolePage) paging() bool {
	return !rp.Acked && !rp.Exhausted && !rp.StoodDown && rp.Sent > rp.CalloutStart
}

// answered reports whether rp's role acknowledged: in its current
// callout, or, while it is paged about another role, before that callout
// began.
func (rp *RolePage) answered() bool {
	return rp.Acked || (len(rp.About) > 0 && rp.Prev != nil && rp.Prev.Acked)
}

// StepRecord is one step of the runbook as it was walked: when it started
// and ended, its outcome and its approval. Incident.Steps holds one for
// each step entered, in order (a step entered again gets a new one), and
// a step's buttons name its record by that index.
type StepRecord struct {
	StepID              string      `json:"step_id"`
	StartedAt           time.Time   `json:"started_at"`
	EndedAt             time.Time   `json:"ended_at"`
	Outcome             StepOutcome `json:"outcome"`
	Answer              string      `json:"answer"`
	By                  string      `json:"by"` // Slack member ID
	Approval            Approval    `json:"approval"`
	ApprovalRequestedAt time.Time   `json:"approval_requested_at"`
	ApprovedBy          string      `json:"approved_by"`
	ApprovedAt          time.Time   `json:"approved_at"`
	// ApprovalRequest is the number of the step's latest approval request
	// (1 for the first, +1 for each "Request approval again"); the approval
	// buttons carry it, so that a button of an earlier request is refused
	// as stale. (Stored as approval_round, its earlier name.)
	ApprovalRequest int `json:"approval_round,omitempty"`
	// DeniedBy and DeniedAt: the latest denial (ApprovedBy is only ever
	// who approved).
	DeniedBy string    `json:"denied_by,omitempty"`
	DeniedAt time.Time `json:"denied_at"`
	// DenyReason is why, as the denier typed it ("" when they did not say).
	DenyReason string `json:"deny_reason,omitempty"`
}

// StepOutcome is how a step record ended.
type StepOutcome string

// Outcomes of a step record.
const (
	StepRunning  StepOutcome = ""         // not ended yet
	StepDone     StepOutcome = "done"     // someone pressed Done
	StepSkipped  StepOutcome = "skipped"  // someone pressed Skip
	StepAnswered StepOutcome = "answered" // someone answered the step's question (StepRecord.Answer)
)

// Approval is where a step's approval stands.
type Approval string

// States of a step's approval.
const (
	ApprovalNone     Approval = ""         // the step needs none, or none was asked yet
	ApprovalPending  Approval = "pending"  // asked, not decided
	ApprovalApproved Approval = "approved" // approved: the step may be done
	ApprovalDenied   Approval = "denied"   // denied: it may be asked again
)

// Event is one line of an incident's timeline. The timeline is append-only.
type Event struct {
	ID         int64             `json:"-"`
	IncidentID int64             `json:"-"`
	At         time.Time         `json:"at"`
	Kind       EventKind         `json:"kind"`
	Actor      string            `json:"actor"` // Slack member ID, "" for drbot
	Text       string            `json:"text"`
	Data       map[string]string `json:"data,omitempty"` // step, role, contact, answer, percent ...
}

// TimerKind says what a timer does when due; each kind is declared with the
// rule it serves (timerEscalate in paging.go, timerRTO in rto.go ...).
type TimerKind string

// Timer is a deadline kept in the database. Key is unique: setting a
// timer with an existing key replaces it, so a deadline is never doubled.
type Timer struct {
	Key        string    // e.g. "inc/3/escalate/executor", "inc/3/rto", "schedule/review"
	IncidentID int64     // 0 for timers of no incident
	Kind       TimerKind // what to do when due
	Due        time.Time
	Data       string // kind-specific
}

// Outgoing is one Web API call (or webhook POST) waiting in the outbox. It
// is written in the same transaction as the state change that causes it.
// Messages of one Lane go out in ID order; a lane waits while its oldest
// message waits for a retry.
type Outgoing struct {
	ID         int64
	Lane       string // "inc/3" for an incident channel, "user/alice" for a DM ...
	IncidentID int64
	Kind       OutKind
	Due        time.Time
	Attempts   int
	LastError  string
	Body       OutBody
}

// OutKind is the kind of an Outgoing: which chat call it makes.
type OutKind string

// Kinds of Outgoing.
const (
	OutCreateChannel OutKind = "create_channel" // Body.Name; on success the incident's channel is recorded
	OutInvite        OutKind = "invite"         // Body.Contacts and/or Body.Users into the incident channel
	OutTopic         OutKind = "topic"          // Body.Topic on the incident channel
	OutPost          OutKind = "post"           // Body.Message in the incident channel (or Body.Channel); Body.Pin pins it
	OutDM            OutKind = "dm"             // Body.Message to Body.Contact or Body.User
	OutUpdate        OutKind = "update"         // replace the message remembered under Body.UpdateRef
	OutEphemeral     OutKind = "ephemeral"      // Body.Message to Body.User in Body.Channel, only they see it
	OutWebhook       OutKind = "webhook"        // POST Body.WebhookBody to the plan's paging.webhook (Body.WebhookPlan), or to Body.WebhookURL (rows written before the URL was kept out of the database)
	// OutReview checks the plan's contacts with the chat (users.info,
	// users.lookupByEmail), which must not happen inside a transaction,
	// then enqueues the contact-list review DM to each of Body.Review's
	// owners.
	OutReview OutKind = "review"
	// OutPin pins the message remembered under Body.UpdateRef (pins.add,
	// Tier 2): a send of its own in the incident's setup lane, so that a
	// rate-limited pin neither holds up posts nor is lost.
	OutPin OutKind = "pin"
)

// OutBody is the payload of an Outgoing, stored as JSON.
type OutBody struct {
	Channel     string   `json:"channel,omitempty"` // a channel id or name; empty: the incident's channel
	Name        string   `json:"name,omitempty"`
	Contact     string   `json:"contact,omitempty"` // plan contact id, resolved to a Slack user when sent
	User        string   `json:"user,omitempty"`    // Slack member ID
	Contacts    []string `json:"contacts,omitempty"`
	Users       []string `json:"users,omitempty"`
	Topic       string   `json:"topic,omitempty"`
	Message     *Message `json:"message,omitempty"`
	Ref         string   `json:"ref,omitempty"` // remember the posted message under this ref (for updates)
	UpdateRef   string   `json:"update_ref,omitempty"`
	Pin         bool     `json:"pin,omitempty"`
	WebhookURL  string   `json:"webhook_url,omitempty"`
	WebhookBody []byte   `json:"webhook_body,omitempty"`
	// WebhookPlan: the URL is the paging.webhook of the incident's plan,
	// resolved when sent. The URL (and a PagerDuty routing_key, added to
	// the body then) may be a secret, which the outbox must not store.
	WebhookPlan bool `json:"webhook_plan,omitempty"`
	// Hook and HookRole: the paging webhook's event (trigger,
	// acknowledge, resolve) and the role it is about, so that nothing is
	// triggered after the incident is resolved, and a resolve goes only
	// where a trigger went (afterResolve).
	Hook     string `json:"hook,omitempty"`
	HookRole string `json:"hook_role,omitempty"`
	// Urgent: a person is waiting for this message (a page, an approval
	// to give, an RTO alert, an escalation). A delivery pass sends urgent
	// lane heads before the others (outbox.go, urgency).
	Urgent bool `json:"urgent,omitempty"`
	// What the message was for, to say it when delivery fails for good:
	// "page frank", "post the summary".
	Purpose string `json:"purpose,omitempty"`
	// Review is the notice of the contact-list review an OutReview sends.
	Review *ReviewBody `json:"review,omitempty"`
}

// ReviewBody is what an OutReview needs: which notice of the contact-list
// review it is (its buttons carry the number; stored as round, its earlier
// name), who gets it, and why it is sent.
type ReviewBody struct {
	Notice  int      `json:"round"`
	Owners  []string `json:"owners"`            // contact ids
	By      string   `json:"by,omitempty"`      // Slack member ID of who asked for it; "" on schedule
	Overdue bool     `json:"overdue,omitempty"` // a reminder of an unconfirmed earlier notice
}

// Message is what drbot posts, independent of Slack: the chat surface
// renders it (Block Kit, or text on the console). All user text in it is
// already escaped.
type Message struct {
	Text    string   `json:"text"`              // mrkdwn; the first line doubles as the notification text
	Fields  []Field  `json:"fields,omitempty"`  // label/value pairs shown in two columns
	Context string   `json:"context,omitempty"` // small print under the message
	Buttons []Button `json:"buttons,omitempty"`
	// More ends the text when a chat surface must shorten it to fit
	// (Slack: about 12,000 characters a message); empty: "…; the rest
	// is in the postmortem".
	More string `json:"more,omitempty"`
}

// Field is a label and its value.
type Field struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// Button is a button; Action is opaque to chat surfaces and comes back in
// PressRequest.Action.
type Button struct {
	Label  string `json:"label"`
	Action string `json:"action"`
	Style  string `json:"style,omitempty"` // "", "primary", "danger"
}

// Filter selects incidents.
type Filter struct {
	State  State // "" any
	Drills *bool // nil any
	Limit  int   // 0 no limit
}

// Store is the persistence the Engine needs. storage.Store implements it
// with SQLite, postgres.Store (storage/postgres) with PostgreSQL and
// incidenttest.MemStore in memory; incidenttest.TestStore checks that an
// implementation behaves as the Engine relies on.
type Store interface {
	// Update runs fn in one write transaction; an error rolls it back.
	Update(ctx context.Context, fn func(Tx) error) error
	// View runs fn in a read transaction.
	View(ctx context.Context, fn func(Tx) error) error
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
}

// Tx is one transaction of a Store.
type Tx interface {
	CreateIncident(inc *Incident) error // assigns inc.ID, the next number
	SaveIncident(inc *Incident) error
	Incident(id int64) (*Incident, error) // *Error ENOTFOUND when absent
	IncidentByChannel(channelID string) (*Incident, error)
	Incidents(f Filter) ([]*Incident, error) // newest first

	Append(e *Event) error // assigns e.ID
	Timeline(incidentID int64) ([]Event, error)

	SetTimer(t Timer) error // insert or replace by Key
	DeleteTimer(key string) error
	DeleteTimers(incidentID int64) error
	DueTimers(now time.Time, limit int) ([]Timer, error) // Due <= now, by Due then Key
	NextTimer() (time.Time, bool, error)

	Enqueue(o *Outgoing) error // assigns o.ID; zero Due means at once
	// DueOutgoing returns, for each lane, its oldest unsent message when that
	// one is due, oldest first.
	DueOutgoing(now time.Time, limit int) ([]Outgoing, error)
	NextOutgoing() (time.Time, bool, error)
	Sent(id int64) error
	Retry(id int64, due time.Time, lastErr string) error // Attempts++
	Drop(id int64, lastErr string) error                 // given up for good; kept for the record
	OutboxDepth() (int, error)

	SetRef(ref, channelID, ts string) error
	Ref(ref string) (channelID, ts string, ok bool, err error)

	SavePlan(hash string, source []byte) error
	PlanSource(hash string) ([]byte, error)

	// Small key/value state: the email->user cache, schedules, reviews,
	// processed Slack event ids.
	Get(key string) (string, bool, error)
	Put(key, value string) error
	PutIfAbsent(key, value string) (bool, error) // false when the key existed
	// DeleteKeys deletes the entries whose key starts with prefix (not
	// empty: EINVALID) and that were last set before before, by the
	// store's clock, and returns how many: the keys kept for a while only
	// (housekeeping.go).
	DeleteKeys(prefix string, before time.Time) (int, error)
}
