package incident

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/drbot-dev/drbot/playbooks"
)

// The contact-list review. On review.schedule (or "/incident review"),
// each owner gets a direct message with the contacts, the roles and what
// looks wrong, and Confirm / Needs changes buttons. Each sending is a
// round, numbered; the buttons carry it, so a press on an older round's
// message is recognised. Unconfirmed overdue_after after a round, the
// owners are reminded (a new round) and review.channel is told.
//
// Checking the contacts asks the chat (users.info, users.lookupByEmail),
// which must not happen inside a transaction: the round is an OutReview in
// the outbox, whose delivery checks, then enqueues the DMs.
//
// State, in the store's key/value table:
//
//	review/last_sent       reviewSent: the latest round
//	review/last_confirmed  ReviewConfirmation: who confirmed, when, which round
//	review/history         []ReviewEvent, newest last, the latest maxReviewHistory

const (
	kvReviewSent      = "review/last_sent"
	kvReviewConfirmed = "review/last_confirmed"
	kvReviewHistory   = "review/history"

	// maxReviewHistory bounds the history kept: a quarterly review makes
	// a few lines a year; this is decades.
	maxReviewHistory = 200
	// reviewIncidentScan is how many recent real incidents are read to
	// find, for each role, the last one that paged it.
	reviewIncidentScan = 200

	reviewLane        = "review"
	reviewChannelLane = "review/channel"

	// ReviewNeeds is the word of "/incident review needs TEXT".
	ReviewNeeds = "needs"

	actReview        = "review"
	reviewConfirm    = "confirm"
	reviewNeedsPress = "changes"
)

// Kinds of ReviewEvent.
const (
	ReviewSent         = "sent"
	ReviewOverdue      = "overdue"
	ReviewConfirmed    = "confirmed"
	ReviewNeedsChanges = "needs_changes"
)

// ReviewConfirmation says who last confirmed the contact list, and when.
type ReviewConfirmation struct {
	By      string    `json:"by"`      // Slack member ID
	Contact string    `json:"contact"` // the plan's contact id of By, "" when not a contact
	At      time.Time `json:"at"`
	Round   int       `json:"round"`
}

// ReviewEvent is one line of the review's history.
type ReviewEvent struct {
	At    time.Time `json:"at"`
	Kind  string    `json:"kind"` // sent, overdue, confirmed, needs_changes
	By    string    `json:"by,omitempty"`
	Round int       `json:"round,omitempty"`
	Text  string    `json:"text,omitempty"`
}

// reviewSent is the latest round.
type reviewSent struct {
	Round   int       `json:"round"`
	At      time.Time `json:"at"`
	By      string    `json:"by,omitempty"`
	Owners  []string  `json:"owners"`
	Overdue bool      `json:"overdue,omitempty"`
	// Message is the review as delivered, for the update that marks it
	// confirmed; nil until its checks are done.
	Message *Message `json:"message,omitempty"`
}

// LastConfirmed reads who last confirmed the contact list; ok is false when
// nobody ever did. It reads the store only, so that a command may call it
// on a database opened read-only.
func LastConfirmed(ctx context.Context, st Store) (c ReviewConfirmation, ok bool, err error) {
	err = st.View(ctx, func(tx Tx) error {
		var err error
		ok, err = getJSON(tx, kvReviewConfirmed, &c)
		return err
	})
	if err != nil {
		return ReviewConfirmation{}, false, fmt.Errorf("read the last review confirmation: %w", err)
	}
	return c, ok, nil
}

// ReviewHistory reads the review's history, oldest first.
func ReviewHistory(ctx context.Context, st Store) ([]ReviewEvent, error) {
	var h []ReviewEvent
	err := st.View(ctx, func(tx Tx) error {
		_, err := getJSON(tx, kvReviewHistory, &h)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read the review history: %w", err)
	}
	return h, nil
}

func getJSON(tx Tx, key string, v any) (bool, error) {
	raw, ok, err := tx.Get(key)
	if err != nil || !ok || raw == "" {
		return false, err
	}
	if err := json.Unmarshal([]byte(raw), v); err != nil {
		return false, fmt.Errorf("%s: %w", key, err)
	}
	return true, nil
}

func putJSON(tx Tx, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	return tx.Put(key, string(b))
}

func addReviewEvent(tx Tx, e ReviewEvent) error {
	var h []ReviewEvent
	if _, err := getJSON(tx, kvReviewHistory, &h); err != nil {
		return err
	}
	h = append(h, e)
	if len(h) > maxReviewHistory {
		h = h[len(h)-maxReviewHistory:]
	}
	return putJSON(tx, kvReviewHistory, h)
}

func reviewRef(round int, owner string) string {
	return "review/" + strconv.Itoa(round) + "/" + owner
}

func reviewAction(verb string, round int) string {
	return actReview + "|" + verb + "|" + strconv.Itoa(round)
}

type reviewPress struct {
	verb  string
	round int
}

func parseReviewAction(s string) (reviewPress, bool) {
	rest, ok := strings.CutPrefix(s, actReview+"|")
	if !ok {
		return reviewPress{}, false
	}
	verb, n, _ := strings.Cut(rest, "|")
	round, err := strconv.Atoi(n)
	if err != nil || round <= 0 || verb != reviewConfirm && verb != reviewNeedsPress {
		return reviewPress{}, false
	}
	return reviewPress{verb: verb, round: round}, true
}

// stamp is a date and time in the plan's time zone: "2026-11-20 09:14 CET".
func stamp(t time.Time, p *playbooks.Plan) string {
	loc := p.Location
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

// noReview is the answer when the plan has no review section.
func noReview() error {
	return Errorf(EINVALID, "The contact-list review is not set up yet: add a review: section (schedule, owners) to the plan.")
}

// review answers "/incident review" and "/incident review needs TEXT".
func (s *Engine) review(ctx context.Context, cmd Command, userID string) (Reply, error) {
	if cmd.Target == ReviewNeeds {
		return s.ReviewNeedsChanges(ctx, userID, cmd.Text)
	}
	p := s.Plan()
	if p.Review == nil {
		return Reply{}, noReview()
	}
	if err := s.SendReview(ctx, userID); err != nil {
		return Reply{}, err
	}
	var names []string
	for _, id := range p.Review.Owners {
		if c := p.Contacts[id]; c != nil {
			names = append(names, escape(c.Name))
		}
	}
	return Reply{Text: "Sent the contact-list review to " + strings.Join(names, ", ") + "."}, nil
}

// SendReview sends the contact-list review reminder to the plan's review
// owners now, at userID's request ("/incident review").
func (s *Engine) SendReview(ctx context.Context, userID string) error {
	p := s.Plan()
	if p.Review == nil {
		return noReview()
	}
	var done *op
	err := s.cfg.Store.Update(ctx, func(tx Tx) error {
		done = &op{s: s}
		_, err := s.sendReviewTx(tx, p, s.now(), userID, false, done)
		return err
	})
	if err != nil {
		return fmt.Errorf("send the contact-list review: %w", err)
	}
	s.committed(done)
	return nil
}

// sendReviewTx starts a new round: an OutReview (its delivery checks the
// contacts and DMs the owners), the round recorded, and the overdue
// reminder set overdue_after from now.
func (s *Engine) sendReviewTx(tx Tx, p *playbooks.Plan, now time.Time, by string, overdue bool, done *op) (int, error) {
	var last reviewSent
	if _, err := getJSON(tx, kvReviewSent, &last); err != nil {
		return 0, err
	}
	var owners []string
	for _, id := range p.Review.Owners {
		if p.Contacts[id] != nil && !slices.Contains(owners, id) {
			owners = append(owners, id)
		}
	}
	if len(owners) == 0 {
		return 0, Errorf(EINVALID, "The plan's review has no owners to send it to: list contacts under review: owners.")
	}
	round := last.Round + 1
	out := &Outgoing{Lane: reviewLane, Kind: OutReview, Body: OutBody{
		Review:  &ReviewBody{Round: round, Owners: owners, By: by, Overdue: overdue},
		Purpose: "check the contacts for the contact-list review",
	}}
	if err := tx.Enqueue(out); err != nil {
		return 0, fmt.Errorf("enqueue the review: %w", err)
	}
	if err := putJSON(tx, kvReviewSent, reviewSent{Round: round, At: now, By: by, Owners: owners, Overdue: overdue}); err != nil {
		return 0, err
	}
	kind := ReviewSent
	if overdue {
		kind = ReviewOverdue
	}
	if err := addReviewEvent(tx, ReviewEvent{At: now, Kind: kind, By: by, Round: round}); err != nil {
		return 0, err
	}
	// Every round, the overdue reminder among them, is followed up: the
	// owners are reminded every overdue_after until someone confirms.
	if p.Review.OverdueAfter > 0 {
		t := Timer{Key: overdueTimerKey, Kind: timerReviewOverdue, Due: now.Add(p.Review.OverdueAfter), Data: strconv.Itoa(round)}
		if err := tx.SetTimer(t); err != nil {
			return 0, fmt.Errorf("set timer %s: %w", t.Key, err)
		}
	}
	done.changed = true
	done.after(func() {
		s.cfg.Logger.Info("contact-list review sent", "round", round, "owners", owners, "by", by, "overdue", overdue)
	})
	return round, nil
}

// reviewOverdue fires the overdue timer: unless the round it follows was
// confirmed since, the owners are reminded (a new round) and
// review.channel is told.
func (s *Engine) reviewOverdue(tx Tx, t Timer, now time.Time, done *op) error {
	p := s.Plan()
	if p.Review == nil {
		return nil
	}
	round, _ := strconv.Atoi(t.Data)
	var conf ReviewConfirmation
	if _, err := getJSON(tx, kvReviewConfirmed, &conf); err != nil {
		return err
	}
	if conf.Round >= round {
		return nil // confirmed since; the press deleted the timer, but be sure
	}
	var last reviewSent
	if _, err := getJSON(tx, kvReviewSent, &last); err != nil {
		return err
	}
	if _, err := s.sendReviewTx(tx, p, now, "", true, done); err != nil {
		return err
	}
	if p.Review.Channel == "" {
		return nil
	}
	var names []string
	for _, id := range last.Owners {
		if c := p.Contacts[id]; c != nil {
			names = append(names, escape(c.Name))
		}
	}
	confirmed := "It has never been confirmed."
	if !conf.At.IsZero() {
		confirmed = fmt.Sprintf("It was last confirmed %s by %s.", stamp(conf.At, p), mention(conf.By))
	}
	text := fmt.Sprintf(":warning: *The contact-list review is overdue.* It was sent to %s on %s and nobody has confirmed it in %s. %s\n"+
		"%s: check the contacts and roles in drbot's direct message and press *Confirm*, or *Needs changes* to say what is wrong.",
		strings.Join(names, ", "), stamp(last.At, p), fmtDur(p.Review.OverdueAfter), confirmed, strings.Join(names, ", "))
	out := &Outgoing{Lane: reviewChannelLane, Kind: OutPost, Body: OutBody{
		Channel: p.Review.Channel, Message: &Message{Text: text},
		Purpose: "tell " + p.Review.Channel + " that the contact-list review is overdue",
	}}
	if err := tx.Enqueue(out); err != nil {
		return fmt.Errorf("enqueue the overdue notice: %w", err)
	}
	return nil
}

// pressReview handles the review's Confirm and Needs changes buttons.
func (s *Engine) pressReview(ctx context.Context, req PressRequest, a reviewPress) (Reply, error) {
	p := s.Plan()
	if a.verb == reviewNeedsPress {
		return Reply{
			Text:            "What needs to change? Type `/incident review needs TEXT`, for example `/incident review needs frank left; who replaces him as approver?`. It is recorded and passed on to whoever keeps the plan.",
			OpenReviewModal: true,
		}, nil
	}
	var (
		reply Reply
		done  *op
	)
	err := s.cfg.Store.Update(ctx, func(tx Tx) error {
		done = &op{s: s}
		now := s.now()
		var last reviewSent
		if _, err := getJSON(tx, kvReviewSent, &last); err != nil {
			return err
		}
		var conf ReviewConfirmation
		if _, err := getJSON(tx, kvReviewConfirmed, &conf); err != nil {
			return err
		}
		switch {
		case a.round < last.Round:
			reply.Text = fmt.Sprintf("A newer contact-list review was sent on %s; confirm on that one, so that you confirm the list as it is now. Nothing was recorded.", stamp(last.At, p))
			return nil
		case a.round > last.Round:
			// Only a store that lost its state gets here.
			reply.Text = "drbot has no record of this contact-list review; type /incident review for a new one. Nothing was recorded."
			return nil
		case conf.Round == a.round:
			reply.Text = fmt.Sprintf("Already confirmed by %s at %s; nothing more to do.", mention(conf.By), stamp(conf.At, p))
			return nil
		}
		conf = ReviewConfirmation{By: req.UserID, At: now, Round: a.round}
		if c := contactOf(tx, p, req.UserID); c != nil {
			conf.Contact = c.ID
		}
		if err := putJSON(tx, kvReviewConfirmed, conf); err != nil {
			return err
		}
		if err := addReviewEvent(tx, ReviewEvent{At: now, Kind: ReviewConfirmed, By: req.UserID, Round: a.round}); err != nil {
			return err
		}
		if err := tx.DeleteTimer(overdueTimerKey); err != nil {
			return fmt.Errorf("delete timer %s: %w", overdueTimerKey, err)
		}
		// Every owner's copy turns into who confirmed it and when.
		m := Message{Text: "*Contact-list review*"}
		if last.Message != nil {
			m = confirmedReview(*last.Message)
		}
		m.Context = fmt.Sprintf(":white_check_mark: Confirmed by %s at %s.", mention(req.UserID), stamp(now, p))
		for _, owner := range last.Owners {
			out := &Outgoing{Lane: dmLane(owner), Kind: OutUpdate, Body: OutBody{
				Message: &m, UpdateRef: reviewRef(a.round, owner), Purpose: "mark the contact-list review confirmed",
			}}
			if err := tx.Enqueue(out); err != nil {
				return fmt.Errorf("enqueue the review update: %w", err)
			}
		}
		done.changed = true
		done.after(func() {
			s.cfg.Logger.Info("contact list confirmed", "by", req.UserID, "contact", conf.Contact, "round", a.round)
		})
		reply.Text = fmt.Sprintf("Thank you: the contact list is confirmed, by you at %s.", stamp(now, p))
		if next, ok := reviewNext(p, now); ok {
			reply.Text += fmt.Sprintf(" The next review is due %s.", stamp(next, p))
		}
		return nil
	})
	if err != nil {
		return Reply{}, fmt.Errorf("confirm the contact-list review: %w", err)
	}
	s.committed(done)
	return reply, nil
}

// reviewNext is when the review is next sent on schedule.
func reviewNext(p *playbooks.Plan, now time.Time) (time.Time, bool) {
	if p.Review == nil {
		return time.Time{}, false
	}
	t, err := scheduleSpec{Spec: p.Review.Schedule, TZ: planZone(p)}.next(now)
	return t, err == nil && !t.IsZero()
}

// ReviewNeedsChanges records, at userID's word, what needs to change in
// the contact list: in the review's history, in the log, and in
// review.channel when the plan has one ("/incident review needs TEXT", or
// the dialog of the review's Needs changes button).
func (s *Engine) ReviewNeedsChanges(ctx context.Context, userID, text string) (Reply, error) {
	p := s.Plan()
	if p.Review == nil {
		return Reply{}, noReview()
	}
	text = strings.TrimSpace(cleanText(text))
	if text == "" {
		return Reply{}, Errorf(EINVALID, "Say what needs to change: /incident review needs TEXT")
	}
	if err := checkLength("note", text); err != nil {
		return Reply{}, err
	}
	var done *op
	err := s.cfg.Store.Update(ctx, func(tx Tx) error {
		done = &op{s: s}
		now := s.now()
		var last reviewSent
		if _, err := getJSON(tx, kvReviewSent, &last); err != nil {
			return err
		}
		if err := addReviewEvent(tx, ReviewEvent{At: now, Kind: ReviewNeedsChanges, By: userID, Round: last.Round, Text: text}); err != nil {
			return err
		}
		if p.Review.Channel != "" {
			out := &Outgoing{Lane: reviewChannelLane, Kind: OutPost, Body: OutBody{
				Channel: p.Review.Channel,
				Message: &Message{Text: fmt.Sprintf(":memo: *The contact list needs changes*, says %s:\n>%s\nWhoever keeps the plan: fix it and reload drbot; the review owners then confirm it.",
					mention(userID), strings.ReplaceAll(escape(text), "\n", "\n>"))},
				Purpose: "tell " + p.Review.Channel + " that the contact list needs changes",
			}}
			if err := tx.Enqueue(out); err != nil {
				return fmt.Errorf("enqueue the review note: %w", err)
			}
			done.changed = true
		}
		done.after(func() {
			s.cfg.Logger.Info("contact list needs changes", "by", userID, "round", last.Round, "note", text)
		})
		return nil
	})
	if err != nil {
		return Reply{}, fmt.Errorf("record what the contact list needs: %w", err)
	}
	s.committed(done)
	if p.Review.Channel != "" {
		return Reply{Text: fmt.Sprintf("Noted, and posted in #%s for whoever keeps the plan. Once it is fixed and drbot reloaded, press Confirm on the review.", escape(strings.TrimPrefix(p.Review.Channel, "#")))}, nil
	}
	return Reply{Text: "Noted in the review's history and drbot's log. The plan has no review channel, so tell whoever keeps the plan too; once it is fixed and drbot reloaded, press Confirm on the review."}, nil
}

// --- delivery: the checks, then the DMs

// contactCheck is what the chat said of one contact.
type contactCheck struct {
	user    string // Slack member ID: given, or found by email
	problem string // "" when nothing looks wrong
}

// checkCodes sorts Slack's answers about a user.
var (
	notFoundCodes    = map[string]bool{"user_not_found": true, "users_not_found": true}
	deactivatedCodes = map[string]bool{"account_inactive": true, "user_disabled": true, "user_is_deactivated": true}
)

// checkContacts asks the chat about every contact of p. An error is one
// that may pass (rate limit, network): the whole review is tried again.
func (d *delivery) checkContacts(ctx context.Context, p *playbooks.Plan) (map[string]contactCheck, error) {
	chat := d.s.cfg.Chat
	out := map[string]contactCheck{}
	for _, id := range p.ContactOrder {
		c := p.Contacts[id]
		if c == nil {
			continue
		}
		var ck contactCheck
		ck.user = c.Slack
		if ck.user == "" {
			if c.Email == "" {
				ck.problem = "neither a Slack member ID nor an email; drbot cannot reach them"
				out[id] = ck
				continue
			}
			u, err := chat.LookupUserByEmail(ctx, c.Email)
			if err != nil {
				email := escape(c.Email)
				problem, ok := lookupProblem(err, lookupWording{
					notFound:    "no Slack account has the email " + email,
					deactivated: "the Slack account with the email " + email + " is deactivated",
					failed:      "could not look up " + email + " in Slack",
				})
				if !ok {
					return nil, fmt.Errorf("look up %s by email: %w", id, err)
				}
				ck.problem = problem
				out[id] = ck
				continue
			}
			ck.user = u
		}
		info, err := chat.LookupUser(ctx, ck.user)
		if err != nil {
			problem, ok := lookupProblem(err, lookupWording{
				notFound:    "Slack account " + escape(ck.user) + " not found",
				deactivated: "Slack account deactivated",
				failed:      "could not check the Slack account",
			})
			if !ok {
				return nil, fmt.Errorf("look up %s: %w", id, err)
			}
			ck.problem = problem
		} else if info.Deleted {
			ck.problem = "Slack account deactivated"
		}
		out[id] = ck
	}
	return out, nil
}

// lookupWording is how the review words a failed lookup of one contact:
// by email or by Slack member ID.
type lookupWording struct {
	notFound, deactivated string
	failed                string // followed by " (code)" for any other code
}

// lookupProblem turns a failed Slack user lookup into the problem the
// review reports, worded by w. ok is false for an error worth retrying
// (rate limit, network), which is no problem of the contact.
func lookupProblem(err error, w lookupWording) (problem string, ok bool) {
	code, ok := chatCode(err)
	switch {
	case !ok:
		return "", false
	case notFoundCodes[code]:
		return w.notFound, true
	case deactivatedCodes[code]:
		return w.deactivated, true
	}
	return fmt.Sprintf("%s (%s)", w.failed, escape(code)), true
}

// chatCode returns Slack's code of a permanent chat error; ok is false
// for an error worth retrying.
func chatCode(err error) (string, bool) {
	var ce *ChatError
	if errors.As(err, &ce) && ce.Permanent {
		return ce.Code, true
	}
	return "", false
}

// unackedRole is a role nobody acknowledged in the last real incident
// that paged it.
type unackedRole struct {
	role  string
	inc   *Incident
	pages int
}

// unackedRoles reads, for each role of p, the last real (not drill)
// incident that paged it, and returns the roles nobody acknowledged
// there. An incident still paging the role is not judged yet. A person
// paged alone ("@id", /incident page @someone) is no role of p and is
// not counted: the review is about the roles' contact lists, and one
// unanswered direct page of someone perhaps off shift says little about
// them (the incident's postmortem names them).
func unackedRoles(tx Tx, p *playbooks.Plan) ([]unackedRole, error) {
	no := false
	incs, err := tx.Incidents(Filter{Drills: &no, Limit: reviewIncidentScan})
	if err != nil {
		return nil, fmt.Errorf("read recent incidents: %w", err)
	}
	judged := map[string]bool{}
	var out []unackedRole
	for _, inc := range incs {
		for _, rp := range inc.Roles {
			if judged[rp.Role] || rp.Sent == 0 || p.Roles[rp.Role] == nil {
				continue
			}
			if !rp.Acked && !rp.Exhausted && inc.State == StateOpen {
				continue
			}
			judged[rp.Role] = true
			if !rp.Acked {
				out = append(out, unackedRole{role: rp.Role, inc: inc, pages: rp.Sent - rp.RunStart})
			}
		}
	}
	// In the plan's order of roles.
	slices.SortFunc(out, func(a, b unackedRole) int {
		return slices.Index(p.RoleOrder, a.role) - slices.Index(p.RoleOrder, b.role)
	})
	return out, nil
}

// sendReview delivers an OutReview: it checks the contacts, then records
// the review DM of each owner in the outbox (their own lanes, retried
// like any DM) with the message kept for Confirm's update.
func (d *delivery) sendReview(ctx context.Context, o Outgoing) (sendResult, error) {
	var res sendResult
	rb := o.Body.Review
	if rb == nil || rb.Round <= 0 {
		return res, &badMessage{reason: "review without a round"}
	}
	p := d.s.Plan()
	if p.Review == nil {
		return res, &badMessage{reason: "the plan has no review section any more", quiet: true}
	}
	var (
		conf    ReviewConfirmation
		last    reviewSent
		unacked []unackedRole
	)
	err := d.s.cfg.Store.View(ctx, func(tx Tx) error {
		if _, err := getJSON(tx, kvReviewConfirmed, &conf); err != nil {
			return err
		}
		if _, err := getJSON(tx, kvReviewSent, &last); err != nil {
			return err
		}
		var err error
		unacked, err = unackedRoles(tx, p)
		return err
	})
	if err != nil {
		return res, &storeError{err}
	}
	checks, err := d.checkContacts(ctx, p)
	if err != nil {
		return res, err
	}
	sentAt := d.now
	if last.Round == rb.Round {
		sentAt = last.At
	}
	m := reviewMessage(p, rb, checks, unacked, conf, sentAt)
	res.record = append(res.record, func(tx Tx) error {
		var last reviewSent
		if _, err := getJSON(tx, kvReviewSent, &last); err != nil {
			return err
		}
		if last.Round != rb.Round {
			// A newer round is on its way: this one's buttons would be
			// stale before anyone saw them.
			d.log.Info("contact-list review superseded before it was sent", "round", rb.Round, "newest", last.Round)
			return nil
		}
		last.Message = &m
		if err := putJSON(tx, kvReviewSent, last); err != nil {
			return err
		}
		for _, owner := range rb.Owners {
			if p.Contacts[owner] == nil {
				d.log.Warn("review owner is not a contact of the plan any more", "owner", owner)
				continue
			}
			out := &Outgoing{Lane: dmLane(owner), Kind: OutDM, Body: OutBody{
				Contact: owner, Message: &m, Ref: reviewRef(rb.Round, owner),
				Purpose: "send the contact-list review to " + owner,
			}}
			if err := tx.Enqueue(out); err != nil {
				return fmt.Errorf("enqueue the review DM to %s: %w", owner, err)
			}
		}
		return nil
	})
	return res, nil
}

// reviewFindings lists what looks wrong, one line each, in the order
// people fix them: contacts Slack does not know, roles with nobody to
// escalate to, contacts nobody pages, roles that did not answer.
func reviewFindings(p *playbooks.Plan, checks map[string]contactCheck, unacked []unackedRole) []string {
	var out []string
	for _, id := range p.ContactOrder {
		c := p.Contacts[id]
		if c == nil || checks[id].problem == "" {
			continue
		}
		out = append(out, fmt.Sprintf("%s (`%s`): %s", escape(c.Name), escape(id), checks[id].problem))
	}
	for _, role := range p.RoleOrder {
		switch cs := p.Roles[role]; len(cs) {
		case 0:
			out = append(out, fmt.Sprintf("the %s role has no contacts: nobody would be paged", escape(role)))
		case 1:
			out = append(out, fmt.Sprintf("the %s role has one contact (%s): nobody to escalate to", escape(role), reviewName(p, cs[0])))
		}
	}
	for _, id := range p.ContactOrder {
		if len(contactRoles(p, id)) == 0 && p.Contacts[id] != nil {
			out = append(out, fmt.Sprintf("%s is in no role: drbot never pages them", reviewName(p, id)))
		}
	}
	for _, u := range unacked {
		out = append(out, fmt.Sprintf("nobody acknowledged the %s role in incident #%d (%s, %s): check that its contacts can be reached",
			escape(u.role), u.inc.ID, stamp(u.inc.DeclaredAt, p), pmPages(u.pages)))
	}
	return out
}

func reviewName(p *playbooks.Plan, id string) string {
	if c := p.Contacts[id]; c != nil {
		return escape(c.Name)
	}
	return escape(id)
}

// contactRoles returns the roles a contact is in, in the plan's order.
func contactRoles(p *playbooks.Plan, id string) []string {
	var out []string
	for _, role := range p.RoleOrder {
		if slices.Contains(p.Roles[role], id) {
			out = append(out, role)
		}
	}
	return out
}

// The lines of the review DM that ask for an answer; confirmedReview
// takes them out once it is given.
const (
	reviewReminderLine = ":warning: *Reminder: the contact-list review is not confirmed yet.*\n"
	reviewAskLine      = "Are these still the right people, and can drbot reach them? Press *Confirm* if so, *Needs changes* if not.\n"
)

// confirmedReview is the review DM m once someone confirmed it: the
// contacts, roles and findings as they were sent, without the reminder,
// the request to press a button, or the buttons. It works on the message
// stored when the round was delivered, by an earlier drbot too.
func confirmedReview(m Message) Message {
	m.Text = strings.Replace(strings.TrimPrefix(m.Text, reviewReminderLine), reviewAskLine, "", 1)
	m.Buttons = nil
	return m
}

// reviewMessage is the review DM: the contacts with how to reach them and
// their roles, the roles in escalation order, what looks wrong, and the
// buttons.
func reviewMessage(p *playbooks.Plan, rb *ReviewBody, checks map[string]contactCheck, unacked []unackedRole, conf ReviewConfirmation, sentAt time.Time) Message {
	var b strings.Builder
	if rb.Overdue {
		b.WriteString(reviewReminderLine)
	}
	fmt.Fprintf(&b, "*Contact-list review: %s*\n", escape(p.Name))
	b.WriteString(reviewAskLine)

	b.WriteString("\n*Contacts*")
	for _, id := range p.ContactOrder {
		c := p.Contacts[id]
		if c == nil {
			continue
		}
		var reach []string
		if u := checks[id].user; u != "" {
			reach = append(reach, mention(u))
		}
		if c.Email != "" {
			reach = append(reach, escape(c.Email))
		}
		if c.Phone != "" {
			reach = append(reach, escape(c.Phone))
		}
		roles := contactRoles(p, id)
		line := fmt.Sprintf("\n• *%s* (`%s`)", escape(c.Name), escape(id))
		if len(reach) > 0 {
			line += ": " + strings.Join(reach, " · ")
		}
		if len(roles) > 0 {
			line += " — " + escape(strings.Join(roles, ", "))
		} else {
			line += " — no role"
		}
		if checks[id].problem != "" {
			line += " :warning:"
		}
		b.WriteString(line)
	}

	b.WriteString("\n\n*Roles* (escalation order)")
	for _, role := range p.RoleOrder {
		var names []string
		for _, id := range p.Roles[role] {
			names = append(names, reviewName(p, id))
		}
		who := "nobody"
		if len(names) > 0 {
			who = strings.Join(names, " → ")
		}
		fmt.Fprintf(&b, "\n• %s: %s", escape(role), who)
	}

	findings := reviewFindings(p, checks, unacked)
	if len(findings) == 0 {
		b.WriteString("\n\n*What looks wrong*: nothing drbot can see.")
	} else {
		fmt.Fprintf(&b, "\n\n*What looks wrong* (%d)", len(findings))
		for _, f := range findings {
			b.WriteString("\n• " + f)
		}
	}

	ctx := "Never confirmed before."
	if !conf.At.IsZero() {
		ctx = fmt.Sprintf("Last confirmed %s by %s.", stamp(conf.At, p), mention(conf.By))
	}
	if rb.By != "" {
		ctx += " Sent at the request of " + mention(rb.By) + "."
	}
	if p.Review.OverdueAfter > 0 {
		ctx += fmt.Sprintf(" Unconfirmed by %s, you are reminded again", stamp(sentAt.Add(p.Review.OverdueAfter), p))
		if p.Review.Channel != "" {
			ctx += " and #" + escape(strings.TrimPrefix(p.Review.Channel, "#")) + " is told"
		}
		ctx += "."
	}
	return Message{
		Text:    b.String(),
		Context: ctx,
		Buttons: []Button{
			{Label: "Confirm", Action: reviewAction(reviewConfirm, rb.Round), Style: "primary"},
			{Label: "Needs changes", Action: reviewAction(reviewNeedsPress, rb.Round)},
		},
	}
}
