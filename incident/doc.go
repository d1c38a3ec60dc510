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
// the postmortem and its action items. Words of drbot's own:
//
//   - plan: the team's YAML file (docs/plan.md); a scenario is one "if X
//     happens, we do Y" of it, and a service is what breaks (never the
//     engine).
//   - role: a list of contacts in escalation order. To page a role is to
//     send its current contact a direct message with Acknowledge.
//   - callout: the pages of a role from the top of its list, one contact
//     every ack_timeout, until someone acknowledges or it runs out;
//     paging a role again (/incident page, an RTO breach) starts a new
//     callout (RolePage.CalloutStart, WaitingSince). A callout about other
//     roles (RolePage.About) pages the commander when they run out.
//   - paging round: one pass of a callout over a role's contacts; the
//     plan's paging.rounds says how many before the channel is told
//     nobody answered (RolePage.Sent counts the pages).
//   - step record: one step of the runbook as it was walked
//     (StepRecord), its outcome (StepOutcome) and its approval
//     (Approval); a button names its step record by index in
//     Incident.Steps. A run is only Engine.Run, the loop that ticks.
//   - approval request: one asking for a step's approval; asking again
//     after a denial makes the next (StepRecord.ApprovalRequest numbers
//     them), and a button of an earlier request is refused as stale.
//   - review notice: one sending of the contact-list review to its
//     owners, the first or an overdue reminder, numbered (ReviewBody.Notice);
//     a button of an earlier notice is recognised.
//   - alert episode: one problem of an alert group, from its first
//     firing notification to its resolution (AlertGroup, alert.go); the
//     group's next firing after that is a new episode.
//   - event: one line of an incident's timeline (Event, EventKind); the
//     kinds are a contract (docs/http.md).
//   - outbox message: one chat call waiting to be made (Outgoing,
//     OutKind), in a lane: the messages of one lane go in order. A
//     delivery pass is one reading of the lanes' due heads by Deliver
//     (never called a round).
//   - timer: one deadline (Timer, TimerKind), unique by key.
//   - drill: an incident declared to practise; everything it posts says
//     [DRILL], and its postmortem scores the exercise.
//
// # Where each rule is
//
//	declare an incident, name its channel   declare.go Declare, op.declare; channelname.go
//	page a role, escalate to the next       paging.go pageRole, pageCallout, escalate
//	acknowledge, stand down                 respond.go acknowledge, ackRole, standDown
//	walk the steps, answer a decision       steps.go enterStep, pressStep
//	approve or deny a step                  steps.go requestApproval, decide; approval_wait.go
//	RTO alerts, projection, breach          rto.go scheduleRTO, checkProjection, fireRTO, breach
//	resolve                                 resolve.go resolve; afterresolve.go
//	/incident commands                      command_parse.go ParseCommand; commands.go Command
//	button presses                          actions.go Press, parseAction
//	alerts from monitoring                  alert.go Alert; alert_ask.go; alert_phase.go
//	contact-list review                     review.go; review_delivery.go; review_message.go
//	schedules (review, drills)              schedule.go syncSchedules, handleSchedule
//	timers                                  timers.go Tick, handleTimer; run.go Run
//	the outbox worker                       outbox.go Deliver; outbox_send.go; outbox_failure.go
//	every text drbot posts                  messages.go; messages_paging.go; text.go
//	the postmortem                          postmortem_build.go BuildPostmortem; postmortem_findings.go;
//	                                        postmortem_markdown.go Markdown; postmortem.go (the JSON)
//	figures across incidents                stats.go ComputeStats
//	the state and its interfaces            model.go (Incident, Event, Timer, Outgoing, Store, Tx);
//	                                        chat.go (Chat, Directory, Webhooks); errors.go (Error)
//
// The tests run the engine on incidenttest.MemStore and FakeChat, or on a
// real SQLite file; incidenttest.TestStore is the conformance suite every
// Store passes.
package incident
