// Package incident is drbot's engine: every rule of incident response it
// follows, from a declaration to the postmortem. It knows neither Slack nor
// SQLite: a chat surface (Chat, Directory, Webhooks) carries its messages
// and a Store keeps its state; bot and storage implement them, cmd/drbot
// wires them, and the console plays the same engine in a terminal.
//
// # How it works
//
// Engine is made with New from a Config: the plan (playbooks.Plan), a
// Store, a Chat and a clock. People reach it through Command
// ("/incident TEXT"), Press (a button), Declare and Alert (a monitoring
// alert); time reaches it through Tick, or Run, which ticks whenever the
// earliest timer or outbox message is due.
//
// Every change of state is one Store.Update: the incident, the events it
// appends to its timeline, the timers it sets and the chat calls it causes
// (outbox messages) are written together or not at all. Inside it, an op
// holds the incident and the plan it was declared with, and the rules
// change them. Only the outbox worker (Deliver) calls the chat, after the
// transaction: a crash can repeat a message, never lose one, and a
// restarted process carries on from the database alone. Every deadline is
// a Timer row: time is data.
//
// # Glossary
//
// The field's terms mean what they mean in incident response: an
// incident, its escalation, an acknowledgement, a runbook (the scenario's
// steps), the RTO and RPO of the service that broke, the recovery point,
// the postmortem and its action items. Each word of drbot's own below
// means one thing, in the code, its comments and the docs:
//
//   - plan: the team's YAML file (docs/plan.md, playbooks.Plan). A
//     scenario is one "if X happens, we do Y" of it; a service is what
//     breaks, never the engine.
//   - role: a list of contacts in escalation order (RolePage is a role's
//     paging state in one incident). A page is one direct message with
//     Acknowledge to one contact of a role.
//   - callout: the pages of a role from the top of its list, one contact
//     every ack_timeout, until a contact acknowledges or the list runs out
//     (RolePage.CalloutStart counts the pages before it). Paging a role
//     again after that (/incident page, an RTO breach) starts a new
//     callout. When a role's callout runs out, the commander role gets a
//     callout about it (RolePage.About), which stands down once that role
//     answers.
//   - paging round: one pass of a callout over a role's contacts; the
//     plan's paging.rounds says how many a callout makes before the
//     channel is told nobody answered. Nothing else in the engine is called a
//     round.
//   - step record: one step of the runbook as it was walked (StepRecord):
//     when it started and ended, its outcome (StepOutcome) and its
//     approval (Approval). Incident.Steps holds them in order, and a
//     step's buttons name their record by its index there.
//   - approval request: one asking for a step's approval, numbered
//     (StepRecord.ApprovalRequest); asking again after a denial makes the
//     next, and a button of an earlier request is refused as stale.
//   - review notice: one sending of the contact-list review to its
//     owners, the first or an overdue reminder, numbered
//     (ReviewBody.Notice); a press on an earlier notice is told so.
//   - alert group: the alerts monitoring sends as one notification
//     (AlertGroup, Alertmanager's groupKey). An alert episode is one
//     problem of a group, from its first firing notification to its
//     resolution (alertState.Episode numbers them); the group's next
//     firing starts the next episode, with a new ask (the message in
//     alert_channel with Declare and Dismiss) or a new incident.
//   - event: one line of an incident's timeline (Event, EventKind); the
//     kinds are a contract (docs/http.md).
//   - timer: one deadline (Timer, TimerKind), unique by key.
//   - outbox message: one chat call waiting to be made (Outgoing,
//     OutKind), in a lane: the messages of one lane go in order. A
//     delivery pass is one reading of the lanes' due messages by Deliver.
//   - tick: one call of Tick, which fires the timers that are due and
//     delivers the outbox messages that are due. Engine.Run does the same
//     in loops of its own, waking whenever something falls due; nothing
//     else in the engine is called a run.
//   - drill: an incident declared to practise; everything it posts says
//     [DRILL], and its postmortem scores the exercise.
//
// Stored state keeps the names it was first written with: a callout's
// fields are run_start and run_at in the incident's JSON, an approval
// request is approval_round, and review notices and alert episodes are
// round (TestStoredJSONUnchanged holds them).
//
// # Where each rule is
//
//	the engine, one change of an incident   engine.go New, Engine; op.go op
//	declare an incident, name its channel   declare.go Declare, op.declare; channelname.go
//	page a role, escalate to the next       paging.go pageRole, pageCallout, escalate
//	acknowledge, stand down                 respond.go acknowledge, ackRole, standDown
//	walk the steps, answer a decision       steps.go enterStep, pressStep
//	approve or deny a step                  steps.go requestApproval, decide; approval_wait.go
//	RTO alerts, projection, breach          rto.go scheduleRTO, checkProjection, fireRTO, breach; projection.go
//	began, recovery point, impact, actions  postmortem_input.go; when.go ParseWhen
//	resolve                                 resolve.go resolve; afterresolve.go
//	a channel archived while open           archived.go
//	what a chat surface hands the engine    requests.go (CommandRequest, PressRequest, Reply)
//	/incident commands                      command_parse.go ParseCommand; commands.go Command
//	button presses                          actions.go Press, parseAction
//	alerts from monitoring                  alert.go Alert; alert_ask.go; alert_phase.go
//	contact-list review                     review.go; review_delivery.go; review_message.go
//	schedules (review, drills)              schedule.go syncSchedules, handleSchedule; schedulenext.go nextFire
//	timers                                  timers.go Tick, handleTimer; run.go Run
//	forget old signatures and event ids     housekeeping.go housekeep (hourly, kvRetention)
//	the outbox worker                       outbox.go Deliver; outbox_send.go; outbox_failure.go;
//	                                        outbox_pace.go; outbox_bundle.go; outbox_recipient.go
//	every text drbot posts                  messages.go; messages_paging.go; text.go
//	the postmortem                          postmortem_build.go BuildPostmortem; postmortem_findings.go;
//	                                        postmortem_markdown.go Markdown; postmortem.go (the JSON)
//	figures across incidents                stats.go ComputeStats; stats_text.go
//	sign-in to the web pages                websignin.go
//	the state and its interfaces            model.go (Incident, Event, Timer, Outgoing, Store, Tx);
//	                                        chat.go (Chat, Directory, Webhooks); errors.go (Error)
//
// The tests run the engine on incidenttest.MemStore and FakeChat, or on a
// real SQLite file; incidenttest.TestStore is the conformance suite every
// Store passes.
package incident
